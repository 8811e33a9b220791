package render_test

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stormproof/stormproof/checker"
	"github.com/stormproof/stormproof/checker/explore"
	"github.com/stormproof/stormproof/traces"
	"github.com/stormproof/stormproof/traces/render"
)

// storyTraces are traces with a violation, as bytes: the explorer's
// shortest counterexample of the default configuration (untimed, 15 steps)
// and a hand-written live trace (timed).
func storyTraces(t *testing.T) map[string][]byte {
	t.Helper()
	cfg, err := explore.Load("small")
	if err != nil {
		t.Fatal(err)
	}
	res, err := explore.Run(cfg, explore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ce bytes.Buffer
	if err := res.WriteTrace(&ce, "test", ""); err != nil {
		t.Fatal(err)
	}
	hand, err := os.ReadFile("../../checker/testdata/foreign-delivery.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{"explore": ce.Bytes(), "hand-written": hand}
}

// judge returns the trace's report; it must hold a story.
func judge(t *testing.T, name string, b []byte) *checker.Report {
	t.Helper()
	rep, err := checker.Check(bytes.NewReader(b), name, checker.Options{NoLinearizability: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Stories) == 0 || len(rep.Stories[0].Steps) < 3 {
		t.Fatalf("%s: no story to draw: %+v", name, rep.Stories)
	}
	return rep
}

var (
	timelineStep = regexp.MustCompile(`^(?:✗ |  )\s*(\d+)  (.*)$`)
	mermaidStep  = regexp.MustCompile(`^    (?:\S+(?:->>|-x)\S+|Note over \S+): (\d+)\. (.*)$`)
	unwrap       = strings.NewReplacer("<br/>", " ")
)

// The Mermaid diagram numbers its steps as the timeline does: step N of
// one is step N of the other, arrows and notes alike, with the same time
// and the same text.
func TestMermaidStepsAreTheTimelineSteps(t *testing.T) {
	for name, b := range storyTraces(t) {
		rep := judge(t, name, b)
		var tl, mm bytes.Buffer
		if err := render.Timeline(&tl, &rep.Header, rep.Stories[:1]); err != nil {
			t.Fatal(err)
		}
		if err := render.Mermaid(&mm, &rep.Header, &rep.Stories[0]); err != nil {
			t.Fatal(err)
		}
		var tlSteps []string
		for _, l := range strings.Split(tl.String(), "\n") {
			if m := timelineStep.FindStringSubmatch(l); m != nil {
				if n, _ := strconv.Atoi(m[1]); n != len(tlSteps)+1 {
					t.Fatalf("%s: timeline step %d after %d", name, n, len(tlSteps))
				}
				tlSteps = append(tlSteps, m[2])
			}
		}
		var mmNums []int
		for _, l := range strings.Split(mm.String(), "\n") {
			m := mermaidStep.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			n, _ := strconv.Atoi(m[1])
			mmNums = append(mmNums, n)
			if n < 1 || n > len(tlSteps) {
				t.Errorf("%s: Mermaid step %d; the timeline has %d", name, n, len(tlSteps))
				continue
			}
			st := rep.Stories[0].Steps[n-1]
			when := render.When(&rep.Header, st.T)
			text := unwrap.Replace(m[2])
			if !strings.HasPrefix(tlSteps[n-1], when+" ") || !strings.HasPrefix(text, when+": ") {
				t.Errorf("%s: step %d: timeline %q, Mermaid %q: want the time %s in both", name, n, tlSteps[n-1], text, when)
			}
			if w := strings.Fields(st.What)[0]; !strings.Contains(tlSteps[n-1], st.What) || !strings.HasPrefix(text, when+": "+w) {
				t.Errorf("%s: step %d: timeline %q, Mermaid %q: want step %q in both", name, n, tlSteps[n-1], text, st.What)
			}
		}
		if len(mmNums) != len(tlSteps) {
			t.Fatalf("%s: Mermaid has steps %v, the timeline %d steps\n%s\n%s", name, mmNums, len(tlSteps), mm.String(), tl.String())
		}
		for i, n := range mmNums {
			if n != i+1 {
				t.Fatalf("%s: Mermaid steps %v: want 1..%d in order", name, mmNums, len(tlSteps))
			}
		}
		if strings.Contains(mm.String(), "autonumber") {
			t.Errorf("%s: autonumber numbers arrows only, not the timeline's steps", name)
		}
	}
}

// The diagram shows who really owns the camera: its owners are
// participants named as owners, and the violating step says so.
func TestMermaidShowsTheOwner(t *testing.T) {
	for name, b := range storyTraces(t) {
		rep := judge(t, name, b)
		var mm bytes.Buffer
		if err := render.Mermaid(&mm, &rep.Header, &rep.Stories[0]); err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`event (\d+)/\d+ \(device of accounts \[(\d+)\]\)`).FindStringSubmatch(rep.Stories[0].Violation)
		if m == nil {
			t.Fatalf("%s: violation %q names no owner", name, rep.Stories[0].Violation)
		}
		cam, owner := "cam"+m[1], "acct"+m[2]
		out := mm.String()
		if !strings.Contains(out, "    participant "+owner+" as "+owner+" (owner of "+cam+")\n") {
			t.Errorf("%s: no participant for %s, owner of %s:\n%s", name, owner, cam, out)
		}
		if !strings.Contains(out, "    Note over "+owner+": "+cam+"'s owner: "+owner+"\n") {
			t.Errorf("%s: no note of %s's owner:\n%s", name, cam, out)
		}
	}
}

// traceEvent is one Chrome trace event, as much as the tests read.
type traceEvent struct {
	Ph   string          `json:"ph"`
	Pid  int             `json:"pid"`
	Tid  int             `json:"tid"`
	Ts   json.Number     `json:"ts"`
	Dur  json.Number     `json:"dur"`
	Cat  string          `json:"cat"`
	Name string          `json:"name"`
	ID   int             `json:"id"`
	BP   string          `json:"bp"`
	Args json.RawMessage `json:"args"`
}

func perfetto(t *testing.T, name string, b []byte, o render.PerfettoOptions) ([]byte, []traceEvent) {
	t.Helper()
	tr, err := traces.NewReader(bytes.NewReader(b), name)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := render.PerfettoStory(&out, tr, o); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		TraceEvents []traceEvent `json:"traceEvents"`
	}
	dec := json.NewDecoder(bytes.NewReader(out.Bytes()))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%s: not JSON: %v", name, err)
	}
	return out.Bytes(), doc.TraceEvents
}

// The Perfetto render marks the causal story: a process named
// "violation: ..." with a track per step, each step's slice at its time,
// and a flow from each step to the next (an "s" where it leaves step k, an
// "f" where it enters step k+1, same id), so the arrows lead a reviewer
// from the first step to the violation.
func TestPerfettoFlowsConnectTheStory(t *testing.T) {
	for name, b := range storyTraces(t) {
		rep := judge(t, name, b)
		story := &rep.Stories[0]
		_, evs := perfetto(t, name, b, render.PerfettoOptions{Story: story})
		type at struct {
			pid, tid int
			ts       string
		}
		threads := map[[2]int]string{}
		storyPid := -1
		for _, e := range evs {
			if e.Ph == "M" && e.Name == "process_name" && strings.Contains(string(e.Args), `"violation: `+story.Violation+`"`) {
				storyPid = e.Pid
			}
			if e.Ph == "M" && e.Name == "thread_name" {
				var a struct{ Name string }
				json.Unmarshal(e.Args, &a)
				threads[[2]int{e.Pid, e.Tid}] = a.Name
			}
		}
		if storyPid < 0 {
			t.Fatalf("%s: no process named %q", name, "violation: "+story.Violation)
		}
		steps := map[int]at{} // step number → where its slice is
		for _, e := range evs {
			if e.Ph != "X" || e.Pid != storyPid {
				continue
			}
			var a struct{ Step int }
			json.Unmarshal(e.Args, &a)
			if a.Step == 0 {
				continue
			}
			st := story.Steps[a.Step-1]
			if !strings.HasSuffix(e.Name, strconv.Itoa(a.Step)+". "+st.What) {
				t.Errorf("%s: step %d's slice is %q, want %q", name, a.Step, e.Name, st.What)
			}
			if th := threads[[2]int{e.Pid, e.Tid}]; !strings.HasPrefix(th, "step "+strconv.Itoa(a.Step)+": ") {
				t.Errorf("%s: step %d on track %q", name, a.Step, th)
			}
			steps[a.Step] = at{e.Pid, e.Tid, e.Ts.String()}
		}
		if len(steps) != len(story.Steps) {
			t.Fatalf("%s: %d step slices for %d steps", name, len(steps), len(story.Steps))
		}
		starts, ends := map[int]at{}, map[int]at{}
		for _, e := range evs {
			switch e.Ph {
			case "s":
				starts[e.ID] = at{e.Pid, e.Tid, e.Ts.String()}
			case "f":
				ends[e.ID] = at{e.Pid, e.Tid, e.Ts.String()}
				if e.BP != "e" {
					t.Errorf("%s: flow %d ends unbound to its slice (bp %q)", name, e.ID, e.BP)
				}
			}
		}
		if len(starts) != len(story.Steps)-1 || len(ends) != len(story.Steps)-1 {
			t.Fatalf("%s: %d flow starts and %d ends for %d steps", name, len(starts), len(ends), len(story.Steps))
		}
		for k := 1; k < len(story.Steps); k++ {
			if starts[k] != steps[k] || ends[k] != steps[k+1] {
				t.Errorf("%s: flow %d goes %v → %v; want step %d %v → step %d %v", name, k, starts[k], ends[k], k, steps[k], k+1, steps[k+1])
			}
		}
	}
}

// Limited to the slice, the render draws the story and only the events of
// the trace lines it cites: a subset of the whole render, without
// counters, with the foreign push.
func TestPerfettoSlice(t *testing.T) {
	for name, b := range storyTraces(t) {
		rep := judge(t, name, b)
		story := &rep.Stories[0]
		_, whole := perfetto(t, name, b, render.PerfettoOptions{Story: story})
		_, slice := perfetto(t, name, b, render.PerfettoOptions{Story: story, Slice: true})
		key := func(e traceEvent) string { return e.Ph + " " + e.Ts.String() + " " + e.Name }
		all := map[string]bool{}
		actorEvents := 0
		for _, e := range whole {
			all[key(e)] = true
			if e.Ph != "M" && e.Cat != "story" {
				actorEvents++
			}
		}
		n, foreign := 0, false
		for _, e := range slice {
			if e.Ph == "M" || e.Cat == "story" {
				continue
			}
			n++
			if e.Ph == "C" {
				t.Errorf("%s: a counter in the slice: %s", name, e.Name)
			}
			if !all[key(e)] {
				t.Errorf("%s: %q is in the slice, not in the whole render", name, key(e))
			}
			foreign = foreign || strings.HasPrefix(e.Name, "FOREIGN thumbnail")
		}
		if n == 0 || n >= actorEvents || !foreign {
			t.Errorf("%s: slice draws %d actor events of %d (foreign push: %v)", name, n, actorEvents, foreign)
		}
	}
}

// A render is a function of the trace and the story: the same bytes twice.
func TestPerfettoDeterministic(t *testing.T) {
	for name, b := range storyTraces(t) {
		rep := judge(t, name, b)
		for _, slice := range []bool{false, true} {
			o := render.PerfettoOptions{Story: &rep.Stories[0], Slice: slice}
			one, _ := perfetto(t, name, b, o)
			two, _ := perfetto(t, name, b, o)
			if !bytes.Equal(one, two) {
				t.Errorf("%s (slice %v): two renders differ", name, slice)
			}
		}
	}
}
