package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stormproof/stormproof/checker"
	"github.com/stormproof/stormproof/model"
)

// The sample log: the garage is bob's; its event ev-102 is pushed to alice
// (CSV line 8, trace line 8) and alice opens it enlarged (line 10): one
// foreign delivery and one foreign view. Every event reached every owner
// of its camera (the nursery's both), and the log ends quiet: NoSilentLoss
// holds, and so does AtMostOnce. The judge's verdict: violated, exit 1.
func TestSampleVerdict(t *testing.T) {
	f, err := os.Open("sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := Convert(f, "sample.csv", out, true, ""); err != nil {
		t.Fatal(err)
	}
	out.Close()
	rep, err := checker.CheckFile(path, checker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		count uint64
		line  int
	}{
		model.NoForeignDelivery.String(): {1, 8},
		model.NoForeignView.String():     {1, 10},
		model.NoSilentLoss.String():      {0, 0},
		model.AtMostOnce.String():        {0, 0},
	}
	for name, w := range want {
		v := rep.Verdict(name)
		if v == nil || !v.Judged || v.Count != w.count {
			t.Errorf("%s: %+v, want judged with %d violation(s)", name, v, w.count)
			continue
		}
		if w.count > 0 && v.First[0].Line != w.line {
			t.Errorf("%s: first on line %d, want %d", name, v.First[0].Line, w.line)
		}
	}
	if d := rep.Decide(checker.Policy{}); d.Exit != checker.ExitViolated {
		t.Errorf("exit %d, want %d (violated)", d.Exit, checker.ExitViolated)
	}
}

// Without -quiet the trace ends, but not quiet: NoSilentLoss is not judged.
func TestNotQuietLeavesSilentLossUnjudged(t *testing.T) {
	f, err := os.Open("sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	if err := Convert(f, "sample.csv", &b, false, ""); err != nil {
		t.Fatal(err)
	}
	rep, err := checker.Check(strings.NewReader(b.String()), "t.jsonl", checker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v := rep.Verdict(model.NoSilentLoss.String()); v.Judged {
		t.Fatalf("NoSilentLoss judged on a trace that does not end quiet")
	}
}

func TestBadRows(t *testing.T) {
	for _, c := range []struct{ csv, want string }{
		{"time,kind,camera,event,account,detail\n2024-02-16T09:00:00Z,push,cam,ev-9,alice,\n", "log.csv:2: event: ev-9 was never captured"},
		{"time,kind,camera,event,account,detail\nyesterday,own,cam,,,alice\n", "log.csv:2: time"},
		{"time,kind,camera,event,account,detail\n2024-02-16T09:00:00Z,teleport,cam,,,\n", `log.csv:2: kind: want own, capture, push, view or end, have "teleport"`},
		{"when,what\n", "log.csv:1"},
	} {
		err := Convert(strings.NewReader(c.csv), "log.csv", &strings.Builder{}, false, "")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}
