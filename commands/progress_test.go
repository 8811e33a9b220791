package commands

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stormproof/stormproof/internal/cli"
)

// Progress goes only where progressTo says (standard error on a terminal),
// shows the wall time spent and an estimate of the time left, and changes
// nothing a run writes: the outputs of a run drawing progress and of one
// drawing none are byte for byte the same, and no trace holds progress.
func TestProgressChangesNothing(t *testing.T) {
	defer func(f func() io.Writer) { progressTo = f }(progressTo)
	var bar bytes.Buffer
	root := t.TempDir()
	for _, c := range []struct {
		dir string
		to  io.Writer
	}{{"shown", &bar}, {"none", nil}} {
		progressTo = func() io.Writer { return c.to }
		err := cmdRun([]string{"--scale", "0.1", "--out", filepath.Join(root, c.dir)})
		if !errors.Is(err, cli.Violated) {
			t.Fatalf("%s: %v, want a violation", c.dir, err)
		}
	}
	// [elapsed:left], as the bar draws it.
	if !regexp.MustCompile(`simulating wyze-2024-02: \S+ of 4h30m0s simulated .*\[\d+s:\d+s\]`).Match(bar.Bytes()) {
		t.Errorf("the progress shows no wall time and estimate:\n%q", bar.String())
	}
	name := "wyze-2024-02-seed1-naive-pool-scale0.1"
	for _, f := range runFiles {
		shown, err1 := os.ReadFile(filepath.Join(root, "shown", name, f))
		none, err2 := os.ReadFile(filepath.Join(root, "none", name, f))
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if !bytes.Equal(shown, none) {
			t.Errorf("%s differs between a run drawing progress and one drawing none", f)
		}
		if bytes.Contains(shown, []byte("simulating")) {
			t.Errorf("%s holds progress", f)
		}
	}
	// replay under a fix shows its progress too.
	bar.Reset()
	progressTo = func() io.Writer { return &bar }
	if err := cmdReplay([]string{filepath.Join(root, "none", name, "trace.jsonl"), "--client", "tagged"}); err != nil {
		t.Fatalf("replay: %v", err)
	}
	if !regexp.MustCompile(`re-running wyze-2024-02 as tagged: .*\[\d+s:\d+s\]`).Match(bar.Bytes()) {
		t.Errorf("replay shows no progress:\n%q", bar.String())
	}
}

// A count's bar (matrix, sweep) shows the runs done with the wall time and
// an estimate; without a terminal there is no bar at all.
func TestCountBar(t *testing.T) {
	defer func(f func() io.Writer) { progressTo = f }(progressTo)
	progressTo = func() io.Writer { return nil }
	if b := newCountBar("matrix", "runs"); b != nil || b.callback() != nil {
		t.Fatal("a bar without a terminal")
	}
	var out bytes.Buffer
	progressTo = func() io.Writer { return &out }
	b := newCountBar("matrix", "runs")
	cb := b.callback()
	for i := 0; i <= 4; i++ {
		cb(i, 4)
	}
	b.done()
	if !regexp.MustCompile(`matrix: \d of 4 runs .*\[\d+s:\d+s\]`).Match(out.Bytes()) {
		t.Errorf("bar %q", out.String())
	}
}
