package statespace_test

import (
	"testing"

	"github.com/stormproof/stormproof/checker/explore"
	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/model/statespace"
)

// The partial-order reduction rests on the model's declarations (MaySend,
// PrematureDeps) and on the independence of steps of different actors.
// Both are checked on every embedded configuration, with each client, at
// its first states and along random runs to its end.
func TestReductionRestsOnFacts(t *testing.T) {
	bfs, walks := 3000, 40
	if testing.Short() {
		bfs, walks = 400, 8
	}
	cases := []struct {
		client *model.ClientVariant
		rule   model.AuthRule
	}{
		{nil, model.OwnerAtCapture}, {ptr(model.Tagged), model.OwnerAtCapture},
		{ptr(model.DiscardOnTimeout), model.OwnerAtCapture}, {ptr(model.Tagged), model.OwnerAtCaptureOrDelivery},
	}
	for _, n := range explore.Embedded() {
		for _, c := range cases {
			cfg := load(t, n, c.client)
			name := n + "/" + cfg.Design().String() + "/" + c.rule.String()
			s, err := statespace.New(cfg.Spec(), statespace.Options{Symmetry: true, Rule: c.rule})
			if err != nil {
				t.Fatal(err)
			}
			rc, err := statespace.CheckReduction(s, bfs, walks, 1)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if rc.Pairs == 0 {
				t.Errorf("%s: no independent pair in %d states", name, rc.States)
			}
			t.Logf("%s: %d states, %d transitions, %d independent pairs commute", name, rc.States, rc.Transitions, rc.Pairs)
		}
	}
}

func ptr[T any](v T) *T { return &v }
