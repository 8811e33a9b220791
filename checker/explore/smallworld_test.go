package explore

import (
	"os"
	"slices"
	"testing"

	"github.com/stormproof/stormproof/model"
)

// docs/explore.md, "Why small worlds suffice", argues each invariant down to
// a world of a given size and quotes what the explorer finds there, and
// "Bigger worlds" quotes complete searches of larger ones. Each quoted
// figure is checked here: a verdict (the invariant violated and the
// counterexample's length, or a complete search) and the distinct states.
func TestSmallWorldClaims(t *testing.T) {
	nfd, nfv, nsl := model.NoForeignDelivery, model.NoForeignView, model.NoSilentLoss
	const complete = model.Invariant(255)
	for _, c := range []struct {
		config, client string
		mit            []string
		ignore         []model.Invariant
		rule           model.AuthRule
		inv            model.Invariant // complete: no violation
		steps          int
		distinct       uint64
		long           bool // skipped with -short
		large          bool // run only with STORMPROOF_EXPLORE_LARGE=1 (minutes each)
		reduce         bool // --reduce ("Partial-order reduction"; distinct: the reduced search's)
	}{
		{config: "pair", inv: nfd, steps: 15, distinct: 280},
		{config: "pair-no-late", inv: complete, distinct: 175},
		{config: "pair-two-workers", inv: complete, distinct: 6_873},
		{config: "pair-cold", inv: nfd, steps: 31, distinct: 25_763},
		{config: "pair-pool2", inv: nfd, steps: 15},
		{config: "pair-pool2", client: "discard-on-timeout", inv: complete, distinct: 321_462, long: true},
		{config: "pair-pool2", client: "tagged", inv: complete, distinct: 335_926, long: true},
		{config: "pair-pool2", mit: []string{"key-in-value"}, inv: complete, distinct: 301_456, long: true},
		{config: "transfer", inv: nfd, steps: 12, distinct: 616},
		{config: "notify-2020-06", inv: nfd, steps: 22, distinct: 1_619},
		{config: DefaultConfig, ignore: []model.Invariant{nfd}, inv: nfv, steps: 16, distinct: 7_082},
		{config: "pair", ignore: []model.Invariant{nfd}, inv: nsl, steps: 32, distinct: 3_746},
		{config: "dup", client: "discard-on-timeout", inv: complete, distinct: 224_690, long: true},
		{config: "outage", client: "discard-on-timeout", inv: complete, distinct: 3_454_400, long: true},
		{config: "dup", ignore: []model.Invariant{nfd, nfv, nsl}, inv: complete, distinct: 369_954, long: true},
		{config: "web-one", inv: model.NoForeignStream, steps: 5, distinct: 100},
		{config: "web-one", mit: []string{"key-in-value"}, inv: complete, distinct: 312},
		{config: "web-one", mit: []string{"stamped-media"}, inv: complete, distinct: 312},
		{config: "web-one", mit: []string{"verify-on-view"}, inv: complete, distinct: 498},
		{config: "web-one", mit: []string{"bypass-cache-ownership"}, inv: complete, distinct: 162},
		{config: "web-transfer", inv: model.NoForeignStream, steps: 4, distinct: 88},
		{config: "web-transfer", mit: []string{"key-in-value"}, inv: model.NoForeignStream, steps: 4, distinct: 88},
		{config: "web-transfer", mit: []string{"verify-on-view"}, inv: model.NoForeignStream, steps: 6, distinct: 738},
		{config: "replica-one", inv: model.NoForeignRead, steps: 3, distinct: 10},
		{config: "replica-one", mit: []string{"config-guard"}, inv: complete, distinct: 63},
		{config: "replica-one", mit: []string{"exposure-alarm"}, inv: model.NoForeignRead, steps: 3},
		// "Bigger worlds".
		{config: "four-three-two", client: "naive-pool", inv: nfd, steps: 15, distinct: 62_816},
		{config: "four-three-two-transfer", client: "tagged", inv: nfd, steps: 12, distinct: 33_472},
		{config: "four-three-two-transfer", client: "tagged", mit: []string{"invalidate-on-transfer"}, inv: nfd, steps: 12, distinct: 44_672},
		{config: "three-accounts", client: "tagged", inv: complete, distinct: 3_248_340, large: true},
		{config: "two-workers", client: "tagged", inv: complete, distinct: 18_966_886, large: true},
		{config: "four-three-two-warm", client: "tagged", inv: complete, distinct: 19_858_320, large: true},
		{config: "four-three-two-warm", client: "tagged", reduce: true, inv: complete, distinct: 686_262, long: true},
		{config: "four-three-two", client: "tagged", reduce: true, inv: complete, distinct: 54_822_979, large: true},
		{config: "four-three-two", client: "discard-on-timeout", reduce: true, inv: complete, distinct: 23_125_097, large: true},
		{config: "four-three-two", mit: []string{"key-in-value"}, reduce: true, inv: complete, distinct: 55_682_708, large: true},
		{config: "four-three-two", mit: []string{"bypass-cache-ownership"}, reduce: true, inv: complete, distinct: 309_970, long: true},
		{config: "four-cameras", client: "tagged", reduce: true, inv: complete, distinct: 4_693_992, long: true},
		{config: "three-accounts", client: "tagged", reduce: true, inv: complete, distinct: 225_830},
		// "Partial-order reduction".
		{config: "small", client: "tagged", reduce: true, inv: complete, distinct: 225_314, long: true},
		{config: "small", client: "discard-on-timeout", reduce: true, inv: complete, distinct: 150_306, long: true},
		{config: "outage", client: "tagged", reduce: true, inv: complete, distinct: 615_583, long: true},
		{config: "pair-pool2", client: "tagged", reduce: true, inv: complete, distinct: 67_501, long: true},
		{config: "dup", client: "discard-on-timeout", reduce: true, inv: complete, distinct: 18_556},
		{config: "pair-two-workers", reduce: true, inv: complete, distinct: 2_483},
		{config: "small", reduce: true, inv: nfd, steps: 15, distinct: 2_078},
		{config: "pair-cold", reduce: true, inv: nfd, steps: 31, distinct: 4_436},
		{config: "transfer", reduce: true, inv: nfd, steps: 12, distinct: 759},
		{config: "four-three-two-transfer", client: "tagged", reduce: true, inv: nfd, steps: 12, distinct: 3_404_974, long: true},
		{config: "two-workers", client: "tagged", reduce: true, inv: complete, distinct: 1_801_374, long: true},
	} {
		if c.long && testing.Short() || c.large && os.Getenv("STORMPROOF_EXPLORE_LARGE") != "1" {
			continue
		}
		name := c.config
		if !slices.Contains(Embedded(), name) {
			name = "../../docs/smallworld/" + name + ".yaml"
		}
		res, err := Run(load(t, name, c.client, c.mit...), Options{Ignore: c.ignore, Rule: c.rule, Reduce: c.reduce})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sr, ce := res.Search, res.Counterexample
		what := c.config + " " + c.client
		for _, m := range c.mit {
			what += " +" + m
		}
		if c.reduce {
			what += " --reduce"
		}
		switch {
		case c.inv == complete && !sr.Complete():
			t.Errorf("%s: not complete (%s, violation %v)", what, sr.Bound, ce)
		case c.inv != complete && (ce == nil || ce.Violation.Inv != c.inv || len(ce.Steps) != c.steps):
			t.Errorf("%s: want %v in %d steps, got %+v", what, c.inv, c.steps, ce)
		case c.distinct != 0 && sr.Distinct != c.distinct:
			t.Errorf("%s: %d distinct states, the page says %d", what, sr.Distinct, c.distinct)
		}
	}
}
