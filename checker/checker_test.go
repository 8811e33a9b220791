package checker

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/sim"
	"github.com/stormproof/stormproof/traces"
	"github.com/stormproof/stormproof/traces/render"
)

// counts is the expected number of violations per check; a missing name
// means "held"; -1 means "not judged".
type counts map[string]int

func expect(t *testing.T, rep *Report, want counts) {
	t.Helper()
	for _, v := range rep.Verdicts {
		w, ok := want[v.Name]
		if !ok && v.Name == WitnessedDelivery {
			w = -1 // judged only where a trace has witness lines
		}
		switch {
		case w == -1 && v.Judged:
			t.Errorf("%s: judged (count %d), want not judged", v.Name, v.Count)
		case w >= 0 && !v.Judged:
			t.Errorf("%s: not judged (%s), want %d violations", v.Name, v.NotJudged, w)
		case w >= 0 && v.Count != uint64(w):
			t.Errorf("%s: %d violations, want %d (first: %+v)", v.Name, v.Count, w, v.First)
		}
	}
}

func TestHandWrittenTraces(t *testing.T) {
	for _, tc := range []struct {
		file string
		want counts
	}{
		{"clean.jsonl", counts{}},
		// One push of camera 0's event to account 1, nothing else wrong.
		{"foreign-delivery.jsonl", counts{"NoForeignDelivery": 1}},
		// The cache lost a completed SET: a later GET misses. No stranger
		// sees anything; only linearizability catches it.
		{"nonlinearizable-cache.jsonl", counts{CacheLinearizable: 1}},
		{"nonlinearizable-registry.jsonl", counts{RegistryLinearizable: 1}},
		// The naive pool's misread, end to end.
		{"misread.jsonl", counts{"NoForeignDelivery": 1, "NoForeignView": 1, "NoSilentLoss": 1, CacheLinearizable: 1}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			rep, err := CheckFile(filepath.Join("testdata", tc.file), Options{})
			if err != nil {
				t.Fatal(err)
			}
			expect(t, rep, tc.want)
			// Held: no promise broken; the diagnoses do not count.
			promise := false
			for name := range tc.want {
				promise = promise || !IsDiagnosis(name)
			}
			if got, want := rep.Held(), !promise; got != want {
				t.Errorf("Held() = %v, want %v", got, want)
			}
		})
	}
}

func TestForeignDeliveryInstance(t *testing.T) {
	rep, err := CheckFile("testdata/foreign-delivery.jsonl", Options{})
	if err != nil {
		t.Fatal(err)
	}
	v := rep.Verdict("NoForeignDelivery")
	if len(v.First) != 1 {
		t.Fatalf("instances: %+v", v.First)
	}
	in := v.First[0]
	if in.Line != 11 || in.T != 310 || in.Violation == nil || in.Violation.Account != 1 || in.Violation.Device != 0 {
		t.Errorf("instance = %+v (violation %+v), want line 11, t 310, device 0 to account 1", in, in.Violation)
	}
}

func TestMisreadStory(t *testing.T) {
	rep, err := CheckFile("testdata/misread.jsonl", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Stories) != 1 {
		t.Fatalf("%d stories, want 1", len(rep.Stories))
	}
	s := rep.Stories[0]
	if s.Invariant != "NoForeignDelivery" {
		t.Errorf("story of %s, want NoForeignDelivery", s.Invariant)
	}
	// The headline names the connection, the timed-out request and the
	// request that read its reply.
	for _, w := range []string{"connection 3", "tok 7 (GET 1) timed out", "tok 8 (GET 0)", "event 0/0"} {
		if !strings.Contains(s.Headline, w) {
			t.Errorf("headline %q does not name %q", s.Headline, w)
		}
	}
	var kinds []string
	lastLine := 0
	violations := 0
	for _, st := range s.Steps {
		kinds = append(kinds, st.Kind)
		if st.Line <= lastLine {
			t.Errorf("steps out of trace order: line %d after %d", st.Line, lastLine)
		}
		lastLine = st.Line
		if st.Violation {
			violations++
		}
	}
	want := "capture cache-call upload cache-ret cache-call cache-serve cache-ret lookup deliver tap view"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("steps %q\nwant  %q", got, want)
	}
	if violations != 2 {
		t.Errorf("%d violating steps, want 2 (the push and the view)", violations)
	}
	if len(s.Steps) > 15 {
		t.Errorf("%d steps, want at most 15", len(s.Steps))
	}
}

func TestNotJudged(t *testing.T) {
	data, err := os.ReadFile("testdata/clean.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	// Without the end line NoSilentLoss cannot be judged.
	noEnd := data[:bytes.LastIndex(data[:len(data)-1], []byte("\n"))+1]
	rep, err := Check(bytes.NewReader(noEnd), "no-end", Options{})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, rep, counts{"NoSilentLoss": -1})
	// A slice trace: the Monitor is partial, linearizability not judged.
	slice := bytes.Replace(data, []byte(`"detail":"full"`), []byte(`"detail":"slice"`), 1)
	rep, err = Check(bytes.NewReader(slice), "slice", Options{})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, rep, counts{"NoSilentLoss": -1, CacheLinearizable: -1, RegistryLinearizable: -1})
	// A run that did not become quiet.
	loud := bytes.Replace(data, []byte(`"quiet":true`), []byte(`"quiet":false`), 1)
	rep, err = Check(bytes.NewReader(loud), "loud", Options{})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, rep, counts{"NoSilentLoss": -1})
}

func TestSilentLoss(t *testing.T) {
	data, err := os.ReadFile("testdata/clean.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	// Remove the drop: event 0/0 was captured and then nothing.
	lost := bytes.Replace(data, []byte(`{"t":610,"k":"drop","a":"cam0","dev":0,"seq":0,"why":"buffer-full"}`+"\n"), nil, 1)
	if bytes.Equal(lost, data) {
		t.Fatal("fixture changed: no drop line")
	}
	rep, err := Check(bytes.NewReader(lost), "lost", Options{})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, rep, counts{"NoSilentLoss": 1})
	if len(rep.Stories) != 1 || rep.Stories[0].Invariant != "NoSilentLoss" {
		t.Fatalf("stories: %+v", rep.Stories)
	}
}

func TestMalformedNamesLine(t *testing.T) {
	for file, line := range map[string]int{
		"truncated.jsonl": 3, "unknown-kind.jsonl": 3, "missing-header.jsonl": 1, "unknown-major.jsonl": 1,
		"out-of-order.jsonl": 4, "device-out-of-range.jsonl": 2, "after-end.jsonl": 3,
	} {
		path := filepath.Join("testdata", "bad", file)
		_, err := CheckFile(path, Options{})
		var te *traces.Error
		if !errors.As(err, &te) {
			t.Errorf("%s: error %v (%T), want a *traces.Error", file, err, err)
			continue
		}
		if te.Line != line || te.File != path {
			t.Errorf("%s: error at %s:%d, want line %d: %v", file, te.File, te.Line, line, err)
		}
	}
}

func TestUnmatchedCallIsUnknown(t *testing.T) {
	// A GET that never returns and a SET whose reply never comes: both stay
	// in the history with unknown results, and the history is linearizable
	// whichever way they went.
	h := `{"schema":"stormproof-trace","version":"1.1","engine":"live","scenario":"x","seed":0,"design":"naive-pool","devices":1,"accounts":1,"detail":"full","tool":"t"}
{"t":1,"k":"cache-call","a":"worker0","conn":0,"gen":1,"tok":1,"op":"set","key":0,"val":{"dev":0,"own":[0],"ver":0}}
{"t":2,"k":"cache-call","a":"worker0","conn":1,"gen":1,"tok":1,"op":"get","key":0}
{"t":3,"k":"cache-ret","a":"worker0","conn":1,"gen":1,"tok":1,"op":"get","key":0,"out":"hit","val":{"dev":0,"own":[0],"ver":0}}
{"t":4,"k":"cache-call","a":"worker0","conn":2,"gen":1,"tok":1,"op":"get","key":0}
`
	rep, err := Check(strings.NewReader(h), "x", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Cache.Ops != 3 || len(rep.Cache.Violated) != 0 {
		t.Errorf("cache: %d ops, %d violated keys; want 3 ops, none violated", rep.Cache.Ops, len(rep.Cache.Violated))
	}
	// The same hit without the pending SET before it is impossible.
	bad := strings.Replace(h, `{"t":1,"k":"cache-call","a":"worker0","conn":0,"gen":1,"tok":1,"op":"set","key":0,"val":{"dev":0,"own":[0],"ver":0}}`+"\n", "", 1)
	rep, err = Check(strings.NewReader(bad), "x", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Cache.Violated) != 1 {
		t.Errorf("a hit that nothing wrote: %d violated keys, want 1", len(rep.Cache.Violated))
	}
}

// simTrace runs the default scenario at a tenth of its size into memory.
func simTrace(t testing.TB, client string) []byte {
	t.Helper()
	s, err := sim.Load(sim.DefaultScenario)
	if err != nil {
		t.Fatal(err)
	}
	var c model.ClientVariant
	if err := c.UnmarshalText([]byte(client)); err != nil {
		t.Fatal(err)
	}
	s, err = s.Apply(sim.Override{Client: &c, Scale: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := sim.Run(s, sim.RunOptions{Detail: "full", Trace: &buf, Tool: "test"}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var simTraces sync.Map

func cachedSimTrace(t testing.TB, client string) []byte {
	if b, ok := simTraces.Load(client); ok {
		return b.([]byte)
	}
	b := simTrace(t, client)
	simTraces.Store(client, b)
	return b
}

func TestSimNaiveIsCaughtAndExplained(t *testing.T) {
	rep, err := Check(bytes.NewReader(cachedSimTrace(t, "naive-pool")), "naive", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Held() {
		t.Fatal("naive-pool held")
	}
	for _, name := range []string{"NoForeignDelivery", CacheLinearizable} {
		if v := rep.Verdict(name); !v.Judged || v.Count == 0 {
			t.Errorf("%s: %+v, want violated", name, v)
		}
	}
	if len(rep.Stories) == 0 {
		t.Fatal("no story")
	}
	s := rep.Stories[0]
	if len(s.Steps) > 15 {
		t.Errorf("story has %d steps, want ≤ 15", len(s.Steps))
	}
	var kinds []string
	for _, st := range s.Steps {
		kinds = append(kinds, st.Kind+":"+st.What)
	}
	all := strings.Join(kinds, "\n")
	for _, w := range []string{"times out", "— the reply of tok", "cache-call:GET"} {
		if !strings.Contains(all, w) {
			t.Errorf("story lacks %q:\n%s", w, all)
		}
	}
	if !strings.Contains(s.Headline, "timed out") || !strings.Contains(s.Headline, "connection") {
		t.Errorf("headline %q", s.Headline)
	}
}

func TestSimSafeClientsHold(t *testing.T) {
	for _, c := range []string{"tagged", "discard-on-timeout"} {
		rep, err := Check(bytes.NewReader(cachedSimTrace(t, c)), c, Options{})
		if err != nil {
			t.Fatal(err)
		}
		expect(t, rep, counts{})
		if rep.Cache.Ops == 0 || rep.Registry.Ops == 0 {
			t.Errorf("%s: empty histories (%d cache, %d registry ops)", c, rep.Cache.Ops, rep.Registry.Ops)
		}
	}
}

func TestRendersAreDeterministic(t *testing.T) {
	data := cachedSimTrace(t, "naive-pool")
	var outs [2][4][]byte
	for i := range outs {
		rep, err := Check(bytes.NewReader(data), "naive", Options{Explain: 3})
		if err != nil {
			t.Fatal(err)
		}
		var b [4]bytes.Buffer
		if err := render.Timeline(&b[0], &rep.Header, rep.Stories); err != nil {
			t.Fatal(err)
		}
		if err := render.Mermaid(&b[1], &rep.Header, &rep.Stories[0]); err != nil {
			t.Fatal(err)
		}
		if err := render.Porcupine(&b[2], rep.Cache.Page("t", 0, 0)); err != nil {
			t.Fatal(err)
		}
		tr, err := traces.NewReader(bytes.NewReader(data), "naive")
		if err != nil {
			t.Fatal(err)
		}
		if err := render.Perfetto(&b[3], tr); err != nil {
			t.Fatal(err)
		}
		for j := range b {
			outs[i][j] = b[j].Bytes()
		}
	}
	for j, name := range []string{"timeline", "mermaid", "porcupine", "perfetto"} {
		if len(outs[0][j]) == 0 || !bytes.Equal(outs[0][j], outs[1][j]) {
			t.Errorf("%s: two renders of the same trace differ (or are empty: %d bytes)", name, len(outs[0][j]))
		}
	}
	if len(outs[0][2]) > 1<<20 {
		t.Errorf("porcupine page is %d bytes; it should be bounded", len(outs[0][2]))
	}
}

func TestFollow(t *testing.T) {
	e := model.EventRef{Device: 0, Seq: 0}
	rep, err := CheckFile("testdata/misread.jsonl", Options{Follow: []model.EventRef{e}})
	if err != nil {
		t.Fatal(err)
	}
	steps := rep.Followed[e]
	var kinds []string
	foreign := 0
	for _, st := range steps {
		kinds = append(kinds, st.Kind)
		if st.Violation {
			foreign++
		}
	}
	if got, want := strings.Join(kinds, " "), "capture upload cache-ret lookup store deliver tap view"; got != want {
		t.Errorf("followed %q, want %q", got, want)
	}
	if foreign != 2 {
		t.Errorf("%d foreign steps, want 2", foreign)
	}
}

// OnViolation hears each violation the Monitor judges, during the Observe of
// its line, and nothing judged at the end.
func TestOnViolationDuringObserve(t *testing.T) {
	h := traces.Header{Schema: "stormproof-trace", Version: "1.3", Engine: "live", Devices: 2, Accounts: 2, Detail: "full"}
	var heard []Instance
	var during int
	c, err := New(h, "t.jsonl", Options{NoLinearizability: true, OnViolation: func(name string, in Instance) {
		if name != model.NoForeignDelivery.String() {
			t.Errorf("heard %s, want %s", name, model.NoForeignDelivery)
		}
		heard = append(heard, in)
	}})
	if err != nil {
		t.Fatal(err)
	}
	obs := []model.Obs{
		{Kind: model.ObsOwn, Device: 0, Owners: model.MakeOwners(0)},
		{Kind: model.ObsCapture, Device: 0, Seq: 0},
		{Kind: model.ObsDeliver, Device: 0, Seq: 0, Account: 1},
	}
	for i := range obs {
		if err := c.Observe(i+2, model.Time(i), &obs[i]); err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			during = len(heard)
		}
	}
	end := model.Obs{Kind: model.ObsEnd, Flag: true}
	if err := c.Observe(5, 3, &end); err != nil {
		t.Fatal(err)
	}
	rep, err := c.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if during != 1 || len(heard) != 1 || heard[0].Line != 4 {
		t.Fatalf("heard %v (%d during the deliver's Observe), want one violation on line 4", heard, during)
	}
	if rep.Verdict(model.NoSilentLoss.String()).Count == 0 {
		t.Fatal("NoSilentLoss held: the event never reached its owner, so the test does not show the end's violations stay unheard")
	}
}

// A client that does not say which connection carried a call (a library:
// conn is the calling lane, no of/ofkey) read another device's value. The
// story ties the lookup to its own hit although another lane's hit and
// lookup come between, shows that hit as the because step, and names the
// worker's timed-out GET of the device the value belongs to.
func TestMisreadStoryWithoutWire(t *testing.T) {
	rep, err := CheckFile("testdata/misread-library.jsonl", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Stories) != 1 {
		t.Fatalf("%d stories, want 1", len(rep.Stories))
	}
	s := rep.Stories[0]
	for _, w := range []string{"tok 1 (GET 1) timed out", "(GET 0) then read a reply holding device 1's value", "event 0/0"} {
		if !strings.Contains(s.Headline, w) {
			t.Errorf("headline %q does not name %q", s.Headline, w)
		}
	}
	var hit *traces.Step
	var kinds []string
	for i, st := range s.Steps {
		kinds = append(kinds, st.Kind)
		if st.Line == 16 {
			hit = &s.Steps[i]
		}
	}
	if hit == nil || !strings.Contains(hit.Because, "not device 0 asked for") {
		t.Fatalf("the misread hit (line 16) is not a because step: %+v\nsteps %v", hit, kinds)
	}
	want := "capture cache-call upload cache-ret cache-call cache-ret lookup deliver"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("steps %q\nwant  %q", got, want)
	}
}

// Not exercised replaces only "held": a violation or an incomplete trace
// says more than the vacuity.
func TestUnexercised(t *testing.T) {
	held := Decide(nil, true, "", Policy{})
	if d := held.Unexercised("no cache call timed out"); d.Outcome != NotExercised || d.Exit != ExitNotExercised ||
		!strings.Contains(d.Line(), "NOT EXERCISED") || !strings.Contains(d.Line(), "no cache call timed out") {
		t.Errorf("held, unexercised: %+v %q", d, d.Line())
	}
	violated := Decide([]Verdict{{Name: "NoForeignDelivery", Judged: true, Count: 1}}, true, "", Policy{})
	if d := violated.Unexercised("x"); d.Outcome != Violated || d.Exit != ExitViolated {
		t.Errorf("violated, unexercised: %+v", d)
	}
	incomplete := Decide(nil, false, "cut short", Policy{})
	if d := incomplete.Unexercised("x"); d.Outcome != Incomplete || d.Exit != ExitIncomplete || d.Why != "cut short" {
		t.Errorf("incomplete, unexercised: %+v", d)
	}
}

// Without connection names, a read that took another device's value is
// blamed on that device's latest GET that did not read its own reply —
// here one that had itself read another's (a pool one reply behind).
func TestMisreadStoryWithoutWireChain(t *testing.T) {
	rep, err := CheckFile("testdata/misread-library-chain.jsonl", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Stories) != 1 {
		t.Fatalf("%d stories, want 1", len(rep.Stories))
	}
	h := rep.Stories[0].Headline
	for _, w := range []string{"request tok 6 (GET 2) did not read its own reply", "request tok 9 (GET 0) then read a reply holding device 2's value"} {
		if !strings.Contains(h, w) {
			t.Errorf("headline %q does not name %q", h, w)
		}
	}
}

// In a live trace conn is the calling lane when the client names no
// connection: a misread on the lane of the timed-out call is not told as
// a pooled connection's.
func TestMisreadStoryWithoutWireSameLane(t *testing.T) {
	data, err := os.ReadFile("testdata/misread-library.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	same := strings.ReplaceAll(string(data), `"conn":5,"gen":0,"tok":1`, `"conn":2,"gen":0,"tok":2`)
	rep, err := Check(strings.NewReader(same), "same-lane", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Stories) != 1 {
		t.Fatalf("%d stories, want 1", len(rep.Stories))
	}
	h := rep.Stories[0].Headline
	if !strings.Contains(h, "request tok 1 (GET 1) timed out; request tok 2 (GET 0) then read") || strings.Contains(h, "connection") {
		t.Errorf("headline %q", h)
	}
}
