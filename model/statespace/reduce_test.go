package statespace_test

import (
	"testing"

	"github.com/stormproof/stormproof/checker/explore"
	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/model/statespace"
)

// The partial-order reduction rests on the model's declarations (MaySend,
// MayCause, PrematureDeps, InputsCommute) and on the independence of
// steps of different actors. Both are checked on every embedded
// configuration, with each client, and on the worlds with two workers (the
// store and the registry hear from both) and with verify-on-view, at their
// first states and along random runs to their end.
func TestReductionRestsOnFacts(t *testing.T) {
	bfs, walks := 3000, 200
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
	worlds := []struct {
		name string
		mit  []model.Mitigation
	}{
		{"../../docs/smallworld/two-workers.yaml", nil}, {"../../docs/smallworld/four-three-two.yaml", nil},
		{"../../docs/smallworld/four-three-two-transfer.yaml", []model.Mitigation{model.InvalidateOnTransfer}},
		{"../../docs/smallworld/web-one.yaml", []model.Mitigation{model.VerifyOnView}},
		{"small", []model.Mitigation{model.VerifyOnView}},
	}
	for _, n := range explore.Embedded() {
		worlds = append(worlds, struct {
			name string
			mit  []model.Mitigation
		}{n, nil})
	}
	for _, wd := range worlds {
		n := wd.name
		for _, c := range cases {
			cfg := load(t, n, c.client, wd.mit...)
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

// The check can fail: declaring that the apps handle their senders'
// messages independently is caught (a tap on either of two pushes sends
// on the app's one channel to the store, so their order shows), and so is
// declaring it of the store under verify-on-view (every view asks the
// registry on one channel).
func TestReductionCheckCatchesFalseInputsCommute(t *testing.T) {
	for _, c := range []struct {
		kind  model.Kind
		world string
		mit   []model.Mitigation
	}{
		{model.KindApp, "../../docs/smallworld/two-workers.yaml", nil},
		{model.KindStore, "small", []model.Mitigation{model.VerifyOnView}},
	} {
		statespace.SetInputsCommute(func(p *model.Params, k model.Kind) bool {
			return k == c.kind || model.InputsCommute(p, k)
		})
		cfg := load(t, c.world, nil, c.mit...)
		s, err := statespace.New(cfg.Spec(), statespace.Options{Symmetry: true})
		statespace.SetInputsCommute(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := statespace.CheckReduction(s, 3000, 400, 1); err == nil {
			t.Errorf("declaring %v's inputs independent in %s went unnoticed", c.kind, c.world)
		} else {
			t.Logf("%v: %.200s", c.kind, err)
		}
	}
}
