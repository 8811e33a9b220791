package commands

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const followHeader = `{"schema":"stormproof-trace","version":"1.3","engine":"live","scenario":"follow","seed":0,"design":"naive-pool","devices":2,"accounts":2,"detail":"full","tool":"test"}` + "\n"

// followed starts `check --follow` on a file and returns its stdout lines
// as they come, and the command.
func followed(t *testing.T, path string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(binary, "check", "--follow", path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return cmd, lines
}

// waitFor returns the first line containing s within d.
func waitFor(t *testing.T, lines <-chan string, s string, d time.Duration) string {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended before a line with %q", s)
			}
			if strings.Contains(l, s) {
				return l
			}
		case <-deadline:
			t.Fatalf("no line with %q within %v", s, d)
		}
	}
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(f, text); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func exitCode(t *testing.T, cmd *exec.Cmd, within time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var xe *exec.ExitError
		if errors.As(err, &xe) {
			return xe.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(within):
		t.Fatalf("still running after %v", within)
	}
	return -1
}

// A foreign delivery appended to a growing trace is reported within a
// second of its line being written (a half-written line waits for its
// newline); the end line ends the check with the policy's exit status.
func TestFollowReportsAsLinesAppear(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	if err := os.WriteFile(path, []byte(followHeader+`{"t":0,"k":"own","a":"registry","dev":0,"own":[0],"ver":0}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, lines := followed(t, path)
	waitFor(t, lines, "following", 5*time.Second)
	appendTo(t, path, `{"t":100,"k":"capture","a":"cam0","dev":0,"seq":0}`+"\n"+`{"t":300,"k":"deliver","a":"acct1","dev":0,`)
	time.Sleep(300 * time.Millisecond) // the line is half-written: nothing to judge yet
	start := time.Now()
	appendTo(t, path, `"seq":0,"acct":1}`+"\n")
	l := waitFor(t, lines, "VIOLATION", time.Second)
	if !strings.Contains(l, "NoForeignDelivery") || !strings.Contains(l, "(line 4)") {
		t.Fatalf("report %q, want NoForeignDelivery on line 4", l)
	}
	t.Logf("reported %v after the line was completed", time.Since(start))
	appendTo(t, path, `{"t":310,"k":"deliver","a":"acct0","dev":0,"seq":0,"acct":0}`+"\n"+`{"t":1000,"k":"end","a":"engine","quiet":true}`+"\n")
	waitFor(t, lines, "verdict", 5*time.Second)
	if code := exitCode(t, cmd, 5*time.Second); code != 1 {
		t.Fatalf("exit %d after the end line, want 1", code)
	}
}

// SIGTERM before the end line: the verdict so far, exit 3 when nothing was
// violated (the evidence is incomplete).
func TestFollowSignalIsIncomplete(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	if err := os.WriteFile(path, []byte(followHeader+`{"t":0,"k":"own","a":"registry","dev":0,"own":[0],"ver":0}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, lines := followed(t, path)
	waitFor(t, lines, "following", 5*time.Second)
	appendTo(t, path, `{"t":100,"k":"capture","a":"cam0","dev":0,"seq":0}`+"\n"+`{"t":300,"k":"deliver","a":"acct0","dev":0,"seq":0,"acct":0}`+"\n")
	time.Sleep(400 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if l := waitFor(t, lines, "verdict", 5*time.Second); !strings.Contains(l, "INCOMPLETE") {
		t.Fatalf("verdict %q, want INCOMPLETE", l)
	}
	if code := exitCode(t, cmd, 5*time.Second); code != 3 {
		t.Fatalf("exit %d, want 3", code)
	}
}
