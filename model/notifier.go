package model

// The 2020-06-04 notification incident: "a notification-service change sent
// motion/person notifications to wrong customers for about an hour". No
// cache is involved. The mechanism is assumed: the notifier joins each
// notification with its recipients, and the defective deployment's join is
// off by one — each notification gets the recipients of the one before it
// (a recipient variable that outlives its loop iteration).

// Notifier is the notification service between the ingest workers and the
// apps. It exists only when Params.Notifier is set; then workers hand it
// the recipients they resolved instead of pushing themselves.
type Notifier struct {
	// Defect: the defective deployment is live.
	Defect bool
	// Last: the recipients of the previous notification, which the
	// defective join hands the next one.
	Last Owners
}

// Step advances the notifier by one input.
func (n *Notifier) Step(env *Env, self Addr, in *Input, ctx Ctx) {
	switch in.Kind {
	case InFault:
		switch in.Fault.Kind {
		case FaultNotifierDefect:
			n.Defect, n.Last = true, Owners{}
		case FaultNotifierFixed:
			n.Defect, n.Last = false, Owners{}
		}
	case InMsg:
		m := &in.Msg
		if m.Type != MsgNotify {
			return
		}
		to := m.Owners
		if n.Defect {
			to, n.Last = n.Last, m.Owners
		}
		ctx.Observe(Obs{Kind: ObsNotify, Device: m.Ev.Device, Seq: m.Ev.Seq, Owners: m.Owners, To: to, Flag: n.Defect})
		for _, a := range to.IDs[:to.N] {
			if env.P.Mitigations.Has(StampedMedia) && !m.Ev.Stamp.Has(a) {
				// End to end: the last hop compares the media's stamp with
				// the account it is about to reach.
				ctx.Observe(Obs{Kind: ObsRefused, Device: m.Ev.Device, Seq: m.Ev.Seq, Account: a, Reason: ReasonStampMismatch})
				continue
			}
			ctx.Send(AppAddr(a), Msg{Type: MsgPush, Ev: m.Ev, Account: a}, Dur{})
		}
	}
}

// AppendState appends the notifier's state to a state encoding.
func (n *Notifier) AppendState(b []byte, w *StateWriter) []byte {
	b = w.Flag(b, n.Defect)
	return w.Owners(b, n.Last)
}

// ReadState reads what AppendState wrote into n.
func (n *Notifier) ReadState(r *StateReader) { *n = Notifier{Defect: r.Flag(), Last: r.Owners()} }
