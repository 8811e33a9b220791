package model

// The 2019-12 analytics copy: a copy of production data kept for metrics
// (Elasticsearch) whose "security protocols … were removed" by an employee
// on December 4 and found on December 26; emails, camera nicknames, Wi-Fi
// SSIDs, device information and some Alexa tokens of ≈2.4M users. The model
// keeps one document per account; an anonymous reader, who is never
// authorized, finds the copy and reads it.

// Replica is the analytics copy. Its documents are derived from the fleet
// (document a is account a's; it holds a token when Fleet.Integrations[a]),
// so only its access state is state.
type Replica struct {
	// Open: access control is off; anyone may read.
	Open bool
	// Anon counts the anonymous reads served (only with exposure-alarm).
	Anon uint32
}

// Step advances the replica by one input.
func (r *Replica) Step(env *Env, self Addr, in *Input, ctx Ctx) {
	switch in.Kind {
	case InFault:
		switch in.Fault.Kind {
		case FaultReplicaAuthOff:
			if env.P.Mitigations.Has(ConfigGuard) {
				// The change needs a second approval, and nobody approves
				// switching authorization off on a copy of production data.
				ctx.Observe(Obs{Kind: ObsConfigRefused, Fault: in.Fault, Reason: ReasonNoSecondApproval})
				return
			}
			r.Open = true
		case FaultReplicaAuthOn:
			r.Open = false
		}
	case InMsg:
		m := &in.Msg
		if m.Type != MsgReplicaRead {
			return
		}
		doc := m.Slot
		if !r.Open || int(doc) >= env.Fleet.Accounts {
			ctx.Observe(Obs{Kind: ObsReadRefused, Slot: doc, Account: m.Account, Reason: ReasonAuthRequired})
			ctx.Send(m.From, Msg{Type: MsgReplicaReply, Slot: doc}, Dur{})
			return
		}
		f := FieldEmail | FieldDevice | FieldSSID
		if int(doc) < len(env.Fleet.Integrations) && env.Fleet.Integrations[doc] && !env.P.Mitigations.Has(DataMinimisation) {
			f |= FieldToken
		}
		ctx.Observe(Obs{Kind: ObsRead, Slot: doc, Account: m.Account, Owners: MakeOwners(AccountID(doc)), Fields: f})
		ctx.Send(m.From, Msg{Type: MsgReplicaReply, Slot: doc, Flag: true}, Dur{})
		if env.P.Mitigations.Has(ExposureAlarm) && m.Account == NoAccount {
			r.Anon++
			if r.Anon >= env.P.Replica.AlarmAfter {
				r.Open = false
				ctx.Observe(Obs{Kind: ObsAlarm, Slot: r.Anon})
			}
		}
	}
}

// ReaderState is where the anonymous reader is.
type ReaderState uint8

const (
	ReaderProbing  ReaderState = iota // trying the replica now and then
	ReaderScanning                    // let in: reading one document after another
	ReaderDone                        // read everything, was locked out, or gave up
)

// Reader is the anonymous reader (an internet-wide scanner, then whoever
// downloads what it found). It is never authorized.
type Reader struct {
	State ReaderState
	// Next is the next document to read; Probes the refused probes so far.
	Next, Probes uint32
}

// TReader is the reader's only timer: its next probe or read.
const TReader uint16 = 0

// Step advances the reader by one input.
func (r *Reader) Step(env *Env, self Addr, in *Input, ctx Ctx) {
	rp := &env.P.Replica
	switch in.Kind {
	case InInit:
		ctx.SetTimer(TReader, rp.ProbeEvery)
	case InTimer:
		if r.State != ReaderDone {
			ctx.Send(ReplicaAddr, Msg{Type: MsgReplicaRead, Slot: r.Next, Account: NoAccount}, Dur{})
		}
	case InMsg:
		m := &in.Msg
		if m.Type != MsgReplicaReply {
			return
		}
		switch {
		case m.Flag:
			r.State = ReaderScanning
			r.Next++
			if int(r.Next) >= env.Fleet.Accounts {
				r.State = ReaderDone
				return
			}
			ctx.SetTimer(TReader, rp.ReadEvery)
		case r.State == ReaderScanning:
			r.State = ReaderDone // locked out again: it keeps what it has
		default:
			r.Probes++
			if rp.MaxProbes > 0 && r.Probes >= rp.MaxProbes {
				r.State = ReaderDone
				return
			}
			ctx.SetTimer(TReader, rp.ProbeEvery)
		}
	}
}

// AppendState appends the replica's state to a state encoding.
func (rp *Replica) AppendState(b []byte, w *StateWriter) []byte {
	b = w.Flag(b, rp.Open)
	return w.U(b, rp.Anon)
}

// ReadState reads what AppendState wrote into rp.
func (rp *Replica) ReadState(r *StateReader) { *rp = Replica{Open: r.Flag(), Anon: r.U()} }

// AppendState appends the reader's state to a state encoding; timer is
// its timer's bit.
func (rd *Reader) AppendState(b []byte, w *StateWriter, timer uint8) []byte {
	b = append(b, byte(rd.State)|timer<<2)
	b = w.U(b, rd.Next)
	return w.U(b, rd.Probes)
}

// ReadState reads what AppendState wrote into rd and returns the timer bit.
func (rd *Reader) ReadState(r *StateReader) (timer uint8) {
	f := r.Byte()
	*rd = Reader{State: ReaderState(f & 3), Next: r.U(), Probes: r.U()}
	return f >> 2 & 1
}
