package commands

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/stormproof/stormproof/checker"
	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/sim"
)

// One verdict everywhere: for every embedded scenario, every cache client
// and every mitigation, the exit status `run` gives (the simulator's own
// monitor, through the policy) equals the one `check` gives on the trace the
// run wrote (the judge reading the file, through the same policy). The
// embedded scenarios have no ownership transfers, so the rule cannot change
// their verdicts: they run under the default rule; testdata/resales.yaml,
// where cameras change hands during the storm, runs under both. Fleets are
// scaled to at most 600 cameras so the table runs in the suite;
// STORMPROOF_AGREE_SEEDS=N runs N seeds from each scenario's own (default 1),
// STORMPROOF_AGREE_CAMERAS=N sets the cap and STORMPROOF_AGREE_RULES=both
// runs every scenario under both rules.
func TestRunAndCheckAgree(t *testing.T) {
	seeds := envInt(t, "STORMPROOF_AGREE_SEEDS", 1)
	capCams := envInt(t, "STORMPROOF_AGREE_CAMERAS", 600)
	type design struct {
		client *model.ClientVariant
		mit    model.Mitigations
	}
	designName := func(d design) string {
		if d.client != nil {
			return d.client.String()
		}
		return "+" + d.mit.String()
	}
	var designs []design
	for _, c := range model.Clients() {
		designs = append(designs, design{client: &c})
	}
	for _, m := range model.AllMitigations() {
		designs = append(designs, design{mit: model.MitigationSet(m)})
	}
	const resales = "testdata/resales.yaml"
	scenarios := append(sim.Embedded(), resales)
	if testing.Short() {
		scenarios = []string{sim.DefaultScenario, resales}
		naive, tagged := model.NaivePool, model.Tagged
		designs = []design{{client: &naive}, {client: &tagged}, {mit: model.MitigationSet(model.StampedMedia)}}
	}
	both := []model.AuthRule{model.OwnerAtCapture, model.OwnerAtCaptureOrDelivery}
	differ := map[int]int{}
	ruleMatters := false
	for _, name := range scenarios {
		base, err := sim.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		scale := 1.0
		if n := float64(base.Fleet.Cameras) * base.Scale; n > float64(capCams) {
			scale = float64(capCams) / n
		}
		rules := both[:1]
		if name == resales || os.Getenv("STORMPROOF_AGREE_RULES") == "both" {
			rules = both
		}
		for _, d := range designs {
			for i := 0; i < seeds; i++ {
				seed := base.Seed + uint64(i)
				for _, rule := range rules {
					s, err := base.Apply(sim.Override{Client: d.client, Mitigations: d.mit, Seed: &seed, Scale: scale, Rule: rule.String()})
					if err != nil {
						t.Fatalf("%s %s: %v", name, designName(d), err)
					}
					var buf bytes.Buffer
					res, err := sim.Run(s, sim.RunOptions{Detail: "full", Trace: &buf})
					if err != nil {
						t.Fatalf("%s %s: %v", name, designName(d), err)
					}
					runDec := decideRun(&res.Summary)
					// Linearizability is a diagnosis: under the default policy
					// it cannot change the exit status, so it is skipped here.
					rep, err := checker.Check(&buf, name, checker.Options{NoLinearizability: true})
					if err != nil {
						t.Fatalf("%s %s seed %d rule %s: check: %v", name, designName(d), seed, rule, err)
					}
					checkDec := rep.Decide(checker.Policy{})
					label := fmt.Sprintf("%s %s seed=%d rule=%s", name, designName(d), seed, rule)
					if runDec.Exit != checkDec.Exit {
						t.Errorf("%s: run exits %d (%s), check exits %d (%s)", label, runDec.Exit, runDec.Line(), checkDec.Exit, checkDec.Line())
					}
					// The counts agree too, invariant by invariant.
					for i, v := range summaryVerdicts(&res.Summary) {
						c := rep.Verdicts[i]
						if v.Name != c.Name || v.Judged != c.Judged || v.Count != c.Count {
							t.Errorf("%s: %s: run judged=%v count=%d, check judged=%v count=%d", label, v.Name, v.Judged, v.Count, c.Judged, c.Count)
						}
					}
					differ[runDec.Exit]++
					if name == resales && rule == model.OwnerAtCapture && d.client != nil && *d.client == model.Tagged && runDec.Exit == 1 {
						ruleMatters = true
					}
				}
			}
		}
	}
	t.Logf("exit statuses over the table: %v", differ)
	if !testing.Short() && (differ[0] == 0 || differ[1] == 0) {
		t.Errorf("the table should hold both safe and leaking designs: %v", differ)
	}
	if !ruleMatters {
		t.Errorf("in %s the tagged client should violate a promise under the owner-at-capture rule (a pre-sale event reaches the buyer)", resales)
	}
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s: want a positive integer, got %q", name, v)
	}
	return n
}
