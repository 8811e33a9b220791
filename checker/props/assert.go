package props

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"pgregory.net/rapid"

	"github.com/stormproof/stormproof/checker"
	"github.com/stormproof/stormproof/internal/atomicfile"
	"github.com/stormproof/stormproof/internal/version"
	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/sim"
	"github.com/stormproof/stormproof/traces/render"
)

// Outcome is a scenario's run and the verdicts on it.
type Outcome struct {
	Scenario *sim.Scenario
	// Result holds the simulator's own verdicts, judged online by the
	// model's Monitor as the run went.
	Result *sim.Result
	// Trace is the run's full trace (JSONL) and Report the checker's
	// verdicts on it; both nil from Run, which writes no trace.
	Trace  []byte
	Report *checker.Report
}

// Run runs s in the simulator without a trace: the model's invariants,
// judged online by the same Monitor the checker uses, for a few
// milliseconds a run at the quick budget. Judge adds the trace.
func Run(s *sim.Scenario) (*Outcome, error) {
	res, err := sim.Run(s, sim.RunOptions{Detail: "none"})
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %v", s.Name, err)
	}
	return &Outcome{Scenario: s, Result: res}, nil
}

// Judge runs s with a full trace and checks the trace with the checker,
// the judge of every engine: the causal slice of the first violation and,
// when lin is set, the linearizability of the cache's and the registry's
// histories (porcupine; the slow part).
func Judge(s *sim.Scenario, lin bool) (*Outcome, error) {
	var buf bytes.Buffer
	res, err := sim.Run(s, sim.RunOptions{Detail: "full", Trace: &buf, Tool: version.Version,
		Reproduce: "stormproof run scenario.yaml (written by checker/props beside this trace)"})
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %v", s.Name, err)
	}
	rep, err := checker.Check(bytes.NewReader(buf.Bytes()), "trace.jsonl", checker.Options{NoLinearizability: !lin, Explain: 1})
	if err != nil {
		return nil, fmt.Errorf("scenario %s: its trace does not check: %v", s.Name, err)
	}
	return &Outcome{Scenario: s, Result: res, Trace: buf.Bytes(), Report: rep}, nil
}

// Invariants are the names of the model's invariants: what AssertSafe
// asserts.
func Invariants() []string {
	var out []string
	for _, inv := range model.Invariants() {
		out = append(out, inv.String())
	}
	return out
}

// AssertSafe fails t unless s's design holds every invariant of the model
// in s's world: no thumbnail pushed or media served to a stranger, no
// event silently lost, none received twice (and no live stream or replica
// document to a stranger). A run that does not go quiet by its end cannot
// judge NoSilentLoss: t is then skipped with the reason (see AssertHolds).
// t is a *testing.T or a *rapid.T.
func AssertSafe(t rapid.TB, s *sim.Scenario) {
	t.Helper()
	AssertHolds(t, s, Invariants()...)
}

// AssertHolds fails t unless every named check held in s's run: model
// invariants by name, checker.CacheLinearizable,
// checker.RegistryLinearizable (these need the trace, so the run is judged
// by the checker; the invariants alone by the simulator's Monitor). A
// check that could not be judged (NoSilentLoss in a run that did not go
// quiet by its end) skips t with the reason, unless another failed: for a
// *rapid.T that makes the case invalid, so rapid draws another.
func AssertHolds(t rapid.TB, s *sim.Scenario, checks ...string) {
	t.Helper()
	var out *Outcome
	var err error
	if slices.Contains(checks, checker.CacheLinearizable) || slices.Contains(checks, checker.RegistryLinearizable) {
		out, err = Judge(s, true)
	} else {
		out, err = Run(s)
	}
	if err != nil {
		t.Fatalf("props: %v", err)
	}
	count(t, out)
	if msg := out.Failures(checks...); msg != "" {
		t.Fatalf("props: %s", msg)
	}
	if msg := out.Unjudged(checks...); msg != "" {
		t.Skipf("props: %s", msg)
	}
}

// Failures says, one line per check, which of the named checks did not
// hold, with the scenario that shows it; "" when none failed.
func (o *Outcome) Failures(checks ...string) string {
	var lines []string
	for _, name := range checks {
		judged, count, first, why := o.verdict(name)
		switch {
		case why != "":
			lines = append(lines, fmt.Sprintf("%s: %s", name, why))
		case judged && count > 0:
			lines = append(lines, fmt.Sprintf("%s VIOLATED %d time(s), first %s", name, count, first))
		}
	}
	return o.say(lines)
}

// Unjudged says which of the named checks the run could not judge.
func (o *Outcome) Unjudged(checks ...string) string {
	var lines []string
	for _, name := range checks {
		if judged, _, _, why := o.verdict(name); !judged && why == "" {
			lines = append(lines, fmt.Sprintf("%s not judged: %s", name, o.notJudged(name)))
		}
	}
	return o.say(lines)
}

func (o *Outcome) say(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return fmt.Sprintf("design %s in %s:\n  %s", o.Scenario.Design(), Describe(o.Scenario), strings.Join(lines, "\n  "))
}

func (o *Outcome) notJudged(name string) string {
	if o.Report != nil {
		if v := o.Report.Verdict(name); v != nil && v.NotJudged != "" {
			return v.NotJudged
		}
	}
	return "the run did not go quiet by its end (a longer duration, or a cloud that keeps up)"
}

// verdict is one check's outcome, from the checker's report when there is
// one, else from the simulator's Monitor; why is set when it cannot be had.
func (o *Outcome) verdict(name string) (judged bool, count uint64, first, why string) {
	if o.Report != nil {
		v := o.Report.Verdict(name)
		switch {
		case v == nil:
			return false, 0, "", "no such check"
		case !v.Judged:
			return false, 0, "", ""
		case v.Count > 0:
			return true, v.Count, fmt.Sprintf("at %s: %s", render.When(&o.Report.Header, v.First[0].T), v.First[0].Text), ""
		}
		return true, 0, "", ""
	}
	for _, inv := range model.Invariants() {
		if inv.String() != name {
			continue
		}
		v := o.Result.Summary.Invariants[name]
		if len(o.Result.First[inv]) > 0 {
			f := o.Result.First[inv][0]
			first = fmt.Sprintf("at %v: %s", time.Duration(f.T), f.String())
		}
		return v.Judged, v.Violations, first, ""
	}
	return false, 0, "", "needs the trace: judge the run with Judge"
}

// Describe is a one-line summary of a scenario's world.
func Describe(s *sim.Scenario) string {
	var b strings.Builder
	fmt.Fprintf(&b, "scenario %s (seed %d): %d cameras, %d accounts, capture %v of %v, start %s",
		s.Name, s.Seed, s.Fleet.Cameras, s.Fleet.Accounts, s.CaptureUntil, s.Duration, s.Start)
	for _, o := range s.Outages {
		fmt.Fprintf(&b, ", %s down %v–%v", o.Component, o.From, o.To)
	}
	for _, r := range s.CacheRestarts {
		fmt.Fprintf(&b, ", cache restart at %v", r)
	}
	if s.Transfers.Count > 0 {
		fmt.Fprintf(&b, ", %d transfer(s)", s.Transfers.Count)
	}
	if s.Network.WANLoss > 0 {
		fmt.Fprintf(&b, ", WAN loss %g", s.Network.WANLoss)
	}
	fmt.Fprintf(&b, "; cloud %d worker(s) × %d connection(s), cache timeout %v, cache op %v",
		s.Cloud.Workers, s.Cloud.PoolSize, s.Cloud.CacheTimeout, s.Cloud.CacheService)
	return b.String()
}

// Counterexample files, in the order WriteCounterexample writes them.
const (
	ScenarioFile = "scenario.yaml" // the scenario, reloadable: stormproof run scenario.yaml
	TraceFile    = "trace.jsonl"   // its full trace: stormproof check / render read it
	VerdictFile  = "verdict.txt"   // the checker's verdicts
	TimelineFile = "timeline.txt"  // the first violation's causal slice, step by step
	MermaidFile  = "sequence.mmd"  // the same as a Mermaid sequence diagram
)

// WriteCounterexample runs s and writes, into dir (created if need be),
// the scenario, its trace, the verdicts and the first violation drawn as a
// timeline and a Mermaid diagram. Each file is written whole or not at all.
func WriteCounterexample(dir string, s *sim.Scenario) (*Outcome, error) {
	out, err := Judge(s, true)
	if err != nil {
		return nil, err
	}
	y, err := ScenarioYAML(s)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	rep := out.Report
	files := []struct {
		name string
		draw func(w *bytes.Buffer) error
	}{
		{ScenarioFile, func(w *bytes.Buffer) error { _, err := w.Write(y); return err }},
		{TraceFile, func(w *bytes.Buffer) error { _, err := w.Write(out.Trace); return err }},
		{VerdictFile, func(w *bytes.Buffer) error {
			rep.Print(w)
			fmt.Fprintf(w, "\nwhat the design is expected to hold here (checker/props Expect):\n%s", ExpectText(s))
			return nil
		}},
		{TimelineFile, func(w *bytes.Buffer) error { return render.Timeline(w, &rep.Header, rep.Stories) }},
		{MermaidFile, func(w *bytes.Buffer) error {
			if len(rep.Stories) == 0 {
				_, err := fmt.Fprintln(w, "%% no violation: nothing to draw")
				return err
			}
			return render.Mermaid(w, &rep.Header, &rep.Stories[0])
		}},
	}
	for _, f := range files {
		var buf bytes.Buffer
		if err := f.draw(&buf); err != nil {
			return nil, fmt.Errorf("%s: %v", f.name, err)
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, f.name), buf.Bytes()); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CounterexampleEnv names the environment variable that chooses where
// CheckSafe writes counterexamples (default: testdata/rapid-counterexamples
// in the test's package directory, beside rapid's testdata/rapid).
const CounterexampleEnv = "STORMPROOF_COUNTEREXAMPLES"

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// CounterexampleDir is where CheckSafe writes the counterexample of the
// test named name.
func CounterexampleDir(name string) string {
	root := os.Getenv(CounterexampleEnv)
	if root == "" {
		root = filepath.Join("testdata", "rapid-counterexamples")
	}
	return filepath.Join(root, unsafeName.ReplaceAllString(name, "_"))
}
