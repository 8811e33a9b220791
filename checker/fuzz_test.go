package checker

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stormproof/stormproof/traces"
)

// FuzzCheck: the whole judge (reader, monitor, witness, linearizability,
// stories, the policy) on any input gives a verdict or one *traces.Error
// naming a line, never a panic, and its memory follows the input's length,
// never a number in it (a header declaring the largest fleet, a version of
// 2^32-1, ids at the top of their ranges).
//
//	go test -run '^$' -fuzz FuzzCheck -fuzztime 5m ./checker
func FuzzCheck(f *testing.F) {
	for _, pattern := range []string{"testdata/*.jsonl", "testdata/bad/*.jsonl", "testdata/judge/*.jsonl"} {
		files, _ := filepath.Glob(pattern)
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		rep, err := Check(bytes.NewReader(data), "fuzz.jsonl", Options{LinTimeout: 1e9})
		runtime.ReadMemStats(&after)
		// The paged device table's directory (8 MiB at the largest fleet)
		// plus a generous multiple of the input.
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20+uint64(len(data))*4096 {
			t.Fatalf("judging %d bytes allocated %d MiB", len(data), grew>>20)
		}
		if err != nil {
			var te *traces.Error
			if !errors.As(err, &te) {
				t.Fatalf("not a *traces.Error: %T %v", err, err)
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || !strings.HasPrefix(msg, "fuzz.jsonl:") {
				t.Fatalf("error is not one line naming the file: %q", msg)
			}
			return
		}
		d := rep.Decide(Policy{})
		if d.Exit != ExitHeld && d.Exit != ExitViolated && d.Exit != ExitIncomplete {
			t.Fatalf("exit %d", d.Exit)
		}
		if (d.Outcome == Violated) != (len(d.Promises) > 0) {
			t.Fatalf("decision %+v", d)
		}
	})
}
