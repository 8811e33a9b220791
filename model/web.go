package model

// The 2023-09-08 web live-view incident: "for about 40 minutes, up to 2,300
// users who logged in to the online web viewing portal may have seen cameras
// from one of the 10 affected users" ("web caching issue"). The mechanism is
// assumed: the portal caches the live-view page it builds for a session; the
// key normally includes the session's account, and while the fault is on it
// omits it, so the page built for one account is served to everyone who
// asks until it expires.

// WebEntry is the response cached under the shared key.
type WebEntry struct {
	Present bool
	// For is the account the page was built for.
	For AccountID
	// Page is the camera the page streams: Device, and Stamp, the accounts
	// the camera is bound to (what stamped-media compares).
	Page EventRef
}

// Web is the portal. With the account in the cache key, a cached page can
// only reach the account it was built for, so those entries are not state:
// the model reads the registry for them (a hit would return the same
// answer). Only the entry under the shared key, which the fault creates, is.
type Web struct {
	// Shared: the mapping fault is on; the key omits the account.
	Shared bool
	Entry  WebEntry
}

// TWebTTL is the portal's only timer: the shared entry's expiry.
const TWebTTL uint16 = 0

// Step advances the portal by one input.
func (w *Web) Step(env *Env, self Addr, in *Input, ctx Ctx) {
	switch in.Kind {
	case InFault:
		switch in.Fault.Kind {
		case FaultWebShared:
			w.Shared = true
		case FaultWebKeyed:
			// The shared key is gone with the fix: its entry is unreachable.
			w.Shared = false
			w.Entry = WebEntry{}
			ctx.CancelTimer(TWebTTL)
		case FaultLogin:
			w.login(env, in.Fault.Account, in.Fault.Session, ctx)
		}
	case InTimer:
		w.Entry = WebEntry{}
	case InMsg:
		m := &in.Msg
		switch m.Type {
		case MsgWebPage:
			ctx.Observe(Obs{Kind: ObsWebLookup, Slot: m.Slot, Account: m.Account, Device: m.Ev.Device,
				Owners: MakeOwners(m.Account), Outcome: OutRegistry, Flag: m.Flag})
			if m.Flag && w.Shared && m.Ev.Stamp.N > 0 {
				// Cache-aside: the page is stored under the key it was asked
				// for, which omitted the account.
				w.Entry = WebEntry{Present: true, For: m.Account, Page: m.Ev}
				ctx.SetTimer(TWebTTL, env.P.Web.TTL)
			}
			w.serve(env, m.Account, m.Slot, m.Ev, ctx)
		case MsgViewCheckReply:
			if m.Flag {
				ctx.Observe(Obs{Kind: ObsStream, Slot: m.Slot, Device: m.Ev.Device, Account: m.Account})
			} else {
				ctx.Observe(Obs{Kind: ObsStreamRefused, Slot: m.Slot, Device: m.Ev.Device, Account: m.Account,
					Reason: ReasonRegistryDenied})
			}
		}
	}
}

// login serves session s of account u its live-view page.
func (w *Web) login(env *Env, u AccountID, s uint32, ctx Ctx) {
	mit := env.P.Mitigations
	// bypass-cache-ownership: which cameras an account has is a user–device
	// relationship; the fix reads it from the registry, never a cache.
	shared := w.Shared && !mit.Has(BypassCacheOwnership)
	if shared && w.Entry.Present {
		e := w.Entry
		o := Obs{Kind: ObsWebLookup, Slot: s, Account: u, Device: e.Page.Device, Owners: MakeOwners(e.For),
			Outcome: OutCache, Flag: true}
		if mit.Has(KeyInValue) && e.For != u {
			// The cached page names the account it was built for: a page
			// for someone else is a miss.
			o.Reason = ReasonKeyMismatch
			ctx.Observe(o)
		} else {
			ctx.Observe(o)
			w.serve(env, u, s, e.Page, ctx)
			return
		}
	}
	ctx.Send(RegistryAddr, Msg{Type: MsgWebPageReq, Account: u, Slot: s, Flag: shared}, Dur{})
}

// serve starts the live stream of page's camera for session s of account u.
func (w *Web) serve(env *Env, u AccountID, s uint32, page EventRef, ctx Ctx) {
	if page.Stamp.N == 0 {
		return // the account has no camera
	}
	switch {
	case env.P.Mitigations.Has(StampedMedia) && !page.Stamp.Has(u):
		// VerifiedView: the camera stamps its owners into the stream too.
		ctx.Observe(Obs{Kind: ObsStreamRefused, Slot: s, Device: page.Device, Account: u, Reason: ReasonStampMismatch})
	case env.P.Mitigations.Has(VerifyOnView):
		ctx.Send(RegistryAddr, Msg{Type: MsgViewCheck, Ev: page, Account: u, View: ViewLive, Slot: s}, Dur{})
	default:
		ctx.Observe(Obs{Kind: ObsStream, Slot: s, Device: page.Device, Account: u})
	}
}

// AppendState appends the portal's state to a state encoding; timer is
// its shared entry's expiry timer bit.
func (we *Web) AppendState(b []byte, w *StateWriter, timer uint8) []byte {
	b = append(b, boolByte(we.Shared)|boolByte(we.Entry.Present)<<1|timer<<2)
	if we.Entry.Present {
		b = w.Acct(b, we.Entry.For)
		b = w.Ev(b, we.Entry.Page)
	}
	return b
}

// ReadState reads what AppendState wrote into we and returns the timer bit.
func (we *Web) ReadState(r *StateReader) (timer uint8) {
	f := r.Byte()
	*we = Web{Shared: f&1 != 0}
	if f&2 != 0 {
		we.Entry = WebEntry{Present: true, For: AccountID(r.U()), Page: r.Ev()}
	}
	return f >> 2 & 1
}
