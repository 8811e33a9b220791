package props

import (
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/stormproof/stormproof/sim"
)

// logTB keeps what Check logs.
type logTB struct {
	*testing.T
	logs []string
}

func (l *logTB) Logf(format string, a ...any) {
	l.logs = append(l.logs, fmt.Sprintf(format, a...))
	l.T.Logf(format, a...)
}

// Check says how many of the runs it judged had a cache call time out, and
// says so loudly when none did: the property then held without meeting the
// late-reply fault.
func TestCheckSaysWhetherTheFaultWasMet(t *testing.T) {
	if testing.Short() {
		t.Skip("100 runs: skipped with -short")
	}
	for _, c := range []struct {
		scenario, want string
	}{
		{"analytics-2019-12", "props: in none of 100 runs did a cache call time out"},
		{"notify-2020-06", "props: 100 of 100 runs had cache calls time out"},
	} {
		s, err := sim.Load(c.scenario)
		if err != nil {
			t.Fatal(err)
		}
		if c.scenario == "notify-2020-06" {
			if s, err = s.Apply(sim.Override{Scale: 0.1}); err != nil {
				t.Fatal(err)
			}
		}
		lt := &logTB{T: t}
		Check(lt, rapid.Just(s), func(tb rapid.TB, s *sim.Scenario) { AssertHolds(tb, s, "AtMostOnce") })
		if got := strings.Join(lt.logs, "\n"); !strings.Contains(got, c.want) {
			t.Errorf("%s: Check logged %q, want a line with %q", c.scenario, got, c.want)
		}
	}
}
