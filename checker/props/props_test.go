package props

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/sim"
)

// (a) Every safe design holds every invariant: the drawn design is
// completed to one Expect calls safe in the drawn world (any client; a
// naive one gets key-in-value or bypass-cache-ownership; with transfers,
// invalidate-on-transfer or bypass), in worlds with storms, cache outages
// and restarts, transfers, network loss and boot storms.
func TestSafeDesignsHoldEveryInvariant(t *testing.T) {
	CheckSafe(t, Scenario(Options{Safe: true}))
}

// (a) under a storm in every run.
func TestSafeDesignsHoldEveryInvariantInAStorm(t *testing.T) {
	CheckSafe(t, Scenario(Options{Safe: true, Storm: true}))
}

// Every design holds what the table claims for it, linearizability
// included: the table is tested, not just written down.
func TestDesignsHoldWhatExpectClaims(t *testing.T) {
	Check(t, Scenario(Options{}), func(t rapid.TB, s *sim.Scenario) {
		AssertHolds(t, s, Claimed(s)...)
	})
}

// naiveStorm draws the naive-pool client with no mitigation, and a gateway
// outage (a reconnect storm) in every run. Transfers are left out: with
// them a stale cached owner is a second way to leak, and (b) is about the
// storm's.
var naiveStorm = Options{Clients: []model.ClientVariant{model.NaivePool}, Mitigations: []model.Mitigation{},
	Storm: true, Faults: noTransfers()}

func noTransfers() *Faults {
	f := DefaultFaults()
	f.Transfer = Site{}
	return &f
}

// privacy is the property (b) expects to fail: no stranger receives a
// thumbnail or media, in any of four runs of the drawn world.
var privacy = AcrossSeeds(4, func(t rapid.TB, s *sim.Scenario) {
	AssertHolds(t, s, model.NoForeignDelivery.String(), model.NoForeignView.String())
})

// counterexampleRoot is the folder of this package's expected
// counterexamples: $STORMPROOF_COUNTEREXAMPLES when a reader wants to keep
// them, otherwise the test's own temporary directory (a test writes nowhere
// else). Each test's folder is emptied first.
func counterexampleRoot(t *testing.T) string {
	root := os.Getenv(CounterexampleEnv)
	if root == "" {
		root = t.TempDir()
	}
	dir, err := filepath.Abs(filepath.Join(root, t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// (b) The naive-pool client under a storm is caught: rapid finds a
// thumbnail pushed to a stranger, shrinks the scenario to a few cameras
// and accounts, and the counterexample (scenario, trace, timeline, Mermaid)
// is written; the fail file replays it exactly.
func TestNaivePoolInAStormIsCaught(t *testing.T) {
	dir := counterexampleRoot(t)
	t.Logf("counterexample and fail file: %s", dir)
	// rapid writes its fail file under the working directory, CheckSafe its
	// counterexample under $STORMPROOF_COUNTEREXAMPLES: both into dir.
	t.Chdir(dir)
	t.Setenv(CounterexampleEnv, ".")
	gen := Scenario(naiveStorm)

	rec := &recorder{name: "naive-pool-storm"}
	expectFailure(rec, func() { Check(rec, gen, privacy) })
	if !rec.failed {
		t.Fatalf("the naive-pool client was not caught:\n%s", rec.output())
	}
	out := rec.output()
	if !strings.Contains(out, "NoForeignDelivery VIOLATED") {
		t.Fatalf("failed for another reason:\n%s", out)
	}
	cex := filepath.Join(dir, CounterexampleDir(rec.name))
	s, err := sim.Load(filepath.Join(cex, ScenarioFile))
	if err != nil {
		t.Fatalf("the written scenario does not load: %v", err)
	}
	t.Logf("shrunk to: %s", Describe(s))
	if s.Fleet.Cameras > 4 || s.Fleet.Accounts > 3 {
		t.Errorf("not small: %d cameras, %d accounts (want ≤ 4 and ≤ 3)", s.Fleet.Cameras, s.Fleet.Accounts)
	}
	// The files say what happened.
	for name, want := range map[string]string{
		TimelineFile: "NoForeignDelivery VIOLATED",
		MermaidFile:  "sequenceDiagram",
		VerdictFile:  "NoForeignDelivery      VIOLATED",
	} {
		b, err := os.ReadFile(filepath.Join(cex, name))
		if err != nil || !bytes.Contains(b, []byte(want)) {
			t.Errorf("%s: want %q in it (err %v):\n%s", name, want, err, b)
		}
	}
	// The written scenario reproduces the failure and the trace.
	again, err := Judge(s, false)
	if err != nil {
		t.Fatal(err)
	}
	trace, err := os.ReadFile(filepath.Join(cex, TraceFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Trace, trace) {
		t.Errorf("the written scenario's trace differs from the counterexample's")
	}
	if again.Failures(model.NoForeignDelivery.String()) == "" {
		t.Errorf("the written scenario does not violate NoForeignDelivery")
	}

	// The fail file replays the shrunk case without searching.
	fails, _ := filepath.Glob(filepath.Join(dir, "testdata", "rapid", rec.name, "*.fail"))
	if len(fails) != 1 {
		t.Fatalf("want one fail file, got %v", fails)
	}
	written, _ := os.ReadFile(filepath.Join(cex, ScenarioFile))
	if err := os.RemoveAll(cex); err != nil {
		t.Fatal(err)
	}
	replay := &recorder{name: rec.name}
	expectFailure(replay, func() { Check(replay, gen, privacy) })
	if !replay.failed || !strings.Contains(replay.output(), "failed after 0 tests") ||
		!strings.Contains(replay.output(), filepath.Base(fails[0])) {
		t.Fatalf("the fail file did not replay the failure:\n%s", replay.output())
	}
	if rewritten, err := os.ReadFile(filepath.Join(cex, ScenarioFile)); err != nil || !bytes.Equal(rewritten, written) {
		t.Fatalf("the replayed counterexample differs (err %v):\n%s\nwant:\n%s", err, rewritten, written)
	}
}

// A broken design is caught by (a): the naive client relabelled as one
// that hands each caller its own reply. With the true label the drawn
// naive designs are completed (key-in-value or bypass) and hold; with the
// false one they are left as they are, and the property fails.
func TestSafePropertyCatchesTheNaiveClientRelabelledSafe(t *testing.T) {
	t.Chdir(t.TempDir()) // rapid's fail file
	o := Options{Safe: true, Storm: true, Clients: []model.ClientVariant{model.NaivePool}, Mitigations: []model.Mitigation{}}
	CheckSafe(t, Scenario(o)) // the true table: completed designs hold

	defer func(f func(model.ClientVariant) bool) { ownReply = f }(ownReply)
	ownReply = func(model.ClientVariant) bool { return true }
	rec := &recorder{name: "relabelled"}
	t.Setenv(CounterexampleEnv, t.TempDir())
	expectFailure(rec, func() { CheckSafe(rec, Scenario(o)) })
	if !rec.failed {
		t.Fatal("the relabelled naive client passed the safe-design property")
	}
	t.Logf("caught: %s", firstLine(rec.output(), "VIOLATED"))
}

// (d) Determinism: the same draws give the same scenario and the same
// trace, byte for byte; so does the scenario written out and read back.
func TestSameDrawsSameTrace(t *testing.T) {
	hash := func(s *sim.Scenario) [32]byte {
		out, err := Judge(s, false)
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(out.Trace)
	}
	for seed := 0; seed < 5; seed++ {
		a, b := Scenario(Options{}).Example(seed), Scenario(Options{}).Example(seed)
		if !bytes.Equal(a.JSON(), b.JSON()) {
			t.Fatalf("seed %d: the same draws gave different scenarios", seed)
		}
		if hash(a) != hash(b) {
			t.Fatalf("seed %d: the same scenario gave different traces", seed)
		}
	}
	rapid.Check(t, func(rt *rapid.T) {
		s := Scenario(Options{}).Draw(rt, "scenario")
		y, err := ScenarioYAML(s)
		if err != nil {
			rt.Fatal(err)
		}
		back, err := sim.Parse("scenario.yaml", y, "")
		if err != nil {
			rt.Fatalf("the written scenario does not parse: %v\n%s", err, y)
		}
		if !bytes.Equal(back.JSON(), s.JSON()) {
			rt.Fatalf("the written scenario reads back differently:\n%s\n%s\n%s", y, s.JSON(), back.JSON())
		}
		if hash(back) != hash(s) {
			rt.Fatalf("the written scenario gives another trace")
		}
	})
}

// The README's CI test can fail: its design without invalidate-on-transfer
// leaks to a device's previous owner, and the property catches it (with a
// transfer in every run, so within the first few draws).
func TestCIExampleCatchesAMissingInvalidate(t *testing.T) {
	t.Chdir(t.TempDir()) // rapid's fail file
	t.Setenv(CounterexampleEnv, t.TempDir())
	faults := DefaultFaults()
	faults.CacheRestart = Site{}
	faults.Transfer = Site{Active: 1, Fire: 1, Slots: 1}
	o := Options{Clients: []model.ClientVariant{model.Tagged}, Mitigations: []model.Mitigation{},
		Faults: &faults, NoRetransfer: true, Rule: model.OwnerAtCaptureOrDelivery}
	// Rounds until caught, up to 500 cases in all whatever one check runs
	// (20 under -short: one round of them misses it now and then).
	var rec *recorder
	for cases := 0; cases < 500 && (rec == nil || !rec.failed); cases += rapidChecks() {
		rec = &recorder{name: "no-invalidate"}
		expectFailure(rec, func() { CheckSafe(rec, Scenario(o)) })
	}
	if !rec.failed || !strings.Contains(rec.output(), "NoForeignDelivery VIOLATED") {
		t.Fatalf("the design without invalidate-on-transfer was not caught:\n%s", rec.output())
	}
	t.Logf("caught: %s", firstLine(rec.output(), "props: design"))
}

// rapidChecks is how many cases one rapid check runs (-rapid.checks; a
// fifth of it under -short).
func rapidChecks() int {
	n, err := strconv.Atoi(flag.Lookup("rapid.checks").Value.String())
	if err != nil || n < 1 {
		n = 100
	}
	if testing.Short() {
		n = max(1, n/5)
	}
	return n
}
