package render

import (
	"bufio"
	"errors"
	"io"
	"strconv"

	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/traces"
)

// Perfetto writes a whole run as Chrome trace-event JSON, which
// ui.perfetto.dev and chrome://tracing open: one track per actor (cameras,
// accounts, each worker's cache connections, the cloud's servers), cache
// requests as spans from call to return, a camera's time offline as a span,
// captures, uploads, pushes, taps and views as instants (foreign ones named
// so), faults as global instants, and counters of cameras online and
// foreign pushes. Time is the trace's virtual time (an untimed engine's
// step n is drawn at n ms). It streams: memory follows the open spans.
//
// The invariants that mark foreign pushes and views are model.Monitor's.
func Perfetto(w io.Writer, tr *traces.Reader) error {
	return PerfettoStory(w, tr, PerfettoOptions{})
}

// PerfettoOptions says which causal story a Perfetto render marks, and
// whether it draws only that story's events.
type PerfettoOptions struct {
	// Story, when set, is drawn as its own process, named "violation: "
	// and the violation: a track for the whole story, then one track per
	// step ("step N: ...", numbered as the timeline numbers them), each
	// step a slice at its trace time, joined to the next by a flow arrow
	// (trace-event flow events "s" and "f", category "story", id N).
	Story *traces.Story
	// Slice draws, besides the story's tracks, only the events of the
	// trace lines the story cites (no counters, no other actors' events).
	Slice bool
}

// PerfettoStory is Perfetto with the causal story marked (and, with
// o.Slice, only the story's events drawn). The same trace and story give
// the same bytes.
func PerfettoStory(w io.Writer, tr *traces.Reader, o PerfettoOptions) error {
	p := &perf{w: bufio.NewWriterSize(w, 1<<20), tids: map[model.Addr]int{}, conns: map[[2]uint32]int{},
		open: map[[3]uint32]openCall{}, offline: map[model.DeviceID]offline{}, mon: model.NewMonitor(tr.Header.Devices),
		lastSec: -1, slice: o.Slice && o.Story != nil}
	if o.Story != nil {
		p.lines = map[int]bool{}
		for _, st := range o.Story.Steps {
			if st.Line > 0 {
				p.lines[st.Line] = true
			}
		}
	}
	p.mon.Partial = tr.Header.Detail == "slice"
	p.mon.Rule, _ = model.ParseAuthRule(tr.Header.Authorized) // the reader refused an unknown rule
	if tr.Header.Engine == "explore" {
		p.scale = 1e6 // one step per millisecond
	} else {
		p.scale = 1
	}
	p.raw(`{"displayTimeUnit":"ms","otherData":{"scenario":`)
	p.str(tr.Header.Scenario)
	p.raw(`,"design":`)
	p.str(tr.Header.Design)
	p.raw(`,"seed":`)
	p.raw(strconv.FormatUint(tr.Header.Seed, 10))
	p.raw(`},"traceEvents":[`)
	for pid, name := range []string{"", "cloud", "cameras", "accounts"} {
		if pid > 0 {
			p.meta(pid, 0, "process_name", name)
		}
	}
	var ev traces.Event
	for {
		err := tr.Next(&ev)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		p.line = tr.Line()
		p.skip = p.slice && !p.lines[p.line]
		if err := p.event(ev.T, &ev.Obs); err != nil {
			return &traces.Error{Line: tr.Line(), Msg: err.Error()}
		}
	}
	p.skip = false
	if o.Story != nil {
		p.story(o.Story)
	}
	p.raw("\n]}\n")
	return p.w.Flush()
}

type openCall struct {
	t    model.Time
	line int
	name string
}

type offline struct {
	t        model.Time
	attempts int
}

type perf struct {
	w       *bufio.Writer
	n       int
	scale   int64
	tids    map[model.Addr]int
	conns   map[[2]uint32]int
	open    map[[3]uint32]openCall
	offline map[model.DeviceID]offline
	mon     *model.Monitor
	foreign int
	lastSec int64
	b       []byte
	// line is the trace line being drawn; lines are those the story
	// cites; with slice, an event of another line is skipped.
	line  int
	lines map[int]bool
	slice bool
	skip  bool
}

func (p *perf) raw(s string) { p.w.WriteString(s) }

func (p *perf) str(s string) {
	p.b = strconv.AppendQuote(p.b[:0], s)
	p.w.Write(p.b)
}

func (p *perf) sep() {
	if p.n > 0 {
		p.w.WriteByte(',')
	}
	p.w.WriteByte('\n')
	p.n++
}

// ts writes virtual nanoseconds as trace-event microseconds.
func (p *perf) ts(t model.Time) {
	ns := int64(t) * p.scale
	p.b = strconv.AppendInt(p.b[:0], ns/1000, 10)
	p.b = append(p.b, '.')
	r := ns % 1000
	p.b = append(p.b, byte('0'+r/100), byte('0'+r/10%10), byte('0'+r%10))
	p.w.Write(p.b)
}

func (p *perf) meta(pid, tid int, what, name string) {
	if p.skip {
		return
	}
	p.sep()
	p.raw(`{"ph":"M","pid":`)
	p.raw(strconv.Itoa(pid))
	p.raw(`,"tid":`)
	p.raw(strconv.Itoa(tid))
	p.raw(`,"name":"`)
	p.raw(what)
	p.raw(`","args":{"name":`)
	p.str(name)
	p.raw(`}}`)
}

// track returns the (pid, tid) of an actor, naming it on first use (not
// while an event is skipped).
func (p *perf) track(a model.Addr) (int, int) {
	if p.skip {
		return 0, 0
	}
	pid := 1
	switch a.Kind {
	case model.KindCamera:
		pid = 2
	case model.KindApp:
		pid = 3
	}
	tid, ok := p.tids[a]
	if !ok {
		tid = len(p.tids) + len(p.conns) + 1
		p.tids[a] = tid
		p.meta(pid, tid, "thread_name", a.String())
	}
	return pid, tid
}

func (p *perf) connTrack(w uint32, conn uint16) int {
	if p.skip {
		return 0
	}
	k := [2]uint32{w, uint32(conn)}
	tid, ok := p.conns[k]
	if !ok {
		tid = len(p.tids) + len(p.conns) + 1
		p.conns[k] = tid
		p.meta(1, tid, "thread_name", model.WorkerAddr(int(w)).String()+" conn "+strconv.Itoa(int(conn)))
	}
	return tid
}

func (p *perf) instant(pid, tid int, t model.Time, name, cat string, global bool) {
	if p.skip {
		return
	}
	p.sep()
	p.raw(`{"ph":"i","pid":`)
	p.raw(strconv.Itoa(pid))
	p.raw(`,"tid":`)
	p.raw(strconv.Itoa(tid))
	p.raw(`,"ts":`)
	p.ts(t)
	if global {
		p.raw(`,"s":"g"`)
	} else {
		p.raw(`,"s":"t"`)
	}
	p.raw(`,"cat":"`)
	p.raw(cat)
	p.raw(`","name":`)
	p.str(name)
	p.raw(`}`)
}

func (p *perf) span(pid, tid int, from, to model.Time, name, cat string) {
	if p.skip {
		return
	}
	p.spanHead(pid, tid, from, to, cat)
	p.str(name)
	p.raw(`}`)
}

// spanHead writes a complete event's fields up to its name's value.
func (p *perf) spanHead(pid, tid int, from, to model.Time, cat string) {
	p.sep()
	p.raw(`{"ph":"X","pid":`)
	p.raw(strconv.Itoa(pid))
	p.raw(`,"tid":`)
	p.raw(strconv.Itoa(tid))
	p.raw(`,"ts":`)
	p.ts(from)
	p.raw(`,"dur":`)
	p.ts(to - from)
	p.raw(`,"cat":"`)
	p.raw(cat)
	p.raw(`","name":`)
}

func (p *perf) counter(t model.Time, name string, v int) {
	if p.slice {
		return
	}
	p.sep()
	p.raw(`{"ph":"C","pid":1,"ts":`)
	p.ts(t)
	p.raw(`,"name":`)
	p.str(name)
	p.raw(`,"args":{"value":`)
	p.raw(strconv.Itoa(v))
	p.raw(`}}`)
}

func evName(prefix string, o *model.Obs) string {
	return prefix + " " + strconv.FormatUint(uint64(o.Device), 10) + "/" + strconv.FormatUint(uint64(o.Seq), 10)
}

func (p *perf) event(t model.Time, o *model.Obs) error {
	vs, err := p.mon.Observe(t, o)
	if err != nil {
		return err
	}
	foreign := false
	for _, v := range vs {
		switch v.Inv {
		case model.NoForeignDelivery, model.NoForeignView, model.NoForeignStream, model.NoForeignRead:
			foreign = true
		}
	}
	switch o.Kind {
	case model.ObsFault:
		if o.Fault.Kind == model.FaultLogin {
			// A user's act, on the account's track (not the faults lane).
			pid, tid := p.track(model.AppAddr(o.Fault.Account))
			p.instant(pid, tid, t, "web login (session "+strconv.FormatUint(uint64(o.Fault.Session), 10)+")", "account", false)
			return nil
		}
		name := o.Fault.Kind.String()
		if o.Fault.Kind == model.FaultTransfer {
			name += " of device " + strconv.FormatUint(uint64(o.Fault.Device), 10)
		}
		p.instant(1, 0, t, name, "fault", true)
	case model.ObsEnd:
		name := "end of run"
		if o.Flag {
			name += " (quiet)"
		}
		p.instant(1, 0, t, name, "engine", true)
	case model.ObsConnOK:
		pid, tid := p.track(o.Actor)
		if off, ok := p.offline[o.Device]; ok {
			p.span(pid, tid, off.t, t, "offline ("+strconv.Itoa(off.attempts)+" connect attempts)", "camera")
			delete(p.offline, o.Device)
		}
		p.countOffline(t)
	case model.ObsConnTry:
		if off, ok := p.offline[o.Device]; ok {
			off.attempts++
			p.offline[o.Device] = off
		} else {
			p.offline[o.Device] = offline{t: t, attempts: 1}
			p.countOffline(t)
		}
	case model.ObsLinkDown:
		if _, ok := p.offline[o.Device]; !ok {
			p.offline[o.Device] = offline{t: t}
			p.countOffline(t)
		}
	case model.ObsCapture, model.ObsUpload, model.ObsDrop:
		pid, tid := p.track(o.Actor)
		name := evName(o.Kind.String(), o)
		if o.Kind == model.ObsDrop {
			name += " (" + o.Reason.String() + ")"
		}
		p.instant(pid, tid, t, name, "camera", false)
	case model.ObsCacheCall:
		p.connTrack(o.Actor.Index, o.Conn)
		p.open[[3]uint32{o.Actor.Index, uint32(o.Conn), o.Token}] = openCall{t: t, line: p.line,
			name: o.Op.Command() + " " + strconv.FormatUint(uint64(o.Key), 10) + " tok " + strconv.FormatUint(uint64(o.Token), 10)}
	case model.ObsCacheRet:
		if o.Conn == model.NoConn {
			return nil
		}
		k := [3]uint32{o.Actor.Index, uint32(o.Conn), o.Token}
		c, ok := p.open[k]
		if !ok {
			return nil
		}
		delete(p.open, k)
		if p.slice && p.lines[c.line] {
			p.skip = false // the span of a call the story cites
		}
		name := c.name + " → " + o.Outcome.String()
		if o.ReplyOf != 0 && o.ReplyOf != o.Token {
			name += " (READ THE REPLY OF tok " + strconv.FormatUint(uint64(o.ReplyOf), 10) + ")"
		}
		p.span(1, p.connTrack(o.Actor.Index, o.Conn), c.t, t, name, "cache")
	case model.ObsCacheClose:
		p.instant(1, p.connTrack(o.Actor.Index, o.Conn), t, "close ("+o.Reason.String()+")", "cache", false)
	case model.ObsStream, model.ObsStreamRefused, model.ObsRead:
		pid, tid := p.track(model.AppAddr(o.Account))
		name := "live stream of camera " + strconv.FormatUint(uint64(o.Device), 10)
		switch o.Kind {
		case model.ObsStreamRefused:
			name += " refused (" + o.Reason.String() + ")"
		case model.ObsRead:
			pid, tid = p.track(o.Actor)
			name = "read of document " + strconv.FormatUint(uint64(o.Slot), 10) + " (" + o.Fields.String() + ")"
		}
		if foreign {
			name = "FOREIGN " + name
		}
		p.instant(pid, tid, t, name, "account", false)
	case model.ObsDeliver, model.ObsTap, model.ObsView, model.ObsViewRefused, model.ObsRefused:
		a := model.AppAddr(o.Account)
		if o.Account == model.NoAccount {
			a = model.Addr{Kind: model.KindApp, Index: ^uint32(0)}
		}
		pid, tid := p.track(a)
		name := o.Kind.String()
		switch o.Kind {
		case model.ObsDeliver:
			name = "thumbnail"
		case model.ObsTap, model.ObsView, model.ObsViewRefused:
			name += " " + o.View.String()
		}
		name = evName(name, o)
		if foreign {
			name = "FOREIGN " + name
			if o.Kind == model.ObsDeliver {
				p.foreign++
				p.counter(t, "foreign thumbnails", p.foreign)
			}
		}
		p.instant(pid, tid, t, name, "account", false)
	}
	return nil
}

// countOffline writes the offline-camera counter at most once a (virtual)
// second, so a storm does not write a counter event per attempt.
func (p *perf) countOffline(t model.Time) {
	sec := int64(t) * p.scale / 1e9
	if sec == p.lastSec {
		return
	}
	p.lastSec = sec
	p.counter(t, "cameras offline or connecting", len(p.offline))
}

// story draws s as its own process (pid 4): a track for the whole story,
// then a track per step, each step a slice from its time to the next
// step's (at least a microsecond, or a step of an untimed engine), and a
// flow arrow from each step to the next.
func (p *perf) story(s *traces.Story) {
	const pid = 4
	p.meta(pid, 0, "process_name", "violation: "+s.Violation)
	if len(s.Steps) == 0 {
		return
	}
	minDur := model.Time(1000)
	if p.scale != 1 {
		minDur = 1 // one step of an untimed engine
	}
	from, to := s.Steps[0].T, s.Steps[len(s.Steps)-1].T
	p.meta(pid, 1, "thread_name", "violation: "+s.Invariant)
	p.span(pid, 1, from, max(to, from+minDur), "violation: "+s.Violation, "story")
	for i, st := range s.Steps {
		tid := i + 2
		name := "step " + strconv.Itoa(i+1) + ": " + actors(&st)
		p.meta(pid, tid, "thread_name", name)
		end := st.T + minDur
		if i+1 < len(s.Steps) && s.Steps[i+1].T > end {
			end = s.Steps[i+1].T
		}
		p.storySpan(pid, tid, st.T, end, i+1, &st)
	}
	for i := 0; i+1 < len(s.Steps); i++ {
		p.flow("s", pid, i+2, s.Steps[i].T, i+1)
		p.flow("f", pid, i+3, s.Steps[i+1].T, i+1)
	}
}

// storySpan is step n's slice, with its reason and trace line as args.
func (p *perf) storySpan(pid, tid int, from, to model.Time, n int, st *traces.Step) {
	p.spanHead(pid, tid, from, to, "story")
	name := strconv.Itoa(n) + ". " + st.What
	if st.Violation {
		name = "VIOLATION " + name
	}
	p.str(name)
	p.raw(`,"args":{"step":`)
	p.raw(strconv.Itoa(n))
	p.raw(`,"line":`)
	p.raw(strconv.Itoa(st.Line))
	p.raw(`,"because":`)
	p.str(st.Because)
	p.raw(`}}`)
}

// flow writes one end of flow id: "s" at the slice it leaves, "f" (bound
// to the enclosing slice) at the slice it enters.
func (p *perf) flow(ph string, pid, tid int, t model.Time, id int) {
	p.sep()
	p.raw(`{"ph":"`)
	p.raw(ph)
	p.raw(`","pid":`)
	p.raw(strconv.Itoa(pid))
	p.raw(`,"tid":`)
	p.raw(strconv.Itoa(tid))
	p.raw(`,"ts":`)
	p.ts(t)
	p.raw(`,"cat":"story","name":"because","id":`)
	p.raw(strconv.Itoa(id))
	if ph == "f" {
		p.raw(`,"bp":"e"`)
	}
	p.raw(`}`)
}
