package history

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// expected reads porcupine's asserted verdicts (testdata/porcupine/expected.tsv:
// file, linearizable).
func expected(t testing.TB) [][2]string {
	f, err := os.Open("testdata/porcupine/expected.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][2]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		file, verdict, ok := strings.Cut(sc.Text(), "\t")
		if !ok || file == "file" {
			continue
		}
		rows = append(rows, [2]string{file, verdict})
	}
	if len(rows) != 108 {
		t.Fatalf("expected.tsv lists %d files, want 108 (102 etcd logs, 6 kv histories)", len(rows))
	}
	return rows
}

// modelFor is the model porcupine's test checks each format with: the etcd
// register for the Jepsen logs, the key-value model for EDN.
func modelFor(t testing.TB, h *History) Builtin {
	name := map[Format]string{Jepsen: "cas-register", EDN: "kv"}[h.Format]
	b, ok := Lookup(name)
	if !ok {
		t.Fatalf("%s: no model for format %s", h.File, h.Format)
	}
	return b
}

func load(t testing.TB, rel string) (*History, Builtin) {
	t.Helper()
	p := filepath.Join("testdata/porcupine", rel)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := Read(f, p)
	if err != nil {
		t.Fatal(err)
	}
	b := modelFor(t, h)
	if err := h.Conform(b); err != nil {
		t.Fatal(err)
	}
	return h, b
}

// TestPorcupineConformance holds every history of porcupine's test data to
// the verdict porcupine's own tests assert for it.
func TestPorcupineConformance(t *testing.T) {
	for _, row := range expected(t) {
		t.Run(row[0], func(t *testing.T) {
			h, b := load(t, row[0])
			want := porcupine.Illegal
			if row[1] == "true" {
				want = porcupine.Ok
			}
			r := CheckWith(h, b.Model, Options{Timeout: time.Minute, Explain: time.Second})
			if r.Verdict != want {
				t.Fatalf("%s: verdict %s, porcupine asserts %s", row[0], r.Verdict, want)
			}
			// An illegal verdict is explained: a key names its first
			// operation that does not fit, unless every illegal key's
			// search ran out of its (short, here) time.
			if r.Undecided > 0 {
				t.Logf("%s: %d key(s) undecided within the explanation bound", row[0], r.Undecided)
			}
			if want == porcupine.Illegal && r.Undecided == 0 {
				if len(r.Illegal) == 0 || r.Illegal[0].Bad == nil {
					t.Fatalf("%s: illegal but no partition names its first operation that does not fit", row[0])
				}
			}
		})
	}
}
