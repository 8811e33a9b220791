package owndesign

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stormproof/stormproof/checker/explore"
	"github.com/stormproof/stormproof/checker/props"
	"github.com/stormproof/stormproof/commands"
	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/sim"
)

// explored runs the explorer on an embedded configuration with a client
// and mitigations of this package.
func explored(t *testing.T, config string, c model.ClientVariant, m model.Mitigations) *explore.Result {
	t.Helper()
	cfg, err := explore.Load(config)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err = cfg.Override(&c, m); err != nil {
		t.Fatal(err)
	}
	res, err := explore.Run(cfg, explore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// The explorer proves the pipelined client safe in the storm's small
// world: every state is reached and no reply is handed to another request,
// because a reply that does not echo the request's id is dropped.
func TestExplorePipelinedHolds(t *testing.T) {
	if testing.Short() {
		t.Skip("a complete search of 1.5 M states")
	}
	res := explored(t, "small", PipelinedReuse, 0)
	if res.Counterexample != nil || res.Search.Bound != "" || res.Search.Distinct < 1_000_000 {
		t.Fatalf("want a complete search without violation; got bound %q, %d states, counterexample %v",
			res.Search.Bound, res.Search.Distinct, res.Counterexample != nil)
	}
}

// owners-in-stamp is no fix for a transfer: an event captured after the
// registry changed hands but before the camera was rebound still carries
// the seller's stamp, so the seller's stale cached owners pass the check.
// The explorer hands the shortest counterexample.
func TestExploreOwnersInStampMissesTransfers(t *testing.T) {
	res := explored(t, "transfer", PipelinedReuse, model.MitigationSet(OwnersInStamp))
	ce := res.Counterexample
	if ce == nil || ce.Violation.Inv != model.NoForeignDelivery || len(ce.Steps) != 12 {
		t.Fatalf("want NoForeignDelivery in 12 steps, got %+v", ce)
	}
}

// The mitigation does act: with the naive client, whose late replies name
// other devices' owners, it refuses every such value the explorer can
// produce in the small world.
func TestExploreOwnersInStampStopsMisreads(t *testing.T) {
	if testing.Short() {
		t.Skip("a complete search")
	}
	naive := explored(t, "small", model.NaivePool, 0)
	if naive.Counterexample == nil {
		t.Fatal("the naive client holds in the small world: the world does not exercise misreads")
	}
	res := explored(t, "small", model.NaivePool, model.MitigationSet(OwnersInStamp))
	if res.Counterexample != nil || res.Search.Bound != "" {
		t.Fatalf("naive-pool + owners-in-stamp: %v after %d states (bound %q)", res.Counterexample.Violation, res.Search.Distinct, res.Search.Bound)
	}
}

// The simulator runs a scenario file naming both, and the judge holds them;
// the same storm with the naive client leaks, so the storm exercises the
// bug the design is meant to survive.
func TestSimulatorRunsTheScenario(t *testing.T) {
	s, err := sim.Load("storm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if d := s.Design(); d.Client != PipelinedReuse || !d.Mitigations.Has(OwnersInStamp) {
		t.Fatalf("the scenario names %v", d)
	}
	res, err := sim.Run(s, sim.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Summary.Held() {
		var b strings.Builder
		res.Summary.Print(&b)
		t.Errorf("pipelined-reuse + owners-in-stamp in the storm:\n%s", b.String())
	}
	naive := model.NaivePool
	ns, err := s.Apply(sim.Override{Client: &naive})
	if err != nil {
		t.Fatal(err)
	}
	ns.Cloud.Mitigations = 0
	nres, err := sim.Run(ns, sim.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if nres.Summary.ForeignThumbnails == 0 {
		t.Error("the naive client leaked nothing in this storm: the run does not exercise the bug")
	}
}

// rapid draws worlds (fleets, storms, outages, loss) and the design holds
// every check Expect derives from the client's own claim (OwnReply).
func TestPropertiesHold(t *testing.T) {
	faults := props.DefaultFaults()
	faults.Transfer = props.Site{} // owners-in-stamp does not claim transfers (above)
	props.CheckSafe(t, props.Scenario(props.Options{
		Clients:     []model.ClientVariant{PipelinedReuse},
		Mitigations: []model.Mitigation{OwnersInStamp},
		Faults:      &faults,
	}))
}

// The package is a user's: it imports stormproof's public API only.
func TestPublicAPIOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, imp := range strings.Fields(string(out)) {
		if strings.Contains(imp, "/internal/") {
			t.Errorf("imports %s", imp)
		}
	}
}

// The stormproof command with the design registered (./stormproof) runs a
// scenario naming it and explores it by name, with the exit statuses of
// the verdicts found above.
func TestCommandKnowsTheDesign(t *testing.T) {
	out := t.TempDir()
	if code := commands.Main([]string{"run", "storm.yaml", "--out", out, "--trace", "none"}); code != 0 {
		t.Errorf("run storm.yaml: exit %d, want 0 (every promise holds)", code)
	}
	if code := commands.Main([]string{"explore", "transfer", "--client", "pipelined-reuse", "--mitigate", "owners-in-stamp", "--out", out}); code != 1 {
		t.Errorf("explore transfer: exit %d, want 1 (the 12-step counterexample)", code)
	}
}
