package commands

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const porcupineData = "../checker/history/testdata/porcupine/"

// A few of porcupine's histories through the binary, with the verdict
// porcupine's tests assert (expected.tsv) as the exit status.
func TestCheckHistoryPorcupineVerdicts(t *testing.T) {
	for _, c := range []struct {
		file string
		code int
	}{
		{"jepsen/etcd_000.log", 1}, {"jepsen/etcd_002.log", 0}, {"jepsen/etcd_067.log", 0}, {"jepsen/etcd_066.log", 1},
		{"kv/c01-ok.txt", 0}, {"kv/c01-bad.txt", 1}, {"kv/c10-bad.txt", 1},
	} {
		out := t.TempDir()
		stdout, stderr, code := sp(t, "check", "--history", porcupineData+c.file, "--out", out, "--explain-timeout", "2s")
		if code != c.code {
			t.Fatalf("%s: exit %d, want %d\n%s%s", c.file, code, c.code, stdout, stderr)
		}
		_, err := os.Stat(filepath.Join(out, "porcupine.html"))
		if c.code == 1 {
			if err != nil {
				t.Errorf("%s: no page: %v", c.file, err)
			}
			if !strings.Contains(stdout, "the first that does not fit") || !strings.Contains(stdout, "VIOLATED") {
				t.Errorf("%s: no first operation that does not fit:\n%s", c.file, stdout)
			}
		}
	}
}

func TestCheckHistoryPageIsDeterministic(t *testing.T) {
	var pages [][]byte
	for range 3 {
		out := t.TempDir()
		if _, stderr, code := sp(t, "check", "--history", porcupineData+"jepsen/etcd_000.log", "--out", out); code != 1 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		b, err := os.ReadFile(filepath.Join(out, "porcupine.html"))
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, b)
	}
	if !bytes.Equal(pages[0], pages[1]) || !bytes.Equal(pages[0], pages[2]) {
		t.Fatal("the same history wrote different pages")
	}
}

// Out of time without a verdict is incomplete: exit 3.
func TestCheckHistoryTimeoutIsIncomplete(t *testing.T) {
	stdout, stderr, code := sp(t, "check", "--history", porcupineData+"kv/c50-ok.txt", "--timeout", "1ns", "--out", t.TempDir())
	if code != 3 || !strings.Contains(stdout, "INCOMPLETE") {
		t.Fatalf("exit %d, want 3\n%s%s", code, stdout, stderr)
	}
}

// Bad input: exit 2, one line naming the file and line, nothing written.
func TestCheckHistoryBadInput(t *testing.T) {
	dir := t.TempDir()
	hdr := `{"schema":"stormproof-history","version":"1.0","model":"register"}` + "\n"
	for _, c := range []struct {
		name, text string
		args       []string
		want       string
	}{
		{"malformed", hdr + `{"proc":0,"call":1` + "\n", nil, "h.jsonl:2: not JSON"},
		{"unknown op", hdr + `{"proc":0,"call":0,"ret":1,"op":"incr","key":"a"}` + "\n", nil, `h.jsonl:2: op: unknown operation "incr"`},
		{"return before call", hdr + `{"proc":0,"call":5,"ret":1,"op":"get","key":"a","val":null}` + "\n", nil, "h.jsonl:2: field ret: returned at 1, before its call at 5"},
		{"duplicate id", hdr + `{"id":"a","proc":0,"call":0,"ret":1,"op":"get","val":null}` + "\n" + `{"id":"a","proc":0,"call":2,"ret":3,"op":"get","val":null}` + "\n", nil, "h.jsonl:3: field id: duplicate id a"},
		{"mixed formats", hdr + "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n", nil, "h.jsonl:2: a line of format jepsen-etcd-log"},
		{"unknown model", hdr, []string{"--model", "queue"}, `--model: unknown model "queue"`},
		{"op of another model", hdr + `{"proc":0,"call":0,"ret":1,"op":"read","val":null}` + "\n", nil, `h.jsonl:2: op: unknown operation "read" for the register model`},
	} {
		p := filepath.Join(dir, "h.jsonl")
		if err := os.WriteFile(p, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "out-"+strings.ReplaceAll(c.name, " ", "-"))
		args := append([]string{"check", "--history", p, "--out", out}, c.args...)
		stdout, stderr, code := sp(t, args...)
		if code != 2 {
			t.Errorf("%s: exit %d, want 2\n%s%s", c.name, code, stdout, stderr)
			continue
		}
		if strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: stderr %q, want one line with %q", c.name, stderr, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: %s written on bad input", c.name, out)
		}
	}
}

func TestCheckHelpNamesHistoryAndFollow(t *testing.T) {
	stdout, _, code := sp(t, "check", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, w := range []string{"--history FILE", "--model register|cas-register|kv", "--follow TRACE"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("check --help lacks %q:\n%s", w, stdout)
		}
	}
}
