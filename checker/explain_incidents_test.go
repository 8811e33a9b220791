package checker

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/sim"
)

// The other incidents' hand-written traces: counts, and a story that names
// the mechanism.
func TestIncidentTraces(t *testing.T) {
	for _, tc := range []struct {
		file     string
		want     counts
		headline string
		steps    []string // the story's steps, in order (substrings)
	}{
		// Session 1 of account 1 reads the page session 0 of account 0 put
		// under the shared key; after the fix session 2 sees its own camera.
		{"web-stream.jsonl", counts{"NoForeignStream": 1}, "a page built for account 0 (camera 0) was stored under the shared key",
			[]string{"key starts omitting the account", "session 0 of account 0 gets the live-view page of camera 0", "session 1 of account 1 opens",
				"from the cache, under the key that omits the account", "streams camera 0 live to account 1"}},
		// The notifier pushes camera 1's event to account 0, which taps it;
		// camera 0's event went to nobody (the first join had no previous row).
		{"notify-misroute.jsonl", counts{"NoForeignDelivery": 1, "NoForeignView": 1, "NoSilentLoss": 2},
			"its recipient join handed event 1/0 (owners [1]) the recipients of the notification before it, [0]",
			[]string{"recipient-join defect goes live", "captures event 1/0", "resolves event 1/0's recipients to [1]", "notifies event 1/0, resolved for [1], to [0]",
				"thumbnail of event 1/0 pushed to account 0", "serves the enlarged of event 1/0 to account 0"}},
		// Two anonymous reads count; the owner reading its own document does not.
		{"replica-read.jsonl", counts{"NoForeignRead": 2}, "access control was switched off (line 4)",
			[]string{"switches the analytics replica's access control off", "serves document 0 (account(s) [0]: email,device,ssid) to an anonymous reader"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			rep, err := CheckFile(filepath.Join("testdata", tc.file), Options{NoLinearizability: true})
			if err != nil {
				t.Fatal(err)
			}
			tc.want[CacheLinearizable], tc.want[RegistryLinearizable], tc.want[WitnessedDelivery] = -1, -1, -1
			expect(t, rep, tc.want)
			if len(rep.Stories) != 1 {
				t.Fatalf("%d stories", len(rep.Stories))
			}
			s := rep.Stories[0]
			if !strings.Contains(s.Headline, tc.headline) {
				t.Errorf("headline %q, want %q in it", s.Headline, tc.headline)
			}
			i := 0
			for _, st := range s.Steps {
				if i < len(tc.steps) && strings.Contains(st.What, tc.steps[i]) {
					i++
				}
			}
			if i < len(tc.steps) {
				var got []string
				for _, st := range s.Steps {
					got = append(got, st.What)
				}
				t.Errorf("story lacks step %q (in order); steps:\n%s", tc.steps[i], strings.Join(got, "\n"))
			}
		})
	}
}

// The judge and the simulator agree on every incident: a full trace checked
// afterwards gives the counts the run's own monitor gave.
func TestIncidentTracesJudgedAsRun(t *testing.T) {
	for _, name := range []string{"web-2023-09", "notify-2020-06", "analytics-2019-12"} {
		s, err := sim.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		if s, err = s.Apply(sim.Override{Scale: 0.1}); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		res, err := sim.Run(s, sim.RunOptions{Trace: &buf, Detail: "full"})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Check(&buf, name, Options{NoLinearizability: true})
		if err != nil {
			t.Fatal(err)
		}
		violated := 0
		for _, inv := range model.Invariants() {
			sv, cv := res.Summary.Invariants[inv.String()], rep.Verdict(inv.String())
			if sv.Judged != cv.Judged || sv.Violations != cv.Count {
				t.Errorf("%s %s: run %+v, check %+v", name, inv, sv, cv)
			}
			if sv.Violations > 0 {
				violated++
			}
		}
		if violated == 0 || len(rep.Stories) == 0 || rep.Stories[0].Headline == "" {
			t.Errorf("%s: %d invariants violated, stories %+v", name, violated, rep.Stories)
		}
	}
}
