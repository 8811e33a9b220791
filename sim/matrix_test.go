package sim

import (
	"reflect"
	"strings"
	"testing"

	"github.com/stormproof/stormproof/model"
)

// The incident matrix shows the cells that are not obvious: the cache
// fixes do nothing for 2020 and 2019; verify-on-view does not stop the
// pushed thumbnails of 2024 and 2020; stamped-media closes 2024, 2023 and
// 2020 but loses owners' notifications silently; only the configuration
// guard holds for 2019. And the matrix does not depend on --jobs.
func TestIncidentMatrix(t *testing.T) {
	var scenarios []*Scenario
	for _, in := range Incidents() {
		s, err := Load(in.Scenario)
		if err != nil {
			t.Fatal(err)
		}
		scenarios = append(scenarios, s)
	}
	rows := []MatrixRow{{}, {Client: ref(model.Tagged)}, {Mitigations: model.MitigationSet(model.BypassCacheOwnership)}, {Mitigations: model.MitigationSet(model.KeyInValue)},
		{Mitigations: model.MitigationSet(model.VerifyOnView)}, {Mitigations: model.MitigationSet(model.StampedMedia)}, {Mitigations: model.MitigationSet(model.ConfigGuard)}, {Mitigations: model.MitigationSet(model.ExposureAlarm)},
		{Mitigations: model.MitigationSet(model.DataMinimisation)}}
	m, err := RunMatrix(scenarios, rows, MatrixOptions{Seeds: 1, Jobs: 2, Scale: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	const y24, w23, n20, a19 = 0, 1, 2, 3
	at := func(r, s int) Leak { return m.Runs[r][s][0] }
	shipped := func(s int) Leak { return at(0, s) }
	foreign := func(l Leak) int64 { return l.Thumbnails + l.Enlarged + l.Videos + l.Sessions + l.Documents }
	for s := range scenarios {
		if foreign(shipped(s)) == 0 {
			t.Fatalf("%s as shipped leaks nothing: %+v", scenarios[s].Name, shipped(s))
		}
	}
	for r := 1; r <= 3; r++ { // tagged, bypass, key-in-value
		if l := at(r, y24); foreign(l) != 0 {
			t.Errorf("%s should fix 2024: %+v", rows[r], l)
		}
		if l := at(r, w23); r == 1 && foreign(l) == 0 || r > 1 && foreign(l) != 0 {
			t.Errorf("%s on 2023: %+v", rows[r], l)
		}
		if l := at(r, n20); l.Thumbnails < shipped(n20).Thumbnails*9/10 {
			t.Errorf("%s changes 2020: %+v vs %+v", rows[r], l, shipped(n20))
		}
		if l := at(r, a19); l.Documents != shipped(a19).Documents {
			t.Errorf("%s changes 2019: %+v vs %+v", rows[r], l, shipped(a19))
		}
	}
	for _, s := range []int{y24, n20} {
		if l := at(4, s); l.Thumbnails == 0 || l.Enlarged+l.Videos != 0 {
			t.Errorf("verify-on-view on %s: %+v (want pushes, no views)", scenarios[s].Name, l)
		}
	}
	for _, s := range []int{y24, w23, n20} {
		if l := at(5, s); foreign(l) != 0 {
			t.Errorf("stamped-media on %s: %+v", scenarios[s].Name, l)
		}
	}
	if l := at(5, n20); l.Silent == 0 || l.Held {
		t.Errorf("stamped-media on 2020 should lose the misrouted notifications silently: %+v", l)
	}
	if l := at(5, a19); l.Documents != shipped(a19).Documents {
		t.Errorf("stamped-media on 2019: %+v", l)
	}
	if l := at(6, a19); !l.Held || l.Documents != 0 {
		t.Errorf("config-guard on 2019: %+v", l)
	}
	if l := at(7, a19); l.Documents != 100 {
		t.Errorf("exposure-alarm on 2019: %+v", l)
	}
	if l := at(8, a19); l.Tokens != 0 || l.Documents != shipped(a19).Documents || shipped(a19).Tokens == 0 {
		t.Errorf("data-minimisation on 2019: %+v vs %+v", l, shipped(a19))
	}
	for r := 6; r <= 8; r++ {
		for _, s := range []int{y24, w23, n20} {
			if !reflect.DeepEqual(at(r, s), shipped(s)) {
				t.Errorf("%s changes %s: %+v vs %+v", rows[r], scenarios[s].Name, at(r, s), shipped(s))
			}
		}
	}
	var b strings.Builder
	m.WriteIncidents(&b, "test")
	text := b.String()
	if !strings.Contains(text, "| + config-guard |") || strings.Count(text, "\n| ") != len(rows)+1 || !strings.Contains(text, "0 ✓ |") {
		t.Errorf("table:\n%s", text)
	}
	// The same cells with one job, for a few rows.
	one, err := RunMatrix(scenarios, rows[:2], MatrixOptions{Seeds: 1, Jobs: 1, Scale: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(one.Runs, m.Runs[:2]) {
		t.Errorf("the matrix depends on the number of jobs")
	}
	if _, err := RunMatrix(scenarios, []MatrixRow{{Client: ref(model.ClientVariant(99))}}, MatrixOptions{Seeds: 1}); err == nil || !strings.Contains(err.Error(), "no cache client 99") {
		t.Errorf("bad client: %v", err)
	}
}
