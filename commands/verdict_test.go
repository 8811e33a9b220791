package commands

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// spIn runs the binary with stdin read from a file.
func spIn(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	f, err := os.Open(stdin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return spWith(t, f, args...)
}

// verdictLines are the lines of check's output that judge (not the file
// names, which differ between a file and a pipe).
func verdictLines(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" && !strings.HasPrefix(l, "trace ") && !strings.HasPrefix(l, "wrote ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// check - reads standard input once and gives the verdict, the story and
// the renders that the same file gives.
func TestCheckReadsAPipeOnce(t *testing.T) {
	trace := sharedTrace(t, "naive-pool")
	fileOut, _, fileCode := sp(t, "check", trace, "--no-lin", "--out", t.TempDir())
	dir := t.TempDir()
	pipeOut, stderr, code := spIn(t, trace, "check", "-", "--no-lin", "--out", dir)
	if code != 1 || fileCode != 1 {
		t.Fatalf("check -: exit %d (the file: %d), want 1\n%s%s", code, fileCode, pipeOut, stderr)
	}
	if verdictLines(pipeOut) != verdictLines(fileOut) {
		t.Errorf("check - and check FILE differ:\n%s\n----\n%s", pipeOut, fileOut)
	}
	for _, f := range []string{"timeline.txt", "slice.mmd", "perfetto.json"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("check - did not write %s: %v", f, err)
		}
	}
	if pf, _ := os.ReadFile(filepath.Join(dir, "perfetto.json")); !bytes.Contains(pf, []byte(`"violation: `)) {
		t.Errorf("perfetto.json does not mark the violation's story")
	}
	if !strings.Contains(pipeOut, "because") {
		t.Errorf("check - does not print the story:\n%s", pipeOut)
	}
}

// A render that cannot be written is reported; the verdict and its exit
// status stand, and nothing is left half-written.
func TestCheckUnwritableOutKeepsTheVerdict(t *testing.T) {
	trace := sharedTrace(t, "naive-pool")
	blocker := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(blocker, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := sp(t, "check", trace, "--no-lin", "--out", filepath.Join(blocker, "check"))
	if code != 1 {
		t.Fatalf("exit %d, want 1 (the verdict)\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "verdict                VIOLATED") || !strings.Contains(stderr, "renders not written") {
		t.Errorf("want the verdict on stdout and the render failure on stderr:\n%s\n%s", stdout, stderr)
	}
}

// A trace cut short (here: its header and first events only) is not clean:
// exit 3, or 0 with --incomplete-ok; a violation in it still exits 1.
func TestCheckCutShortTrace(t *testing.T) {
	trace := sharedTrace(t, "tagged")
	data, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	dir := t.TempDir()
	head := filepath.Join(dir, "head.jsonl")
	if err := os.WriteFile(head, bytes.Join(lines[:1], nil), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := sp(t, "check", head, "--out", dir)
	if code != 3 || !strings.Contains(stdout, "INCOMPLETE") {
		t.Errorf("header only: exit %d, want 3\n%s%s", code, stdout, stderr)
	}
	if _, _, code := sp(t, "check", head, "--incomplete-ok", "--out", dir); code != 0 {
		t.Errorf("header only with --incomplete-ok: exit %d, want 0", code)
	}
	half := filepath.Join(dir, "half.jsonl")
	if err := os.WriteFile(half, bytes.Join(lines[:len(lines)/2], nil), 0o644); err != nil {
		t.Fatal(err)
	}
	if stdout, stderr, code := sp(t, "check", half, "--no-lin", "--out", dir); code != 3 {
		t.Errorf("half a trace: exit %d, want 3\n%s%s", code, stdout, stderr)
	}
	naive, err := os.ReadFile(sharedTrace(t, "naive-pool"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut-naive.jsonl")
	nl := bytes.SplitAfter(naive, []byte("\n"))
	if err := os.WriteFile(cut, bytes.Join(nl[:len(nl)-2], nil), 0o644); err != nil {
		t.Fatal(err)
	}
	if stdout, stderr, code := sp(t, "check", cut, "--no-lin", "--out", dir); code != 1 {
		t.Errorf("a cut-short trace with a violation: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
}

// key-in-value reads another device's value from the cache and refuses it:
// the cache history is not linearizable (a diagnosis) but no promise is
// broken. run and check agree (exit 0); --strict lets the diagnosis decide.
func TestKeyInValueRunAndCheckAgree(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := sp(t, "run", "--scale", "0.1", "--mitigate", "key-in-value", "--out", dir)
	if code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, stdout, stderr)
	}
	trace := filepath.Join(latestRun(t, dir), "trace.jsonl")
	stdout, stderr, code = sp(t, "check", trace, "--out", dir)
	if code != 0 || !strings.Contains(stdout, "CacheLinearizable      VIOLATED") {
		t.Fatalf("check: exit %d, want 0 with CacheLinearizable violated as a diagnosis\n%s%s", code, stdout, stderr)
	}
	if _, _, code := sp(t, "check", trace, "--strict", "--out", dir); code != 1 {
		t.Errorf("check --strict: exit %d, want 1", code)
	}
}
