package commands

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run --out ROOT, then report ROOT/latest: one page with the run's
// counterexample, written into the run's own directory.
func TestReportOfARun(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, code := runCLI(t, dir, "run", "--scale", "0.05", "--trace", "slice", "--out", "r"); code != 1 {
		t.Fatalf("run: exit %d (want 1, violated) %s", code, stderr)
	}
	run := filepath.Join("r", "wyze-2024-02-seed1-naive-pool-scale0.05")
	stdout, stderr, code := runCLI(t, dir, "report", filepath.Join("r", "latest"))
	if code != 0 || stdout != "wrote "+filepath.Join(run, "report.html")+"\n" {
		t.Fatalf("report: exit %d\n%s%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, run, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, w := range []string{"<!DOCTYPE html>", "The first counterexample", "NoForeignDelivery VIOLATED at", "received others&#39; thumbnails", "data:image/png;base64,"} {
		if !strings.Contains(page, w) {
			t.Errorf("report lacks %q", w)
		}
	}
	if _, _, code := runCLI(t, dir, "report", run, "--output", "elsewhere.html"); code != 0 {
		t.Fatalf("--output: exit %d", code)
	}
	if c, _ := os.ReadFile(filepath.Join(dir, "elsewhere.html")); string(c) != page {
		t.Fatal("--output wrote another page than the default")
	}
}

func TestReportOfASweep(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "s.yaml", strings.Replace(smallSweep, "seeds: 2", "seeds: 1", 1))
	if _, stderr, code := runCLI(t, dir, "sweep", "s.yaml", "--out", "s"); code != 1 {
		t.Fatalf("sweep: exit %d %s", code, stderr)
	}
	if _, stderr, code := runCLI(t, dir, "report", "s"); code != 0 {
		t.Fatalf("report: exit %d %s", code, stderr)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "s", "report.html"))
	if !strings.Contains(string(b), "<title>stormproof sweep small</title>") || strings.Count(string(b), "data:image/png;base64,") != 1 {
		t.Fatal("sweep report lacks its title or its heatmap")
	}
}

func TestReportBadInput(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no dir", []string{"report"}, "want one directory"},
		{"missing", []string{"report", "nope"}, "nope: no such file or directory"},
		{"not a run", []string{"report", "."}, "no summary.json: not a run's directory"},
		{"two", []string{"report", "a", "b"}, "want one directory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			stdout, stderr, code := runCLI(t, dir, c.args...)
			if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit %d, stderr %q (want 2 and one line with %q)\n%s", code, stderr, c.want, stdout)
			}
			if _, err := os.Stat(filepath.Join(dir, "report.html")); !os.IsNotExist(err) {
				t.Fatal("a page was written for bad input")
			}
		})
	}
}
