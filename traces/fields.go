package traces

import (
	"fmt"
	"math/bits"

	"github.com/stormproof/stormproof/model"
)

// field is one key of an event line, as a bit of a set.
type field uint32

const (
	fA field = 1 << iota
	fDev
	fSeq
	fAcct
	fConn
	fGen
	fTry
	fTok
	fSlot
	fSess
	fDoc
	fReads
	fTo
	fFields
	fKey
	fVer
	fOwn
	fVal
	fOp
	fOut
	fWhy
	fView
	fFault
	fPeer
	numFields = iota
)

var fieldNames = [numFields]string{"a", "dev", "seq", "acct", "conn", "gen", "try", "tok", "slot", "sess", "doc",
	"reads", "to", "fields", "key", "ver", "own", "val", "op", "out", "why", "view", "fault", "peer"}

// fieldOf is key's bit (0 for "t", "k" and keys a later minor version may
// add). A switch: it runs for every key of every line.
func fieldOf(key string) field {
	switch key {
	case "a":
		return fA
	case "dev":
		return fDev
	case "seq":
		return fSeq
	case "acct":
		return fAcct
	case "conn":
		return fConn
	case "gen":
		return fGen
	case "try":
		return fTry
	case "tok":
		return fTok
	case "slot":
		return fSlot
	case "sess":
		return fSess
	case "doc":
		return fDoc
	case "reads":
		return fReads
	case "to":
		return fTo
	case "fields":
		return fFields
	case "key":
		return fKey
	case "ver":
		return fVer
	case "own":
		return fOwn
	case "val":
		return fVal
	case "op":
		return fOp
	case "out":
		return fOut
	case "why":
		return fWhy
	case "view":
		return fView
	case "fault":
		return fFault
	case "peer":
		return fPeer
	}
	return 0
}

// required lists, per kind, the fields an event of that kind must carry
// (traces/SCHEMA.md, "Required fields"). The actor is required where the
// judge keys a history by it: a worker's cache connections and registry
// slots, and its lookups.
var required = func() [256]field {
	var r [256]field
	set := func(k model.ObsKind, f field) { r[k] = f }
	ev := fDev | fSeq
	set(model.ObsOwn, fDev|fOwn|fVer)
	set(model.ObsCapture, ev)
	set(model.ObsDrop, ev|fWhy)
	set(model.ObsConnTry, fDev|fGen)
	set(model.ObsConnOK, fDev|fGen)
	set(model.ObsConnReject, fDev|fGen)
	set(model.ObsLinkDown, fDev|fWhy)
	set(model.ObsSleep, fDev)
	set(model.ObsUpload, ev|fTry)
	set(model.ObsCacheCall, fA|fConn|fGen|fTok|fOp|fKey)
	set(model.ObsCacheRet, fA|fConn|fGen|fTok|fOp|fKey|fOut)
	set(model.ObsCacheClose, fA|fConn|fGen)
	set(model.ObsCacheServe, fPeer|fConn|fGen|fTok|fOp|fKey)
	set(model.ObsRegCall, fA|fSlot|fKey)
	set(model.ObsRegRet, fA|fSlot|fKey|fOwn|fVer)
	set(model.ObsLookup, fA|ev|fSlot|fOut|fOwn|fVer)
	set(model.ObsStore, ev)
	set(model.ObsDeliver, ev|fAcct)
	set(model.ObsRefused, ev|fAcct|fWhy)
	set(model.ObsTap, ev|fAcct|fView)
	set(model.ObsView, ev|fAcct|fView)
	set(model.ObsViewRefused, ev|fAcct|fView|fWhy)
	set(model.ObsWitness, ev|fAcct)
	set(model.ObsFault, fFault)
	set(model.ObsWebLookup, fSess|fAcct|fDev|fOut|fOwn)
	set(model.ObsStream, fSess|fDev|fAcct)
	set(model.ObsStreamRefused, fSess|fDev|fAcct|fWhy)
	set(model.ObsNotify, ev|fOwn|fTo)
	set(model.ObsRead, fDoc|fAcct|fOwn|fFields)
	set(model.ObsReadRefused, fDoc|fAcct|fWhy)
	set(model.ObsAlarm, fReads)
	set(model.ObsConfigRefused, fFault|fWhy)
	return r
}()

// missing names the first required field of o's kind absent from seen, or "".
func missing(o *model.Obs, seen field) string {
	need := required[o.Kind]
	switch {
	case o.Kind == model.ObsFault && o.Fault.Kind == model.FaultTransfer:
		need |= fDev | fOwn
	case o.Kind == model.ObsFault && o.Fault.Kind == model.FaultLogin:
		need |= fAcct | fSess
	case o.Kind == model.ObsCacheRet && o.Outcome == model.OutHit:
		need |= fVal
	case o.Kind == model.ObsCacheCall && o.Op == model.OpSet:
		need |= fVal
	}
	if m := need &^ seen; m != 0 {
		return fieldNames[bits.TrailingZeros32(uint32(m))]
	}
	return ""
}

// RequiredFields lists the fields an event of kind k must carry (for the
// schema's documentation and its test).
func RequiredFields(k model.ObsKind) []string {
	var out []string
	for i, n := range fieldNames {
		if required[k]&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// checkRanges checks every id of o against the header's fleet: device ids
// (dev, key, ofkey, a value's dev, a camera actor) below Devices, account
// ids (acct, owner sets, an app actor) below Accounts.
func checkRanges(h *Header, o *model.Obs, seen field) string {
	dev := func(name string, d model.DeviceID) string {
		if int64(d) >= int64(h.Devices) {
			return fmt.Sprintf("field %q: device %d is outside the fleet (the header declares %d devices: ids 0..%d)", name, d, h.Devices, h.Devices-1)
		}
		return ""
	}
	acct := func(name string, a model.AccountID) string {
		if a != model.NoAccount && int64(a) >= int64(h.Accounts) {
			return fmt.Sprintf("field %q: account %d is outside the fleet (the header declares %d accounts: ids 0..%d)", name, a, h.Accounts, h.Accounts-1)
		}
		return ""
	}
	owners := func(name string, ow model.Owners) string {
		for _, a := range ow.IDs[:ow.N] {
			if m := acct(name, a); m != "" {
				return m
			}
		}
		return ""
	}
	if seen&fDev != 0 {
		if m := dev("dev", o.Device); m != "" {
			return m
		}
	}
	if seen&fKey != 0 {
		if m := dev("key", o.Key); m != "" {
			return m
		}
	}
	if o.ReplyOf != 0 || o.ReplyKey != 0 {
		if m := dev("ofkey", o.ReplyKey); m != "" {
			return m
		}
	}
	if seen&fVal != 0 {
		if m := dev("val.dev", o.Val.Device); m != "" {
			return m
		}
		if m := owners("val.own", o.Val.Owners); m != "" {
			return m
		}
	}
	if seen&fAcct != 0 {
		if m := acct("acct", o.Account); m != "" {
			return m
		}
	}
	if seen&fOwn != 0 {
		if m := owners("own", o.Owners); m != "" {
			return m
		}
	}
	if seen&fTo != 0 {
		if m := owners("to", o.To); m != "" {
			return m
		}
	}
	for _, a := range [2]model.Addr{o.Actor, o.Peer} {
		switch a.Kind {
		case model.KindCamera:
			if m := dev("a", model.DeviceID(a.Index)); m != "" {
				return m
			}
		case model.KindApp:
			if m := acct("a", model.AccountID(a.Index)); m != "" {
				return m
			}
		}
	}
	return ""
}
