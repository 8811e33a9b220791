package commands

import (
	"flag"
	"fmt"
	"runtime"

	"github.com/stormproof/stormproof/checker"
	"github.com/stormproof/stormproof/internal/cli"
	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/sim"
)

// ruleFlag registers --rule, the authorization rule a run is judged by.
func ruleFlag(fs *flag.FlagSet) *string {
	return fs.String("rule", "", "authorization rule: capture (the owner when the event was captured; default) or capture-or-delivery")
}

func parseRule(s string) (model.AuthRule, error) {
	r, err := model.ParseAuthRule(s)
	if err != nil {
		return 0, cli.Badf("--rule: %v", err)
	}
	return r, nil
}

// summaryVerdicts are a simulated run's verdicts, for the one policy.
func summaryVerdicts(sum *sim.Summary) []checker.Verdict {
	var vs []checker.Verdict
	for _, inv := range model.Invariants() {
		v := sum.Invariants[inv.String()]
		vs = append(vs, checker.Verdict{Name: inv.String(), Judged: v.Judged, Count: v.Violations})
	}
	return vs
}

// decideRun applies the verdict policy to a simulated run: it ran to its
// end, so its evidence is whole.
func decideRun(sum *sim.Summary) checker.Decision {
	return checker.Decide(summaryVerdicts(sum), true, "", checker.Policy{})
}

// ruleText says what an authorization rule means, for a summary line.
func ruleText(r model.AuthRule) string {
	if r == model.OwnerAtCaptureOrDelivery {
		return "capture-or-delivery: the owner when the event was captured, or when it is delivered"
	}
	return "capture: the owner when the event was captured"
}

// decideRuns applies the verdict policy to a table of runs (matrix, sweep):
// a run that violated a promise violates the table's.
func decideRuns(violated, runs int) checker.Decision {
	return checker.Decide([]checker.Verdict{{Name: fmt.Sprintf("runs violating a promise (of %d)", runs), Judged: true, Count: uint64(violated)}},
		true, "", checker.Policy{})
}

// jobsFlag registers --jobs, how many runs go at once, with the one default
// of every command: 0, read as defaultJobs.
func jobsFlag(fs *flag.FlagSet, what string) *int {
	return fs.Int("jobs", 0, "run `N` "+what+" (default: the number of CPUs)")
}

// defaultJobs is --jobs unset: the CPUs Go schedules on (GOMAXPROCS), as each
// run is single-threaded.
func defaultJobs() int { return runtime.GOMAXPROCS(0) }
