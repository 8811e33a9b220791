package explore

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stormproof/stormproof/checker"
	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/sim"
)

// explored runs a configuration with a design and returns the result.
func explored(t *testing.T, name, client string, mit []string, ignore ...model.Invariant) *Result {
	t.Helper()
	res, err := Run(load(t, name, client, mit...), Options{Ignore: ignore})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// wantViolation checks that res found inv (in steps transitions, 0: any)
// and that the checker judges the counterexample's trace the same way.
func wantViolation(t *testing.T, what string, res *Result, inv model.Invariant, steps int, mustSay ...string) {
	t.Helper()
	ce := res.Counterexample
	if ce == nil || ce.Violation.Inv != inv || (steps > 0 && len(ce.Steps) != steps) {
		t.Errorf("%s: want %v in %d steps, got %+v (search %+v)", what, inv, steps, ce, res.Search)
		return
	}
	var story []string
	for _, st := range ce.Steps {
		story = append(story, st.What)
	}
	all := strings.Join(story, "\n")
	for _, s := range mustSay {
		if !strings.Contains(all, s) {
			t.Errorf("%s: the counterexample lacks %q:\n%s", what, s, all)
		}
	}
	var buf bytes.Buffer
	if err := res.WriteTrace(&buf, "test", what); err != nil {
		t.Fatal(err)
	}
	rep, err := checker.Check(&buf, what, checker.Options{NoLinearizability: true})
	if err != nil {
		t.Fatal(err)
	}
	if v := rep.Verdict(inv.String()); v == nil || v.Count == 0 || len(rep.Stories) == 0 {
		t.Errorf("%s: the checker does not see %v in the counterexample: %v", what, inv, rep.Violated())
	}
}

// wantComplete checks that every state was explored without a violation.
func wantComplete(t *testing.T, what string, res *Result, distinct uint64) {
	t.Helper()
	sr := res.Search
	if res.Counterexample != nil || !sr.Complete() || sr.Distinct != distinct || sr.Classes[3] != 0 {
		t.Errorf("%s: complete %v, %d distinct (want %d), %d stuck, violation %+v", what, sr.Complete(), sr.Distinct, distinct,
			sr.Classes[3], res.Counterexample)
	}
}

// 2023 web view: the shortest run is the fault, one session filling the
// shared entry, another reading it. The device cache's client does not
// matter; the web-path fixes hold in every interleaving. (The counts pin
// the state spaces: update them deliberately.)
func TestWebConfig(t *testing.T) {
	for _, c := range []string{"", "naive-pool", "tagged"} {
		wantViolation(t, "web-2023-09 "+c, explored(t, "web-2023-09", c, nil), model.NoForeignStream, 5,
			"fault web-cache-shared", "fault login of acct0", "fault login of acct1")
	}
	for _, tc := range []struct {
		mit      string
		distinct uint64
	}{{"key-in-value", 324}, {"stamped-media", 324}, {"verify-on-view", 768}, {"bypass-cache-ownership", 162}} {
		wantComplete(t, "web-2023-09 + "+tc.mit, explored(t, "web-2023-09", "", []string{tc.mit}), tc.distinct)
	}
	wantViolation(t, "web-2023-09 + events-tab-off-at", explored(t, "web-2023-09", "", []string{"events-tab-off-at"}), model.NoForeignStream, 5)
}

// 2020 notifications: no cache fix helps; verify-on-view stops the views
// but not the pushes; stamped-media stops both, and then the owners lose
// the misrouted notifications silently.
func TestNotifierConfig(t *testing.T) {
	wantViolation(t, "notify-2020-06", explored(t, "notify-2020-06", "", nil), model.NoForeignDelivery, 22,
		"fault notifier-defect", "deliver notify worker0→notifier", "deliver push notifier→acct")
	for _, d := range []struct{ client, mit string }{{"tagged", ""}, {"naive-pool", ""}, {"", "bypass-cache-ownership"}, {"", "key-in-value"}, {"", "verify-on-view"}} {
		var mit []string
		if d.mit != "" {
			mit = []string{d.mit}
		}
		wantViolation(t, "notify-2020-06 "+d.client+" "+d.mit, explored(t, "notify-2020-06", d.client, mit), model.NoForeignDelivery, 0)
	}
	wantViolation(t, "notify-2020-06, pushes not judged", explored(t, "notify-2020-06", "", nil, model.NoForeignDelivery, model.NoSilentLoss),
		model.NoForeignView, 23)
	wantComplete(t, "notify-2020-06 + verify-on-view, pushes not judged",
		explored(t, "notify-2020-06", "", []string{"verify-on-view"}, model.NoForeignDelivery, model.NoSilentLoss), 6343)
	wantViolation(t, "notify-2020-06 + stamped-media", explored(t, "notify-2020-06", "", []string{"stamped-media"}), model.NoSilentLoss, 25)
	wantComplete(t, "notify-2020-06 + stamped-media, losses not judged",
		explored(t, "notify-2020-06", "", []string{"stamped-media"}, model.NoSilentLoss), 2949)
}

// 2019 analytics replica: the anonymous reader gets in unless the change
// needs a second approval; the alarm and minimisation only bound what it
// reads (the simulator counts it).
func TestReplicaConfig(t *testing.T) {
	for _, mit := range []string{"", "bypass-cache-ownership", "stamped-media", "exposure-alarm", "data-minimisation"} {
		var m []string
		if mit != "" {
			m = []string{mit}
		}
		wantViolation(t, "analytics-2019-12 "+mit, explored(t, "analytics-2019-12", "", m), model.NoForeignRead, 3, "fault replica-auth-off")
	}
	wantComplete(t, "analytics-2019-12 + config-guard", explored(t, "analytics-2019-12", "", []string{"config-guard"}), 63)
}

// The other incidents' worlds: the result does not depend on the number
// of workers.
func TestIncidentConfigsWorkers(t *testing.T) {
	for _, c := range []struct {
		name string
		mit  []string
	}{{"web-2023-09", []string{"verify-on-view", "key-in-value"}}, {"notify-2020-06", []string{"verify-on-view"}},
		{"analytics-2019-12", []string{"config-guard", "exposure-alarm"}}} {
		cfg := load(t, c.name, "", c.mit...)
		var results []string
		for _, w := range []int{1, 2} {
			res, err := Run(cfg, Options{Search: SearchOptions{Workers: w}})
			if err != nil {
				t.Fatal(err)
			}
			sr := *res.Search
			sr.Violation = nil
			results = append(results, fmt.Sprintf("%+v", sr))
		}
		if results[0] != results[1] {
			t.Errorf("%s: workers differ: %v", c.name, results)
		}
	}
}

// The notifier keeps symmetry reduction (its state renames with the
// accounts); it loses nothing: without it the explorer stores exactly the
// states the orbits add up to.
func TestNotifierSymmetry(t *testing.T) {
	data, err := embedded.ReadFile("configs/notify-2020-06.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(data), "video: true ", "video: false", 1)
	cfg, err := Parse("sym.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err = cfg.Override(nil, model.MitigationSet(model.StampedMedia)); err != nil {
		t.Fatal(err)
	}
	opt := Options{Ignore: []model.Invariant{model.NoSilentLoss}}
	with, err := Run(cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	opt.NoSymmetry = true
	without, err := Run(cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	if with.Group != 2 || !with.Search.Complete() || !without.Search.Complete() || with.Search.Full != without.Search.Distinct ||
		with.Search.Distinct >= without.Search.Distinct {
		t.Errorf("with symmetry %d (group %d, %d unreduced), without %d", with.Search.Distinct, with.Group, with.Search.Full, without.Search.Distinct)
	}
}

// One list of names: an incident's explorer configuration has the name of
// its scenario, and a name cut short is answered with the full one.
func TestIncidentNamesAreScenarioNames(t *testing.T) {
	for _, in := range sim.Incidents() {
		if in.Scenario == sim.DefaultScenario {
			continue // the 2024 bug class has several small worlds (small, outage, transfer, …)
		}
		cfg, err := Load(in.Scenario)
		if err != nil {
			t.Errorf("incident %s has no explorer configuration of that name: %v", in.Scenario, err)
			continue
		}
		if cfg.Name != in.Scenario {
			t.Errorf("configuration %s calls itself %q", in.Scenario, cfg.Name)
		}
	}
	for _, name := range Embedded() {
		cfg, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Name != name {
			t.Errorf("embedded configuration %s calls itself %q", name, cfg.Name)
		}
	}
	if _, err := Load("web-2023"); err == nil || !strings.Contains(err.Error(), "did you mean web-2023-09?") {
		t.Errorf("a name cut short: %v", err)
	}
}
