package checker

import (
	"strconv"
	"strings"

	"github.com/stormproof/stormproof/model"
)

// Exit statuses of the verdict policy, the same for every command.
const (
	ExitHeld       = 0 // every promise held on a complete trace
	ExitViolated   = 1 // a promise was violated (or, when strict, a diagnosis)
	ExitBadInput   = 2 // the input is malformed (decided before any verdict)
	ExitIncomplete = 3 // nothing violated, but the evidence is incomplete
	// ExitNotExercised: every promise held, but the run never met the fault
	// it was meant to test (a live run in which no cache call timed out).
	ExitNotExercised = 4
)

// Outcome is a verdict's headline.
type Outcome string

const (
	Held       Outcome = "held"
	Violated   Outcome = "violated"
	Incomplete Outcome = "incomplete"
	// NotExercised: held, vacuously — the fault never bit.
	NotExercised Outcome = "not exercised"
)

// Policy is the one verdict policy. The promises are the invariants a
// design makes to its users: NoForeignDelivery, NoForeignView,
// NoForeignStream, NoForeignRead, NoSilentLoss, AtMostOnce, and
// WitnessedDelivery (the record is whole). A violated promise decides the
// verdict: violated, exit 1. The diagnoses, CacheLinearizable and
// RegistryLinearizable, explain the mechanism; they decide the verdict only
// when Strict is set. A trace that holds every promise but is incomplete
// (format 1.1 or later and no end line: the run was cut short, or the file is
// still being written) is incomplete, exit 3, unless AllowIncomplete is set.
type Policy struct {
	Strict          bool
	AllowIncomplete bool
}

// Decision is what the policy decided.
type Decision struct {
	Outcome Outcome
	Exit    int
	// Promises and Diagnoses name the violated checks of each class.
	Promises, Diagnoses []string
	// Why says why an incomplete trace is incomplete.
	Why string
}

// IsDiagnosis reports whether the named check is a diagnosis (explains a
// mechanism) rather than a promise.
func IsDiagnosis(name string) bool {
	return name == CacheLinearizable || name == RegistryLinearizable
}

// Decide applies the policy to verdicts. complete says whether the evidence
// is whole (for a trace: Report.Complete; for an engine's own run: it ran to
// its end); why says what is missing when it is not.
func Decide(vs []Verdict, complete bool, why string, p Policy) Decision {
	var d Decision
	for i := range vs {
		v := &vs[i]
		if !v.Judged || v.Count == 0 {
			continue
		}
		if IsDiagnosis(v.Name) {
			d.Diagnoses = append(d.Diagnoses, v.Name)
		} else {
			d.Promises = append(d.Promises, v.Name)
		}
	}
	switch {
	case len(d.Promises) > 0 || (p.Strict && len(d.Diagnoses) > 0):
		d.Outcome, d.Exit = Violated, ExitViolated
	case !complete && !p.AllowIncomplete:
		d.Outcome, d.Exit, d.Why = Incomplete, ExitIncomplete, why
	default:
		d.Outcome, d.Exit = Held, ExitHeld
	}
	return d
}

// Complete reports whether the trace is whole: it has its end line, or it is
// of format 1.0 (which has none). The second result says what is missing.
func (r *Report) Complete() (bool, string) {
	if r.Ended || minorVersion(r.Header.Version) < 1 {
		return true, ""
	}
	return false, "the trace has no end line: the run was cut short, or the file is still being written"
}

// Decide applies the policy to the report.
func (r *Report) Decide(p Policy) Decision {
	ok, why := r.Complete()
	return Decide(r.Verdicts, ok, why, p)
}

// VerdictsOf turns a monitor's counts into verdicts (for an engine that ran
// the monitor itself); silentJudged says whether NoSilentLoss was judged.
func VerdictsOf(counts [model.NumInvariants]uint64, silentJudged bool) []Verdict {
	var vs []Verdict
	for _, inv := range model.Invariants() {
		v := Verdict{Name: inv.String(), Judged: true, Count: counts[inv]}
		if inv == model.NoSilentLoss && !silentJudged {
			v.Judged, v.Count = false, 0
		}
		vs = append(vs, v)
	}
	return vs
}

// Unexercised turns a held decision into not exercised (exit 4), with why
// saying which fault never bit. A violation stays a violation and an
// incomplete run stays incomplete: each says more than the vacuity.
func (d Decision) Unexercised(why string) Decision {
	if d.Outcome == Held {
		d.Outcome, d.Exit, d.Why = NotExercised, ExitNotExercised, why
	}
	return d
}

// Line is the decision as one line for a person ("verdict  ...").
func (d Decision) Line() string {
	switch d.Outcome {
	case Violated:
		s := "VIOLATED: " + strings.Join(append(append([]string(nil), d.Promises...), d.Diagnoses...), ", ")
		if len(d.Promises) == 0 {
			s += " (diagnoses, decisive with --strict)"
		}
		return s
	case Incomplete:
		return "INCOMPLETE: every judged invariant holds so far, but " + d.Why
	case NotExercised:
		return "NOT EXERCISED: every promise holds, but vacuously: " + d.Why
	}
	s := "every promise holds"
	if len(d.Diagnoses) > 0 {
		s += "; the diagnoses find " + strings.Join(d.Diagnoses, ", ") + " (a mechanism, not a broken promise; --strict makes it decide)"
	}
	return s
}

func minorVersion(v string) int {
	_, minor, ok := strings.Cut(v, ".")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(minor)
	if err != nil {
		return 0
	}
	return n
}
