package model

import "time"

// Gateway admits camera connections and relays uploads and acknowledgements.
// During an outage it is down and everything sent to it is lost.
type Gateway struct {
	Down      bool
	Refilling bool  // the admission refill timer is armed
	Tokens    int32 // admission tokens (gateway-admission)
}

// TRefill is the gateway's only timer.
const TRefill uint16 = 0

// refillTick is the admission bucket's refill period and amount.
func refillTick(p *Params) (time.Duration, int32) {
	tick := 100 * time.Millisecond
	if p.AdmissionRate > 0 && time.Duration(float64(time.Second)/p.AdmissionRate) > tick {
		tick = time.Duration(float64(time.Second) / p.AdmissionRate)
	}
	n := int32(p.AdmissionRate * tick.Seconds())
	if n < 1 {
		n = 1
	}
	return tick, n
}

// Step advances the gateway by one input.
func (g *Gateway) Step(env *Env, self Addr, in *Input, ctx Ctx) {
	admission := env.P.Mitigations.Has(GatewayAdmission)
	switch in.Kind {
	case InInit:
		if admission {
			g.Tokens = env.P.AdmissionBurst
		}
	case InTimer:
		_, n := refillTick(env.P)
		g.Tokens += n
		if g.Tokens >= env.P.AdmissionBurst {
			g.Tokens = env.P.AdmissionBurst
			g.Refilling = false
			return
		}
		tick, _ := refillTick(env.P)
		ctx.SetTimer(TRefill, Const(tick))
	case InFault:
		switch in.Fault.Kind {
		case FaultGatewayDown:
			g.Down = true
		case FaultGatewayUp:
			g.Down = false
		}
	case InMsg:
		if g.Down {
			return
		}
		m := in.Msg
		switch m.Type {
		case MsgConnect:
			if admission {
				if g.Tokens <= 0 {
					ctx.Send(m.From, Msg{Type: MsgReject, Gen: m.Gen}, Dur{})
					return
				}
				g.Tokens--
				if !g.Refilling {
					g.Refilling = true
					tick, _ := refillTick(env.P)
					ctx.SetTimer(TRefill, Const(tick))
				}
			}
			ctx.Send(m.From, Msg{Type: MsgAccept, Gen: m.Gen}, Dur{})
		case MsgUpload:
			ctx.Send(WorkerAddr(int(m.Ev.Device)%env.P.Workers), m, Dur{})
		case MsgAck:
			ctx.Send(CameraAddr(m.Ev.Device), m, Dur{})
		}
	}
}

// AppendState appends the gateway's state to a state encoding; timer is
// its refill timer's bit.
func (g *Gateway) AppendState(b []byte, w *StateWriter, timer uint8) []byte {
	b = append(b, boolByte(g.Down)|boolByte(g.Refilling)<<1|timer<<2)
	return w.U(b, uint32(g.Tokens))
}

// ReadState reads what AppendState wrote into g and returns the timer bit.
func (g *Gateway) ReadState(r *StateReader) (timer uint8) {
	f := r.Byte()
	g.Down, g.Refilling = f&1 != 0, f&2 != 0
	g.Tokens = int32(r.U())
	return f >> 2 & 1
}
