package sim

import (
	"strings"
	"testing"
)

// A run in which no cache call timed out says so in its summary; a run
// whose storm made calls time out does not.
func TestSummaryNotesARunWithoutCacheTimeouts(t *testing.T) {
	for _, c := range []struct {
		scenario string
		note     bool
	}{{"analytics-2019-12", true}, {"wyze-2024-02", false}} {
		s, err := Load(c.scenario)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(s, RunOptions{Detail: "none"})
		if err != nil {
			t.Fatal(err)
		}
		sum := &res.Summary
		has := false
		for _, n := range sum.Notes {
			has = has || strings.HasPrefix(n, "no cache call timed out")
		}
		if has != c.note || (sum.CacheTimeouts == 0) != c.note {
			t.Errorf("%s: %d calls, %d timed out; the note is there: %v, want %v (notes %q)",
				c.scenario, sum.CacheCalls, sum.CacheTimeouts, has, c.note, sum.Notes)
		}
	}
}
