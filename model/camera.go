package model

// CamState is where a camera is in its connection life cycle.
type CamState uint8

const (
	CamOff        CamState = iota // before Init
	CamBooting                    // powering on; connects when TConn fires
	CamSleeping                   // battery camera asleep (no link)
	CamWaking                     // battery camera woken by motion
	CamConnecting                 // connect attempt Gen sent, waiting
	CamBackoff                    // waiting before the next attempt
	CamConnected                  // link up, uploading
)

var camStateNames = [...]string{"off", "booting", "sleeping", "waking", "connecting", "backoff", "connected"}

func (s CamState) String() string {
	if int(s) < len(camStateNames) {
		return camStateNames[s]
	}
	return "?"
}

// Camera timers.
const (
	TCapture uint16 = iota // next motion event
	TConn                  // boot, wake, backoff or connect timeout (one at a time)
	TUpload                // upload acknowledgement timeout
	numCamTimers
)

// Camera is one device. Its local buffer is the contiguous range of sequence
// numbers [BufLo, Next) plus at most one event taken out of it for upload
// (InflightSeq), so the state stays a fixed-size value however many events
// it holds.
type Camera struct {
	Profile     uint8
	State       CamState
	Attempt     uint8 // reconnect attempts since the link was last up
	Retries     uint8 // resends of the in-flight upload on this link
	Capturing   bool
	Inflight    bool
	Video       bool // this camera records event clips
	Gen         uint32
	InflightSeq uint32
	BufLo, Next uint32
	Stamp       Owners // accounts this camera is bound to (stamped-media)
}

// Buffered is the number of events held, in flight included.
func (c *Camera) Buffered() uint32 {
	n := c.Next - c.BufLo
	if c.Inflight {
		n++
	}
	return n
}

func (c *Camera) backoffPolicy(env *Env) Backoff {
	if env.P.Mitigations.Has(JitteredBackoff) {
		return env.P.JitterBackoff
	}
	return env.Fleet.Profiles[c.Profile].Backoff
}

// Step advances camera d by one input.
func (c *Camera) Step(env *Env, self Addr, in *Input, ctx Ctx) {
	d := DeviceID(self.Index)
	p := &env.Fleet.Profiles[c.Profile]
	switch in.Kind {
	case InInit:
		c.Capturing = env.P.MaxEventsPerCamera == 0 || c.Next < env.P.MaxEventsPerCamera
		if c.Capturing && p.MotionPerHour > 0 {
			ctx.SetTimer(TCapture, p.CaptureDur())
		}
		switch {
		case p.AlwaysOn && env.P.StartConnected:
			c.State = CamConnected
			ctx.Observe(Obs{Kind: ObsConnOK, Device: d, Gen: c.Gen})
		case p.AlwaysOn:
			c.State = CamBooting
			ctx.SetTimer(TConn, p.Boot)
		default:
			c.State = CamSleeping
		}
	case InTimer:
		switch in.Timer {
		case TCapture:
			c.capture(env, p, d, ctx)
		case TConn:
			c.connTimer(env, p, d, ctx)
		case TUpload:
			if !c.Inflight || c.State != CamConnected {
				return
			}
			c.Retries++
			if c.Retries > p.MaxUploadRetries {
				// The link is presumed dead: reconnect.
				ctx.CancelTimer(TUpload)
				ctx.Observe(Obs{Kind: ObsLinkDown, Device: d, Reason: ReasonUploadRetries})
				c.Attempt = 0
				c.backoff(env, ctx)
				return
			}
			c.transmit(p, d, ctx)
		}
	case InMsg:
		m := &in.Msg
		switch m.Type {
		case MsgAccept:
			if c.State != CamConnecting || m.Gen != c.Gen {
				return // a stale attempt's answer
			}
			ctx.CancelTimer(TConn)
			c.State = CamConnected
			c.Attempt = 0
			ctx.Observe(Obs{Kind: ObsConnOK, Device: d, Gen: c.Gen})
			if c.Inflight {
				c.Retries = 0
				c.transmit(p, d, ctx)
			} else {
				c.sendNext(p, d, ctx)
			}
		case MsgReject:
			if c.State != CamConnecting || m.Gen != c.Gen {
				return
			}
			ctx.CancelTimer(TConn)
			ctx.Observe(Obs{Kind: ObsConnReject, Device: d, Gen: c.Gen})
			c.backoff(env, ctx)
		case MsgAck:
			if !c.Inflight || m.Ev.Seq != c.InflightSeq {
				return // a duplicate's acknowledgement
			}
			c.Inflight = false
			c.Retries = 0
			ctx.CancelTimer(TUpload)
			if c.State == CamConnected {
				c.sendNext(p, d, ctx)
			}
		}
	case InFault:
		switch in.Fault.Kind {
		case FaultLinkDown:
			if c.State != CamConnected && c.State != CamConnecting {
				return
			}
			ctx.CancelTimer(TUpload)
			ctx.Observe(Obs{Kind: ObsLinkDown, Device: d, Reason: ReasonOutage})
			// The loss is noticed within one keepalive interval; then the
			// first attempt, then the profile's backoff.
			c.State = CamBackoff
			c.Attempt = 0
			ctx.SetTimer(TConn, Uniform(0, p.Keepalive))
		case FaultQuiesce:
			c.Capturing = false
			ctx.CancelTimer(TCapture)
		case FaultTransfer:
			// Handing a camera to another account means resetting and setting it
			// up again: its buffered events are lost (recorded), and from now on
			// it stamps the new owners into its media.
			if c.Inflight {
				ctx.CancelTimer(TUpload)
				ctx.Observe(Obs{Kind: ObsDrop, Device: d, Seq: c.InflightSeq, Reason: ReasonRebind})
				c.Inflight = false
			}
			for ; c.BufLo < c.Next; c.BufLo++ {
				ctx.Observe(Obs{Kind: ObsDrop, Device: d, Seq: c.BufLo, Reason: ReasonRebind})
			}
			c.Stamp = in.Fault.Owners
		}
	}
}

func (c *Camera) capture(env *Env, p *Profile, d DeviceID, ctx Ctx) {
	if !c.Capturing {
		return
	}
	seq := c.Next
	c.Next++
	ctx.Observe(Obs{Kind: ObsCapture, Device: d, Seq: seq, Flag: c.Video})
	if c.Buffered() > p.Buffer && c.Next > c.BufLo {
		ctx.Observe(Obs{Kind: ObsDrop, Device: d, Seq: c.BufLo, Reason: ReasonBufferFull})
		c.BufLo++
	}
	if env.P.MaxEventsPerCamera != 0 && c.Next >= env.P.MaxEventsPerCamera {
		c.Capturing = false
	} else {
		ctx.SetTimer(TCapture, p.CaptureDur())
	}
	switch c.State {
	case CamConnected:
		if !c.Inflight {
			c.sendNext(p, d, ctx)
		}
	case CamSleeping:
		c.State = CamWaking
		ctx.SetTimer(TConn, p.WakeLatency)
	}
}

// connTimer handles TConn: the end of a boot, wake or backoff wait starts an
// attempt; in CamConnecting it is the attempt's timeout.
func (c *Camera) connTimer(env *Env, p *Profile, d DeviceID, ctx Ctx) {
	switch c.State {
	case CamBooting, CamWaking, CamBackoff:
		c.Gen++
		c.State = CamConnecting
		ctx.Send(GatewayAddr, Msg{Type: MsgConnect, Gen: c.Gen}, Dur{})
		ctx.SetTimer(TConn, Const(p.ConnectTimeout))
		ctx.Observe(Obs{Kind: ObsConnTry, Device: d, Gen: c.Gen})
	case CamConnecting:
		// The attempt timed out (not traced: the next conn-try shows it, and
		// during an outage these would be half of all lines).
		c.backoff(env, ctx)
	}
}

func (c *Camera) backoff(env *Env, ctx Ctx) {
	if env.P.MaxConnectAttempt == 0 || c.Attempt < env.P.MaxConnectAttempt {
		c.Attempt++
	}
	c.State = CamBackoff
	ctx.SetTimer(TConn, c.backoffPolicy(env).Delay(int(c.Attempt)))
}

// sendNext takes the oldest buffered event for upload, or lets a battery
// camera sleep when there is nothing left.
func (c *Camera) sendNext(p *Profile, d DeviceID, ctx Ctx) {
	if c.Inflight {
		return
	}
	if c.BufLo == c.Next {
		if !p.AlwaysOn {
			c.State = CamSleeping
			ctx.Observe(Obs{Kind: ObsSleep, Device: d})
		}
		return
	}
	c.InflightSeq = c.BufLo
	c.BufLo++
	c.Inflight = true
	c.Retries = 0
	c.transmit(p, d, ctx)
}

func (c *Camera) transmit(p *Profile, d DeviceID, ctx Ctx) {
	ev := EventRef{Device: d, Seq: c.InflightSeq, Video: c.Video, Stamp: c.Stamp}
	ctx.Send(GatewayAddr, Msg{Type: MsgUpload, Gen: c.Gen, Ev: ev}, p.UploadDur())
	ctx.Observe(Obs{Kind: ObsUpload, Device: d, Seq: c.InflightSeq, Gen: uint32(c.Retries)})
	if p.UploadTimeout > 0 {
		ctx.SetTimer(TUpload, Const(p.UploadTimeout))
	}
}

// AppendState appends the camera's state to a state encoding: timers are
// its NumTimers timer bits, gen ranks its connect attempt numbers. Profile
// and Video are fixed for a run and not written.
func (c *Camera) AppendState(b []byte, w *StateWriter, timers uint8, gen *Ranker) []byte {
	b = append(b, byte(c.State), c.Attempt, boolByte(c.Capturing)|boolByte(c.Inflight)<<1|timers<<2)
	b = w.U(b, gen.Rank(c.Gen))
	if c.Inflight {
		b = w.U(b, c.InflightSeq)
		b = append(b, c.Retries)
	}
	b = w.U(b, c.BufLo)
	b = w.U(b, c.Next)
	return w.Owners(b, c.Stamp)
}

// ReadState reads what AppendState wrote into c and returns the timer bits.
func (c *Camera) ReadState(r *StateReader) (timers uint8) {
	c.State = CamState(r.Byte())
	c.Attempt = r.Byte()
	f := r.Byte()
	c.Capturing, c.Inflight = f&1 != 0, f&2 != 0
	c.Gen = r.U()
	c.InflightSeq, c.Retries = 0, 0
	if c.Inflight {
		c.InflightSeq = r.U()
		c.Retries = r.Byte()
	}
	c.BufLo = r.U()
	c.Next = r.U()
	c.Stamp = r.Owners()
	return f >> 2 & 7
}
