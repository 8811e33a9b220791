package props

import (
	"fmt"
	"time"

	"pgregory.net/rapid"

	"github.com/stormproof/stormproof/sim"
)

// CheckSafe checks with rapid that every scenario gen draws is safe
// (AssertSafe). On a failure rapid shrinks the scenario, saves a fail file
// under testdata/rapid/<Test>/ that replays it, and CheckSafe writes the
// smallest failing scenario, its trace and its first violation drawn as a
// timeline and a Mermaid diagram into CounterexampleDir(t.Name()).
//
// The budget: rapid's -rapid.checks cases (default 100) per round; one
// round, or with STORMPROOF_SOAK rounds until the soak time is spent.
//
// At the end it logs how many of the runs had a cache call time out, and
// says so when none did: a property that held only in worlds without a late
// reply says nothing about the fault the cache clients differ in.
func CheckSafe(t rapid.TB, gen *rapid.Generator[*sim.Scenario]) {
	t.Helper()
	Check(t, gen, AssertSafe)
}

// checkT is the rapid.T a property gets from Check; judged is the
// scenario a failure is about, when a property runs variants of the drawn
// one (AcrossSeeds).
type checkT struct {
	*rapid.T
	judged *sim.Scenario
	ex     *exercise
}

// exercise counts the runs a property judged, and those in which a cache
// call timed out: only those meet the late-reply fault, so a property that
// held on none of them held vacuously for it.
type exercise struct{ runs, timedOut int }

// tallier is a TB that counts runs for Check (checkT, and catchTB around
// one).
type tallier interface{ tally() *exercise }

func (c *checkT) tally() *exercise { return c.ex }

// count adds a judged run to t's tally, if t keeps one.
func count(t rapid.TB, out *Outcome) {
	tl, ok := t.(tallier)
	if !ok || tl.tally() == nil || out.Result == nil {
		return
	}
	e := tl.tally()
	e.runs++
	if out.Result.Summary.CacheTimeouts > 0 {
		e.timedOut++
	}
}

// Line says how many runs exercised the late-reply fault.
func (e *exercise) Line() string {
	if e.runs > 0 && e.timedOut == 0 {
		return fmt.Sprintf("props: in none of %d runs did a cache call time out: the property held without meeting the late-reply fault", e.runs)
	}
	return fmt.Sprintf("props: %d of %d runs had cache calls time out (the others did not meet the late-reply fault)", e.timedOut, e.runs)
}

// Check is CheckSafe with any property of a scenario (e.g. a call of
// AssertHolds with the checks a design claims).
func Check(t rapid.TB, gen *rapid.Generator[*sim.Scenario], prop func(rapid.TB, *sim.Scenario)) {
	t.Helper()
	b, err := CurrentBudget()
	if err != nil {
		t.Fatalf("props: %v", err)
	}
	var failing *sim.Scenario
	defer func() {
		// Runs on a failure too (FailNow ends the test by runtime.Goexit):
		// the last failing run rapid makes is of the shrunk scenario.
		if failing == nil || !t.Failed() {
			return
		}
		dir := CounterexampleDir(t.Name())
		if _, err := WriteCounterexample(dir, failing); err != nil {
			t.Logf("props: writing the counterexample: %v", err)
			return
		}
		t.Logf("props: the smallest failing scenario, its trace, timeline and Mermaid diagram are in %s (%s, %s, %s, %s)",
			dir, ScenarioFile, TraceFile, TimelineFile, MermaidFile)
	}()
	ex := &exercise{}
	defer func() { t.Logf("%s", ex.Line()) }()
	start := time.Now()
	for {
		rapid.Check(t, func(rt *rapid.T) {
			ct := &checkT{T: rt, ex: ex}
			ct.judged = gen.Draw(rt, "scenario")
			ok := false
			defer func() {
				if !ok {
					failing = ct.judged
				}
			}()
			prop(ct, ct.judged)
			ok = !rt.Failed()
		})
		if b.Soak == 0 || fixedSeed() || time.Since(start) >= b.Soak {
			return
		}
	}
}

// AcrossSeeds is prop judged on the drawn world with k seeds (its own and
// the k−1 after it): it fails with the first run that fails, and Check
// writes that run as the counterexample. A small fleet leaks in a storm
// only when its cameras happen to reconnect together, which depends on the
// seed; over a few seeds a small world fails often enough that rapid can
// shrink to it.
func AcrossSeeds(k int, prop func(rapid.TB, *sim.Scenario)) func(rapid.TB, *sim.Scenario) {
	return func(t rapid.TB, s *sim.Scenario) {
		t.Helper()
		for i := 0; i < k; i++ {
			v := *s
			v.Seed = s.Seed + uint64(i)
			if msg, failed := catch(t, func(tb rapid.TB) { prop(tb, &v) }); failed {
				if ct, ok := t.(*checkT); ok {
					ct.judged = &v
				}
				t.Fatalf("%s\n(seed %d: the %d-th of the seeds %d..%d tried)", msg, v.Seed, i+1, s.Seed, s.Seed+uint64(k)-1)
			}
		}
	}
}

// catchTB passes logs and skips to t and turns a failure into a value.
type catchTB struct {
	rapid.TB
	msg string
}

type caught struct{}

func (c *catchTB) Errorf(format string, a ...any) { c.Fatalf(format, a...) }
func (c *catchTB) Error(a ...any)                 { c.Fatal(a...) }
func (c *catchTB) Fatalf(format string, a ...any) { c.msg = fmt.Sprintf(format, a...); panic(caught{}) }
func (c *catchTB) Fatal(a ...any)                 { c.msg = fmt.Sprint(a...); panic(caught{}) }
func (c *catchTB) FailNow()                       { c.msg = "failed"; panic(caught{}) }
func (c *catchTB) Fail()                          { c.FailNow() }
func (c *catchTB) Failed() bool                   { return false }

func (c *catchTB) tally() *exercise {
	if tl, ok := c.TB.(tallier); ok {
		return tl.tally()
	}
	return nil
}

func catch(t rapid.TB, f func(rapid.TB)) (msg string, failed bool) {
	c := &catchTB{TB: t}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(caught); !ok {
				panic(r)
			}
			msg, failed = c.msg, true
		}
	}()
	f(c)
	return "", false
}
