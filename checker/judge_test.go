package checker

import (
	"errors"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/stormproof/stormproof/traces"
)

// judgeCase is a hand-written trace in testdata/judge and the verdict its
// rules give (traces/SCHEMA.md, model/invariants.go, docs/judge.md), written
// from the rules, not from the tool's output.
type judgeCase struct {
	file string
	rule string // "" the default (owner at capture)
	pol  Policy
	exit int
	// violated lists every check expected violated (promises and
	// diagnoses); bad, for exit 2, is a word the error must contain.
	violated []string
	bad      string
	// notJudged lists checks that must be reported not judged.
	notJudged []string
}

var judgeCases = []judgeCase{
	// Ownership is the order of own lines; ver must strictly increase.
	{file: "own-ver-repeated.jsonl", exit: 2, bad: "version"},
	{file: "own-ver-decreasing.jsonl", exit: 2, bad: "version"},
	{file: "own-ver-huge.jsonl", exit: 0},
	{file: "own-ver-zero-then-sale-seller-gets-presale.jsonl", exit: 0},
	// The footage belongs to the owner at capture.
	{file: "sale-presale-event-to-buyer.jsonl", exit: 1, violated: []string{"NoForeignDelivery", "NoSilentLoss"}},
	{file: "sale-presale-event-to-buyer.jsonl", rule: "capture-or-delivery", exit: 0},
	{file: "capture-before-any-owner.jsonl", exit: 1, violated: []string{"NoForeignDelivery"}},
	// AtMostOnce: the same event to the same account twice, nothing else.
	{file: "amo-drop-then-deliver.jsonl", exit: 0},
	{file: "amo-refused-then-deliver.jsonl", exit: 0},
	{file: "amo-seller-and-buyer.jsonl", rule: "capture-or-delivery", exit: 0},
	{file: "amo-seller-and-buyer.jsonl", exit: 1, violated: []string{"NoForeignDelivery"}},
	{file: "amo-rebind-then-two-deliveries.jsonl", exit: 1, violated: []string{"AtMostOnce"}},
	{file: "amo-repeat.jsonl", exit: 1, violated: []string{"AtMostOnce"}},
	{file: "amo-repeat-after-other-account.jsonl", exit: 1, violated: []string{"AtMostOnce"}},
	{file: "amo-shared-each-once.jsonl", exit: 0},
	// Strict reading: required fields, ids in the header's ranges, limits.
	{file: "field-missing-acct.jsonl", exit: 2, bad: `"acct"`},
	{file: "field-missing-seq.jsonl", exit: 2, bad: `"seq"`},
	{file: "field-missing-ver.jsonl", exit: 2, bad: `"ver"`},
	{file: "field-missing-conn.jsonl", exit: 2, bad: `"conn"`},
	{file: "field-given-twice.jsonl", exit: 2, bad: "twice"},
	{file: "acct-out-of-range.jsonl", exit: 2, bad: "account 8"},
	{file: "owner-out-of-range.jsonl", exit: 2, bad: "account 9"},
	{file: "dev-out-of-range-upload.jsonl", exit: 2, bad: "device 4"},
	{file: "dev-out-of-range-lookup.jsonl", exit: 2, bad: "device 7"},
	{file: "dev-out-of-range-store.jsonl", exit: 2, bad: "device 4"},
	{file: "dev-out-of-range-tap.jsonl", exit: 2, bad: "device 4"},
	{file: "key-out-of-range.jsonl", exit: 2, bad: `"key"`},
	{file: "owners-five.jsonl", exit: 2, bad: "at most 4"},
	{file: "camera-actor-out-of-range.jsonl", exit: 2, bad: "device 9"},
	// Incomplete traces are not clean.
	{file: "cut-short.jsonl", exit: 3, notJudged: []string{"NoSilentLoss"}},
	{file: "cut-short.jsonl", pol: Policy{AllowIncomplete: true}, exit: 0},
	{file: "header-only.jsonl", exit: 3},
	{file: "v1.0-no-end-line.jsonl", exit: 0, notJudged: []string{"NoSilentLoss"}},
	{file: "silent-loss.jsonl", exit: 1, violated: []string{"NoSilentLoss"}},
	{file: "not-quiet.jsonl", exit: 0, notJudged: []string{"NoSilentLoss"}},
	// Witness lines are judged.
	{file: "witness-without-deliver.jsonl", exit: 1, violated: []string{"WitnessedDelivery"}},
	{file: "witness-to-stranger.jsonl", exit: 1, violated: []string{"WitnessedDelivery", "NoForeignDelivery"}},
	{file: "witness-before-deliver.jsonl", exit: 0},
	{file: "amo-repeat.jsonl", exit: 1, violated: []string{"AtMostOnce"}, notJudged: []string{"WitnessedDelivery"}},
	// The promises.
	{file: "foreign-view.jsonl", exit: 1, violated: []string{"NoForeignView"}},
	{file: "never-captured-delivery.jsonl", exit: 1, violated: []string{"NoForeignDelivery"}},
	{file: "anonymous-delivery.jsonl", exit: 1, violated: []string{"NoForeignDelivery"}},
	{file: "huge-fleet-header.jsonl", exit: 0},
	// Diagnoses decide only when strict.
	{file: "diagnosis-only-cache-misread.jsonl", exit: 0, violated: []string{"CacheLinearizable"}},
	{file: "diagnosis-only-cache-misread.jsonl", pol: Policy{Strict: true}, exit: 1, violated: []string{"CacheLinearizable"}},
}

// judge runs the judge on a file as `stormproof check` does and returns the
// exit status it decides, the report and the error.
func judge(path string, rule string, pol Policy) (int, *Report, error) {
	rep, err := CheckFile(path, Options{Rule: rule})
	if err != nil {
		return ExitBadInput, nil, err
	}
	return rep.Decide(pol).Exit, rep, nil
}

func TestJudgeHandWrittenTraces(t *testing.T) {
	files, _ := filepath.Glob("testdata/judge/*.jsonl")
	covered := map[string]bool{}
	for _, tc := range judgeCases {
		covered[tc.file] = true
		path := filepath.Join("testdata", "judge", tc.file)
		exit, rep, err := judge(path, tc.rule, tc.pol)
		name := tc.file
		if tc.rule != "" {
			name += " --rule " + tc.rule
		}
		if exit != tc.exit {
			t.Errorf("%s: exit %d, want %d (err %v)", name, exit, tc.exit, err)
			continue
		}
		if tc.exit == ExitBadInput {
			var te *traces.Error
			if !errors.As(err, &te) || te.Line < 1 || !strings.Contains(err.Error(), tc.bad) || !strings.HasPrefix(err.Error(), path+":") {
				t.Errorf("%s: want a file:line error mentioning %q, got %v", name, tc.bad, err)
			}
			continue
		}
		got := rep.Violated()
		want := slices.Clone(tc.violated)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: violated %v, want %v", name, got, want)
		}
		for _, n := range tc.notJudged {
			if v := rep.Verdict(n); v == nil || v.Judged {
				t.Errorf("%s: %s should not be judged", name, n)
			}
		}
	}
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("%s has no expected verdict in judgeCases", f)
		}
	}
}

// A header declaring the largest fleet the reader accepts is judged in a
// few megabytes: memory follows the devices the trace names.
func TestJudgeHugeFleetMemory(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	exit, _, err := judge("testdata/judge/huge-fleet-header.jsonl", "", Policy{})
	runtime.ReadMemStats(&after)
	if err != nil || exit != 0 {
		t.Fatalf("exit %d, %v", exit, err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("judging a 5-line trace allocated %d MiB", grew>>20)
	}
}
