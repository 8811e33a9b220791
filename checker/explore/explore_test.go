package explore

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stormproof/stormproof/checker"
	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/model/statespace"
)

func load(t *testing.T, name, client string, mit ...string) *Config {
	t.Helper()
	cfg, err := Load(name)
	if err != nil {
		t.Fatal(err)
	}
	var c *model.ClientVariant
	if client != "" {
		c = new(model.ClientVariant)
		if err := c.UnmarshalText([]byte(client)); err != nil {
			t.Fatal(err)
		}
	}
	var m model.Mitigations
	if err := m.UnmarshalText([]byte(strings.Join(mit, ","))); err != nil {
		t.Fatal(err)
	}
	if cfg, err = cfg.Override(c, m); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The naive pool on the default configuration: the shortest counterexample
// is the late reply of one GET read by the next one, 15 transitions.
func TestNaivePoolShortestCounterexample(t *testing.T) {
	cfg := load(t, DefaultConfig, "naive-pool")
	res, err := Run(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ce := res.Counterexample
	if ce == nil {
		t.Fatalf("no counterexample: %+v", res.Search)
	}
	if ce.Violation.Inv != model.NoForeignDelivery || len(ce.Steps) != 15 || res.Search.Depth != 15 {
		t.Fatalf("violation %v in %d steps (depth %d), want NoForeignDelivery in 15", ce.Violation, len(ce.Steps), res.Search.Depth)
	}
	var premature, misread bool
	for _, st := range ce.Steps {
		premature = premature || strings.Contains(st.What, "fires before its answer arrives")
		for _, o := range st.Obs {
			misread = misread || (o.Kind == model.ObsCacheRet && o.Outcome == model.OutHit && o.ReplyOf != o.Token)
		}
	}
	if !premature || !misread {
		t.Errorf("the story lacks the timeout (%v) or the misread reply (%v)", premature, misread)
	}
	// Shortest: no run of 14 steps goes wrong.
	short, err := Run(cfg, Options{Search: SearchOptions{MaxDepth: 14}})
	if err != nil {
		t.Fatal(err)
	}
	if short.Counterexample != nil || short.Search.Bound != BoundedDepth {
		t.Errorf("within 14 steps: %+v", short.Search)
	}
	// The trace is judged by the checker the same way.
	var buf bytes.Buffer
	if err := res.WriteTrace(&buf, "test", "stormproof explore"); err != nil {
		t.Fatal(err)
	}
	rep, err := checker.Check(bytes.NewReader(buf.Bytes()), "counterexample.jsonl", checker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v := rep.Verdict("NoForeignDelivery"); v == nil || v.Count != 1 {
		t.Errorf("the checker does not see the foreign delivery: %+v", rep.Violated())
	}
	if !strings.Contains(buf.String(), `"engine":"explore"`) || !strings.Contains(buf.String(), `"detail":"full"`) {
		t.Errorf("header: %s", strings.SplitN(buf.String(), "\n", 2)[0])
	}
}

// The four safe designs on the default configuration: every interleaving
// explored, no violation. The counts pin the state space, so a model change
// that alters it is noticed (update them deliberately).
func TestSafeDesignsComplete(t *testing.T) {
	if testing.Short() {
		t.Skip("explores ~8 million states")
	}
	for _, tc := range []struct {
		client, mit string
		distinct    uint64
	}{
		{"discard-on-timeout", "", 1_920_002},
		{"tagged", "", 2_893_224},
		{"naive-pool", "bypass-cache-ownership", 65_488},
		{"naive-pool", "key-in-value", 2_749_493},
	} {
		var mit []string
		if tc.mit != "" {
			mit = []string{tc.mit}
		}
		res, err := Run(load(t, DefaultConfig, tc.client, mit...), Options{})
		if err != nil {
			t.Fatal(err)
		}
		sr := res.Search
		if !sr.Complete() || sr.Distinct != tc.distinct || sr.Classes[3] != 0 {
			t.Errorf("%s %s: complete %v, %d distinct (want %d), %d stuck, violation %v",
				tc.client, tc.mit, sr.Complete(), sr.Distinct, tc.distinct, sr.Classes[3], res.Counterexample)
		}
	}
}

// Under the lenient rule (owner at capture or at delivery), a transfer with
// a stale cached owner is a foreign delivery, unless the ownership write
// invalidates the cache.
func TestTransferStaleOwner(t *testing.T) {
	lenient := Options{Rule: model.OwnerAtCaptureOrDelivery}
	res, err := Run(load(t, "transfer", ""), lenient)
	if err != nil {
		t.Fatal(err)
	}
	ce := res.Counterexample
	if ce == nil || ce.Violation.Inv != model.NoForeignDelivery || ce.Violation.Account != 0 || ce.Violation.Device != 0 {
		t.Fatalf("want camera 0's event pushed to its former owner: %+v", ce)
	}
	transferred := false
	for _, st := range ce.Steps {
		transferred = transferred || strings.HasPrefix(st.What, "fault transfer")
	}
	if !transferred {
		t.Error("the counterexample has no transfer")
	}
	res, err = Run(load(t, "transfer", "", "invalidate-on-transfer"), lenient)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Search.Complete() || res.Search.Distinct != 68_559 {
		t.Errorf("invalidate-on-transfer: %+v, violation %v", res.Search, res.Counterexample)
	}
}

// Under the default rule the footage belongs to the owner at capture:
// invalidating the cache on a transfer is not enough, because an event
// captured before the sale and resolved after it goes to the buyer. Stamped
// media (the owner at capture stamped into the event, checked before a push)
// closes that.
func TestTransferOwnerAtCapture(t *testing.T) {
	res, err := Run(load(t, "transfer", "", "invalidate-on-transfer"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ce := res.Counterexample
	if ce == nil || ce.Violation.Inv != model.NoForeignDelivery || ce.Violation.Account != 1 || ce.Violation.Device != 0 {
		t.Fatalf("want the seller's event (camera 0) pushed to the buyer (account 1): %+v", ce)
	}
	if auth := ce.Violation.Authorized; auth.N != 1 || auth.IDs[0] != 0 {
		t.Errorf("the owners at capture should be the seller [0], got %v", auth)
	}
	res, err = Run(load(t, "transfer", "", "invalidate-on-transfer", "stamped-media"), Options{Ignore: []model.Invariant{model.NoSilentLoss}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Search.Complete() || res.Counterexample != nil {
		t.Errorf("invalidate-on-transfer + stamped-media: complete %v, violation %+v", res.Search.Complete(), res.Counterexample)
	}
}

// Invalidation with tombstones fails when a cold restart forgets the
// tombstone and a SET carrying a pre-transfer registry read lands after it.
func TestTransferRestartForgetsTombstone(t *testing.T) {
	if testing.Short() {
		t.Skip("explores ~1.9 million states")
	}
	res, err := Run(load(t, "transfer-restart", ""), Options{Rule: model.OwnerAtCaptureOrDelivery})
	if err != nil {
		t.Fatal(err)
	}
	ce := res.Counterexample
	if ce == nil || ce.Violation.Inv != model.NoForeignDelivery || len(ce.Steps) != 28 || res.Search.Distinct != 1_702_569 {
		t.Fatalf("want a 28-step foreign delivery after 1,702,569 distinct states: %+v", res.Search)
	}
	var transfer, restart int
	for i, st := range ce.Steps {
		switch {
		case strings.HasPrefix(st.What, "fault transfer"):
			transfer = i
		case strings.HasPrefix(st.What, "fault cache-restart"):
			restart = i
		}
	}
	if transfer == 0 || restart < transfer {
		t.Errorf("want the restart after the transfer: transfer at %d, restart at %d", transfer, restart)
	}
}

// Same configuration, any number of workers: same counts, same
// counterexample, byte-identical trace.
func TestExploreDeterministic(t *testing.T) {
	cfg := load(t, DefaultConfig, "naive-pool")
	var traces []string
	var results []string
	for _, w := range []int{1, 2, 3} {
		res, err := Run(cfg, Options{Search: SearchOptions{Workers: w}})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := res.WriteTrace(&buf, "test", "x"); err != nil {
			t.Fatal(err)
		}
		traces = append(traces, buf.String())
		sr := *res.Search
		sr.Violation = nil
		results = append(results, fmt.Sprintf("%d %+v", len(res.Counterexample.Steps), sr))
	}
	for i := 1; i < len(traces); i++ {
		if traces[i] != traces[0] || results[i] != results[0] {
			t.Errorf("workers differ: %s vs %s", results[i], results[0])
		}
	}
}

// Symmetry reduction loses nothing: without it the explorer stores exactly
// the states the orbit sizes add up to.
func TestSymmetryFactor(t *testing.T) {
	cfg := load(t, DefaultConfig, "naive-pool", "bypass-cache-ownership")
	with, err := Run(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	without, err := Run(cfg, Options{NoSymmetry: true})
	if err != nil {
		t.Fatal(err)
	}
	if with.Group != 2 || without.Group != 1 {
		t.Fatalf("groups %d and %d", with.Group, without.Group)
	}
	if !with.Search.Complete() || !without.Search.Complete() || without.Search.Distinct != with.Search.Full ||
		with.Search.Distinct >= without.Search.Distinct {
		t.Errorf("with symmetry %+v, without %+v", with.Search, without.Search)
	}
}

func TestConfigErrors(t *testing.T) {
	good, err := embedded.ReadFile("configs/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, edit, want string }{
		{"unknown field", "start: connected", "bad.yaml:20: colour: unknown field"},
		{"no source", "accounts: 2                        # assumed: the fewest that can see each other's events", "bad.yaml:8: accounts: no source"},
		{"owner out of range", "    owners: [1]                    # assumed", "bad.yaml:17: cameras.2.owners: no account 5 (the configuration has 2)"},
		{"bad client", "  client: naive-pool               # the design as shipped (sim scenario wyze-2024-02)", "bad.yaml:23: cloud.client: unknown cache client"},
	} {
		var repl string
		switch tc.name {
		case "unknown field":
			repl = tc.edit + "\ncolour: red                        # assumed"
		case "no source":
			repl = "accounts: 2"
		case "owner out of range":
			repl = "    owners: [5]                    # assumed"
		case "bad client":
			repl = "  client: naive                    # assumed"
		}
		data := strings.Replace(string(good), tc.edit, repl, 1)
		if data == string(good) {
			t.Fatalf("%s: edit did not apply", tc.name)
		}
		_, err := Parse("bad.yaml", []byte(data))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := Load("no-such-config"); err == nil || !strings.Contains(err.Error(), "small") {
		t.Errorf("unknown name: %v", err)
	}
	bad := model.ClientVariant(9)
	if _, err := load(t, DefaultConfig, "").Override(&bad, 0); err == nil || !strings.Contains(err.Error(), "cloud.client: no cache client 9") {
		t.Errorf("bad client: %v", err)
	}
}

// The explorer's probabilities refuse NaN and both infinities, naming the
// file, the line and the field.
func TestConfigFloatsAreFinite(t *testing.T) {
	good, err := embedded.ReadFile("configs/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"tap_prob", "video_prob"} {
		re := regexp.MustCompile(`(?m)^(\s*)` + field + `:\s*[^#\s]+`)
		loc := re.FindIndex(good)
		if loc == nil {
			t.Fatalf("small.yaml has no %s", field)
		}
		line := strings.Count(string(good[:loc[0]]), "\n") + 1
		for _, v := range []string{".nan", ".inf", "-.inf"} {
			_, err := Parse("bad.yaml", re.ReplaceAll(good, []byte("${1}"+field+": "+v)))
			want := fmt.Sprintf("bad.yaml:%d: users.%s: ", line, field)
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("%s: %s: got %v, want %q…", field, v, err, want)
			}
		}
	}
}

// A NoSilentLoss counterexample ends quiet: the trace's last line says so,
// so the checker judges NoSilentLoss on it; other counterexamples do not.
func TestTraceEndLine(t *testing.T) {
	cfg := load(t, "transfer", "")
	for _, inv := range []model.Invariant{model.NoSilentLoss, model.NoForeignDelivery} {
		r := &Result{Config: cfg, Counterexample: &statespace.Counterexample{Violation: model.Violation{Inv: inv},
			Steps: []statespace.Step{{What: "x", Obs: []model.Obs{{Kind: model.ObsSleep, Actor: model.CameraAddr(0)}}}}}}
		var buf bytes.Buffer
		if err := r.WriteTrace(&buf, "test", "x"); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		last := lines[len(lines)-1]
		if quiet := strings.Contains(last, `"k":"end"`) && strings.Contains(last, `"quiet":true`); quiet != (inv == model.NoSilentLoss) {
			t.Errorf("%v: last line %s", inv, last)
		}
	}
}
