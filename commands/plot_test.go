package commands

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Figures from a run and a sweep, each in the format its file name asks for.
func TestPlot(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, code := runCLI(t, dir, "run", "--scale", "0.05", "--trace", "none", "--out", "r"); code != 1 {
		t.Fatalf("run: exit %d %s", code, stderr)
	}
	stdout, stderr, code := runCLI(t, dir, "plot", filepath.Join("r", "latest"), "--storm", "s.svg", "--cache", "c.png", "--foreign", "f.pdf")
	if code != 0 || strings.Count(stdout, "wrote ") != 3 {
		t.Fatalf("plot: exit %d\n%s%s", code, stdout, stderr)
	}
	magic := map[string][]byte{"s.svg": []byte("<?xml"), "c.png": []byte("\x89PNG"), "f.pdf": []byte("%PDF")}
	for f, m := range magic {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || !bytes.HasPrefix(b, m) {
			t.Fatalf("%s: %v, starts %q", f, err, b[:min(8, len(b))])
		}
	}
	writeFile(t, dir, "s.yaml", strings.Replace(smallSweep, "seeds: 2", "seeds: 1", 1))
	if _, stderr, code := runCLI(t, dir, "sweep", "s.yaml", "--out", "sw"); code != 1 {
		t.Fatalf("sweep: exit %d %s", code, stderr)
	}
	if _, stderr, code := runCLI(t, dir, "plot", "sw", "--heatmap", "h.svg", "--metric", "cache_timeouts", "--x", "cloud.mitigations"); code != 0 {
		t.Fatalf("heatmap: exit %d %s", code, stderr)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "h.svg"))
	if !bytes.Contains(b, []byte("cache timeouts: mean over 1 seeds")) || !bytes.Contains(b, []byte("cloud.mitigations")) {
		t.Fatal("heatmap lacks its title or x label")
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"plot", "r"}, "name at least one figure"},
		{[]string{"plot", "r", "--storm", "s.gif"}, "s.gif: cannot tell the image format"},
		{[]string{"plot", "nope", "--storm", "x.png"}, "nope: no summary.json"},
		{[]string{"plot", "r", "--heatmap", "x.png"}, "r: no sweep.json"},
		{[]string{"plot", "sw", "--heatmap", "x.png", "--metric", "luck"}, `unknown metric "luck"`},
		{[]string{"plot", "sw", "--heatmap", "x.png", "--y", "cloud.workers"}, `"cloud.workers" is not a swept path`},
	}
	for _, c := range cases {
		stdout, stderr, code := runCLI(t, dir, c.args...)
		if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) {
			t.Fatalf("%v: exit %d, stderr %q, want one line with %q\n%s", c.args, code, stderr, c.want, stdout)
		}
		if _, err := os.Stat(filepath.Join(dir, "x.png")); !os.IsNotExist(err) {
			t.Fatalf("%v: a figure was written for bad input", c.args)
		}
	}
}
