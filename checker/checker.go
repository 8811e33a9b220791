// Package checker is stormproof's judge: it reads a trace from any engine
// (sim, explore, live) in one streaming pass and decides whether the model's
// invariants held. The invariants themselves are model.Monitor's; this
// package adds what needs the whole history: linearizability of the cache
// and registry histories (porcupine) and the causal slice that explains a
// violation step by step.
package checker

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"time"

	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/traces"
	"github.com/stormproof/stormproof/traces/render"
)

// Names of the checks that are not model.Monitor invariants.
const (
	// WitnessedDelivery: every delivery an independent witness saw (a
	// `witness` line: an eBPF probe on the delivery function) is in the
	// record as a `deliver` line. A witness without its delivery means the
	// record lost one; the invariants cannot be trusted to have seen it.
	WitnessedDelivery    = "WitnessedDelivery"
	CacheLinearizable    = "CacheLinearizable"
	RegistryLinearizable = "RegistryLinearizable"
)

// Options tune a check. The zero value is a full check.
type Options struct {
	// Keep is how many instances of each invariant the report keeps (0: 10).
	Keep int
	// Explain is how many violations get a causal slice (0: 1; <0: none).
	Explain int
	// NoLinearizability skips the porcupine checks (they are then "not judged").
	NoLinearizability bool
	// LinTimeout bounds the porcupine search of one key (0: 30 s). A key whose
	// search runs out of time is reported as unknown, never as a violation.
	LinTimeout time.Duration
	// PageKeys bounds the violated keys drawn on the porcupine page (0: 4),
	// PageOps the operations of each drawn key (0: 60).
	PageKeys, PageOps int
	// Follow lists events whose fate the report records line by line (replay
	// uses it to tell what became of a violation's event under a fix).
	Follow []model.EventRef
	// Rule names the authorization rule ("capture", "capture-or-delivery");
	// "" takes the trace header's (absent there: "capture").
	Rule string
	// OnViolation, if set, is called with each violation of an invariant
	// the Monitor judges line by line, during the Observe that finds it
	// (check --follow reports them as they happen). Violations judged at
	// the end (NoSilentLoss, WitnessedDelivery, linearizability) are in the
	// report only.
	OnViolation func(name string, in Instance)
}

func (o Options) keep() int {
	if o.Keep <= 0 {
		return 10
	}
	return o.Keep
}

func (o Options) explain() int {
	switch {
	case o.Explain < 0:
		return 0
	case o.Explain == 0:
		return 1
	}
	return o.Explain
}

// Report is the verdict on one trace.
type Report struct {
	// File names the trace ("" when read from an unnamed stream).
	File   string
	Header traces.Header
	// Events is the number of event lines read; End the time of the last.
	Events int64
	End    model.Time
	// Ended: the trace has an end line; Quiet: that line says nothing was in
	// flight any more (so NoSilentLoss can be judged).
	Ended, Quiet bool
	// Verdicts: the model's invariants in model.Invariants() order, then
	// WitnessedDelivery, CacheLinearizable and RegistryLinearizable.
	Verdicts []Verdict
	// Rule is the authorization rule the trace was judged by.
	Rule model.AuthRule
	// Stories are causal slices of the first violations, earliest first.
	Stories []traces.Story
	// Cache and Registry are the linearizability results (nil: not judged).
	Cache, Registry *LinResult
	// Followed holds, per followed event, the lines that concern it.
	Followed map[model.EventRef][]traces.Step
}

// Verdict is one invariant's outcome.
type Verdict struct {
	Name string
	// Judged is false when the trace cannot decide it; NotJudged says why.
	Judged    bool
	NotJudged string
	// Count is the number of violations (for linearizability: of keys).
	Count uint64
	// First holds the first instances, in trace order.
	First []Instance
}

// Held reports whether the invariant was judged and not violated.
func (v *Verdict) Held() bool { return v.Judged && v.Count == 0 }

// Instance is one violation.
type Instance struct {
	T    model.Time
	Line int // trace line (0: judged at the end of the trace)
	Text string
	// Violation is set for the Monitor's invariants.
	Violation *model.Violation `json:",omitempty"`
}

// Held reports whether every promise held (the policy's default: the
// diagnoses do not decide, see Policy). It says nothing of completeness.
func (r *Report) Held() bool {
	return r.Decide(Policy{AllowIncomplete: true}).Outcome != Violated
}

// Verdict returns the verdict named name, or nil.
func (r *Report) Verdict(name string) *Verdict {
	for i := range r.Verdicts {
		if r.Verdicts[i].Name == name {
			return &r.Verdicts[i]
		}
	}
	return nil
}

// FirstViolation is the earliest violation of any invariant, or nil.
func (r *Report) FirstViolation() (*Verdict, *Instance) {
	var bv *Verdict
	var bi *Instance
	for i := range r.Verdicts {
		v := &r.Verdicts[i]
		if !v.Judged || len(v.First) == 0 {
			continue
		}
		in := &v.First[0]
		if bi == nil || in.T < bi.T || (in.T == bi.T && in.Line != 0 && (bi.Line == 0 || in.Line < bi.Line)) {
			bv, bi = v, in
		}
	}
	return bv, bi
}

// CheckFile checks the trace at path.
func CheckFile(path string, opt Options) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Check(f, path, opt)
}

// Check checks the trace read from r; name names it in errors. Malformed
// input is reported as a *traces.Error naming the line.
func Check(r io.Reader, name string, opt Options) (*Report, error) {
	tr, err := traces.NewReader(r, name)
	if err != nil {
		return nil, err
	}
	c, err := New(tr.Header, name, opt)
	if err != nil {
		return nil, &traces.Error{File: name, Line: 1, Msg: err.Error()}
	}
	var ev traces.Event
	for {
		err := tr.Next(&ev)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := c.Observe(tr.Line(), ev.T, &ev.Obs); err != nil {
			return nil, err
		}
	}
	return c.Finish()
}

// Checker judges a stream of events. Check drives one over a trace; an
// engine may feed one directly.
type Checker struct {
	opt     Options
	rep     *Report
	mon     *model.Monitor
	partial bool
	keep    int
	endLine int
	lin     *linCollector
	ex      *explainer
	// seen counts, per (event, account), the deliver lines (index 0) and
	// the witness lines (index 1) and the line of the first witness.
	seen      map[delivery][3]int32
	witnesses int
	finishing bool // Finish is judging: OnViolation is not called
}

type delivery struct {
	ev   uint64 // device<<32 | seq
	acct model.AccountID
}

// New returns a checker for a trace with header h; file names it in errors.
// An unknown rule in opt or h is an error.
func New(h traces.Header, file string, opt Options) (*Checker, error) {
	name := opt.Rule
	if name == "" {
		name = h.Authorized
	}
	rule, err := model.ParseAuthRule(name)
	if err != nil {
		return nil, err
	}
	c := &Checker{opt: opt, keep: opt.keep(), partial: h.Detail == "slice", seen: map[delivery][3]int32{}}
	c.rep = &Report{File: file, Header: h, Rule: rule}
	c.mon = model.NewMonitor(h.Devices)
	c.mon.Partial = c.partial
	c.mon.Rule = rule
	for _, inv := range model.Invariants() {
		c.rep.Verdicts = append(c.rep.Verdicts, Verdict{Name: inv.String(), Judged: true})
	}
	c.rep.Verdicts = append(c.rep.Verdicts, Verdict{Name: WitnessedDelivery}, Verdict{Name: CacheLinearizable}, Verdict{Name: RegistryLinearizable})
	if !opt.NoLinearizability && !c.partial {
		c.lin = newLinCollector(h)
	}
	c.ex = newExplainer(c.mon, opt.explain(), opt.Follow)
	c.ex.untimed = h.Engine == "explore"
	c.ex.lanes = h.Engine == "live"
	return c, nil
}

func (c *Checker) errf(line int, format string, a ...any) error {
	return &traces.Error{File: c.rep.File, Line: line, Msg: fmt.Sprintf(format, a...)}
}

// Observe feeds the event on line `line` of the trace.
func (c *Checker) Observe(line int, t model.Time, o *model.Obs) error {
	if c.endLine != 0 {
		return c.errf(line, "event after the end line (line %d): the end line must be the last", c.endLine)
	}
	c.rep.Events++
	c.rep.End = t
	if o.Kind == model.ObsEnd {
		c.endLine = line
		c.rep.Ended, c.rep.Quiet = true, o.Flag
		return nil
	}
	switch o.Kind {
	case model.ObsDeliver, model.ObsWitness:
		k := delivery{uint64(o.Device)<<32 | uint64(o.Seq), o.Account}
		n := c.seen[k]
		if o.Kind == model.ObsWitness {
			if int(o.Device) >= c.rep.Header.Devices {
				return c.errf(line, "%s: device %d out of range (the fleet has %d)", o.Kind, o.Device, c.rep.Header.Devices)
			}
			if n[1] == 0 {
				n[2] = int32(min(line, math.MaxInt32))
			}
			n[1]++
			c.seen[k] = n
			c.witnesses++
			return nil
		}
		n[0]++
		c.seen[k] = n
	}
	vs, err := c.mon.Observe(t, o)
	if err != nil {
		return c.errf(line, "%s: %v", o.Kind, err)
	}
	c.ex.observe(line, t, o, vs)
	for i := range vs {
		c.record(line, &vs[i])
	}
	if c.lin != nil {
		if err := c.lin.observe(line, t, o); err != nil {
			return c.errf(line, "%s: %v", o.Kind, err)
		}
	}
	return nil
}

func (c *Checker) record(line int, v *model.Violation) {
	vd := &c.rep.Verdicts[v.Inv]
	vd.Count++
	if len(vd.First) < c.keep {
		vc := *v
		vd.First = append(vd.First, Instance{T: v.T, Line: line, Text: v.String(), Violation: &vc})
	}
	if c.opt.OnViolation != nil && !c.finishing {
		vc := *v
		c.opt.OnViolation(vd.Name, Instance{T: v.T, Line: line, Text: v.String(), Violation: &vc})
	}
}

// Finish ends the stream and returns the report.
func (c *Checker) Finish() (*Report, error) {
	c.finishing = true
	r := c.rep
	sl := &r.Verdicts[model.NoSilentLoss]
	switch {
	case c.partial:
		sl.Judged, sl.NotJudged = false, "a slice trace holds only the events around violations"
	case !r.Ended:
		sl.Judged, sl.NotJudged = false, "the trace has no end line (cut short, or written before trace format 1.1)"
	case !r.Quiet:
		sl.Judged, sl.NotJudged = false, "the run ended with events still in flight"
	default:
		vs := c.mon.Quiet(r.End)
		for i := range vs {
			c.record(0, &vs[i])
		}
		c.ex.quiet(vs)
	}
	c.judgeWitness()
	c.judgeLinearizability()
	r.Stories = c.ex.stories()
	r.Followed = c.ex.followedSteps()
	return r, nil
}

// judgeWitness compares the witness lines with the deliver lines, as
// multisets of (event, account): a witness without its delivery is a
// finding, and judged as a delivery: to an account not authorized for the
// event it is also a foreign delivery. A delivery the witness missed is not
// a finding (a probe may lose events). Not judged without witness lines.
func (c *Checker) judgeWitness() {
	v := c.rep.Verdict(WitnessedDelivery)
	if c.witnesses == 0 {
		v.NotJudged = "the trace has no witness lines"
		return
	}
	v.Judged = true
	type miss struct {
		k    delivery
		n    int32
		line int
	}
	var missed []miss
	for k, n := range c.seen {
		if n[1] > n[0] {
			missed = append(missed, miss{k, n[1] - n[0], int(n[2])})
		}
	}
	// In trace order: the map's order must not leak into the report.
	slices.SortFunc(missed, func(a, b miss) int { return a.line - b.line })
	for _, m := range missed {
		d, seq := model.DeviceID(m.k.ev>>32), uint32(m.k.ev)
		for range m.n {
			v.Count++
			if len(v.First) < c.keep {
				v.First = append(v.First, Instance{T: c.rep.End, Line: m.line,
					Text: fmt.Sprintf("%s: the witness saw event %d/%d delivered to account %d; the record has no such delivery", WitnessedDelivery, d, seq, m.k.acct)})
			}
			if !c.mon.Authorized(d, seq, m.k.acct) {
				viol := model.Violation{Inv: model.NoForeignDelivery, T: c.rep.End, Device: d, Seq: seq, Account: m.k.acct,
					Authorized: c.mon.AuthorizedAtCapture(d, seq)}
				c.record(m.line, &viol)
			}
		}
	}
}

func (c *Checker) judgeLinearizability() {
	r := c.rep
	cv, rv := r.Verdict(CacheLinearizable), r.Verdict(RegistryLinearizable)
	switch {
	case c.opt.NoLinearizability:
		cv.NotJudged = "skipped (--no-lin)"
		rv.NotJudged = cv.NotJudged
		return
	case c.partial:
		cv.NotJudged = "a slice trace does not hold the whole history"
		rv.NotJudged = cv.NotJudged
		return
	}
	r.Cache, r.Registry = c.lin.check(c.opt)
	for _, x := range []struct {
		v   *Verdict
		res *LinResult
	}{{cv, r.Cache}, {rv, r.Registry}} {
		x.v.Judged = true
		x.v.Count = uint64(len(x.res.Violated))
		for i, k := range x.res.Violated {
			if i >= c.keep {
				break
			}
			x.v.First = append(x.v.First, Instance{T: k.FirstBad.Call, Line: k.FirstBad.Line, Text: k.Text})
		}
		if x.res.Unknown > 0 && x.v.Count == 0 {
			x.v.Judged = false
			x.v.NotJudged = fmt.Sprintf("the search of %d key(s) ran out of time", x.res.Unknown)
		}
	}
}

// Print writes the verdicts for a person, one line per invariant.
func (r *Report) Print(w io.Writer) {
	h := &r.Header
	name := r.File
	if name == "" {
		name = "trace"
	}
	fmt.Fprintf(w, "trace           %s: %s engine, scenario %s, seed %d, design %s, %d events\n",
		name, h.Engine, h.Scenario, h.Seed, h.Design, r.Events)
	for i := range r.Verdicts {
		v := &r.Verdicts[i]
		switch {
		case !v.Judged:
			fmt.Fprintf(w, "%-22s not judged: %s\n", v.Name, v.NotJudged)
		case v.Count == 0:
			fmt.Fprintf(w, "%-22s held%s\n", v.Name, r.linNote(v.Name))
		default:
			fmt.Fprintf(w, "%-22s VIOLATED %s; first at %s", v.Name, r.countNote(v), render.When(&r.Header, v.First[0].T))
			if v.First[0].Line > 0 {
				fmt.Fprintf(w, " (line %d)", v.First[0].Line)
			}
			fmt.Fprintf(w, ": %s\n", v.First[0].Text)
		}
	}
}

func (r *Report) countNote(v *Verdict) string {
	var l *LinResult
	switch v.Name {
	case CacheLinearizable:
		l = r.Cache
	case RegistryLinearizable:
		l = r.Registry
	}
	if l == nil {
		return fmt.Sprintf("%d time(s)", v.Count)
	}
	return fmt.Sprintf("on %d of %d keys (%d operations)", v.Count, l.Keys, l.Ops)
}

// Violated names the invariants that were violated.
func (r *Report) Violated() []string {
	var out []string
	for i := range r.Verdicts {
		if v := &r.Verdicts[i]; v.Judged && v.Count > 0 {
			out = append(out, v.Name)
		}
	}
	return out
}

func (r *Report) linNote(name string) string {
	var l *LinResult
	switch name {
	case CacheLinearizable:
		l = r.Cache
	case RegistryLinearizable:
		l = r.Registry
	}
	if l == nil {
		return ""
	}
	if len(l.Violated) > 0 {
		return fmt.Sprintf(" (keys, of %d keys, %d operations)", l.Keys, l.Ops)
	}
	return fmt.Sprintf(" (%d keys, %d operations)", l.Keys, l.Ops)
}
