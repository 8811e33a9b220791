package explore

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
)

// Partial-order reduction keeps every verdict: each embedded configuration,
// the safe clients on the worlds where the shipped one fails, and the
// small worlds of docs/explore.md, with and without it, reach the same
// verdict with the same counterexample (a shortest one, step for step). A
// complete search stores no more states with it, and fewer in all. (A
// violation may lie deeper in the reduced graph, so a reduced search that
// finds one may store more.) The states each way are logged (go test -v
// -run TestReductionKeepsVerdicts).
func TestReductionKeepsVerdicts(t *testing.T) {
	type tc struct {
		config, client string
		mit            []string
		long           bool
	}
	var cases []tc
	for _, n := range Embedded() {
		cases = append(cases, tc{config: n})
	}
	cases = append(cases,
		tc{config: "small", client: "tagged", long: true},
		tc{config: "small", client: "discard-on-timeout", long: true},
		tc{config: "outage", client: "tagged", long: true},
		tc{config: "pair"}, tc{config: "pair-no-late"}, tc{config: "pair-two-workers"}, tc{config: "pair-cold"},
		tc{config: "pair-pool2"}, tc{config: "pair-pool2", client: "tagged", long: true},
		tc{config: "web-one"}, tc{config: "web-one", mit: []string{"verify-on-view"}},
		tc{config: "web-transfer", mit: []string{"verify-on-view"}},
		tc{config: "replica-one", mit: []string{"config-guard"}},
		tc{config: "dup", client: "discard-on-timeout", long: true},
		tc{config: "four-three-two", client: "naive-pool"},
		tc{config: "four-three-two-transfer", client: "tagged"},
		tc{config: "four-three-two-transfer", client: "tagged", mit: []string{"invalidate-on-transfer"}, long: true},
	)
	var plainAll, reducedAll uint64
	for _, c := range cases {
		if c.long && testing.Short() {
			continue
		}
		name := c.config
		if !slices.Contains(Embedded(), name) {
			name = "../../docs/smallworld/" + name + ".yaml"
		}
		what := c.config + " " + c.client
		for _, m := range c.mit {
			what += " +" + m
		}
		cfg := load(t, name, c.client, c.mit...)
		plain, err := Run(cfg, Options{})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		reduced, err := Run(cfg, Options{Reduce: true})
		if err != nil {
			t.Fatalf("%s --reduce: %v", what, err)
		}
		p, r := plain.Search, reduced.Search
		pc, rc := plain.Counterexample, reduced.Counterexample
		switch {
		case p.Complete() != r.Complete():
			t.Errorf("%s: complete %v without reduction, %v with", what, p.Complete(), r.Complete())
		case (pc == nil) != (rc == nil):
			t.Errorf("%s: counterexample %v without reduction, %v with", what, pc != nil, rc != nil)
		case pc != nil && !reflect.DeepEqual(pc, rc):
			t.Errorf("%s: the counterexamples differ: %d steps (%v) without reduction, %d (%v) with",
				what, len(pc.Steps), pc.Violation.Inv, len(rc.Steps), rc.Violation.Inv)
		case p.Complete() && r.Distinct > p.Distinct:
			t.Errorf("%s: %d states stored with reduction, %d without", what, r.Distinct, p.Distinct)
		}
		verdict := "complete"
		if pc != nil {
			verdict = fmt.Sprintf("%v in %d steps", pc.Violation.Inv, len(pc.Steps))
		}
		t.Logf("%-45s %-28s %10d states, %10d reduced (×%.2f)", what, verdict, p.Distinct, r.Distinct, float64(p.Distinct)/float64(r.Distinct))
		if p.Complete() {
			plainAll += p.Distinct
			reducedAll += r.Distinct
		}
	}
	if reducedAll >= plainAll {
		t.Errorf("complete searches: the reduction stored %d states in all, the plain search %d", reducedAll, plainAll)
	}
	t.Logf("complete searches: %d states, %d reduced (×%.2f)", plainAll, reducedAll, float64(plainAll)/float64(reducedAll))
}

// A reduced search's result depends on neither the number of workers nor
// their timing (the cycle proviso reads only the levels already merged).
func TestReducedSearchDeterministicAcrossWorkers(t *testing.T) {
	cfg := load(t, "../../docs/smallworld/pair-pool2.yaml", "tagged")
	var first *SearchResult
	for _, w := range []int{1, 2, 3} {
		res, err := Run(cfg, Options{Reduce: true, Search: SearchOptions{Workers: w, MaxStates: 100_000}})
		if err != nil {
			t.Fatal(err)
		}
		sr := res.Search
		if first == nil {
			first = sr
			continue
		}
		if sr.Distinct != first.Distinct || sr.Generated != first.Generated || sr.Depth != first.Depth {
			t.Errorf("%d workers: %d distinct, %d generated, depth %d; 1 worker: %d, %d, %d",
				w, sr.Distinct, sr.Generated, sr.Depth, first.Distinct, first.Generated, first.Depth)
		}
	}
}
