package statespace_test

import (
	"fmt"
	"testing"

	"github.com/stormproof/stormproof/checker/explore"
	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/model/statespace"
)

// load is an embedded configuration with a client (nil: its own) and
// mitigations switched on.
func load(t *testing.T, name string, client *model.ClientVariant, mit ...model.Mitigation) *explore.Config {
	t.Helper()
	cfg, err := explore.Load(name)
	if err == nil {
		cfg, err = cfg.Override(client, model.MitigationSet(mit...))
	}
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Every embedded configuration composes into a System.
func TestEmbeddedConfigsCompose(t *testing.T) {
	names := explore.Embedded()
	if len(names) < 4 {
		t.Fatalf("embedded: %v", names)
	}
	for _, n := range names {
		cfg, err := explore.Load(n)
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if _, err := statespace.New(cfg.Spec(), statespace.Options{Symmetry: true}); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
}

// Every state the search stores decodes to a state whose canonical
// encoding is the stored bytes (the codec is exact, and canon idempotent),
// on the 2024 worlds and on the other incidents' parts.
func TestCodecRoundTrip(t *testing.T) {
	tagged := model.Tagged
	for _, c := range []struct {
		name   string
		client *model.ClientVariant
		mit    []model.Mitigation
		min    int
	}{
		{explore.DefaultConfig, &tagged, []model.Mitigation{model.InvalidateOnTransfer}, 5_000},
		{"transfer", &tagged, []model.Mitigation{model.InvalidateOnTransfer}, 5_000},
		{"web-2023-09", nil, []model.Mitigation{model.VerifyOnView, model.KeyInValue}, 60},
		{"notify-2020-06", nil, []model.Mitigation{model.VerifyOnView}, 60},
		{"analytics-2019-12", nil, []model.Mitigation{model.ConfigGuard, model.ExposureAlarm}, 60},
	} {
		cfg := load(t, c.name, c.client, c.mit...)
		// The lenient rule: no violation stops the search early.
		s, err := statespace.New(cfg.Spec(), statespace.Options{Symmetry: true, Rule: model.OwnerAtCaptureOrDelivery})
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		check := &roundTrip{t: t, s: s, x: s.NewExpander(), n: &checked}
		if _, err := explore.Search(check, explore.SearchOptions{MaxStates: 20_000, Workers: 1}); err != nil {
			t.Fatal(err)
		}
		if checked < c.min {
			t.Errorf("%s: only %d states checked", c.name, checked)
		}
	}
}

type roundTrip struct {
	t *testing.T
	s *statespace.System
	x *statespace.Expander
	n *int
}

func (r *roundTrip) Initial() ([]byte, uint32, error) { return r.s.Initial() }
func (r *roundTrip) NewExpander() explore.Expander    { return r }
func (r *roundTrip) Expand(state []byte, emit func([]byte, uint32, bool) bool) (int, error) {
	ok, b, err := r.x.ReEncodes(state)
	if err != nil {
		return 0, err
	}
	if !ok {
		r.t.Fatalf("state %x re-encodes as %x", state, b)
	}
	*r.n++
	return r.x.Expand(state, emit)
}

// Restoring only what a transition changed gives the same successors as a
// whole copy of the base state per successor: same counts, same paths.
func TestRestoreMatchesCopy(t *testing.T) {
	for _, name := range explore.Embedded() {
		cfg, err := explore.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		run := func(all bool) string {
			statespace.SetCopyAll(all)
			defer statespace.SetCopyAll(false)
			res, err := explore.Run(cfg, explore.Options{Search: explore.SearchOptions{MaxStates: 100_000}})
			if err != nil {
				t.Fatal(err)
			}
			sr := *res.Search
			path := sr.Violation
			sr.Violation = nil
			return fmt.Sprintf("%+v %v", sr, path)
		}
		if got, want := run(false), run(true); got != want {
			t.Errorf("%s: restoring the changes gives %s, whole copies %s", name, got, want)
		}
	}
}

// Encoding a successor from its base state's encoding, re-encoding only the
// sections the transition changed, gives the bytes a whole encoding gives.
func TestEncodeChanged(t *testing.T) {
	statespace.SetCheckChanged(true)
	defer statespace.SetCheckChanged(false)
	for _, name := range explore.Embedded() {
		cfg, err := explore.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := explore.Run(cfg, explore.Options{Search: explore.SearchOptions{MaxStates: 100_000}}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}
