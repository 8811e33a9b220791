package commands

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// binary is the stormproof command built once for the end-to-end tests of
// every subcommand (use runCLI; do not add another TestMain here). testRoot
// holds it and what tests share across tests; TestMain removes it.
var binary, testRoot string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "stormproof-cli")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	testRoot = dir
	binary = filepath.Join(dir, "stormproof")
	if out, err := exec.Command("go", "build", "-o", binary, "../cmd/stormproof").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runCLI runs the built binary in dir ("" = a fresh temp dir) and returns
// its stdout, stderr and exit status.
func runCLI(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var xe *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &xe):
		code = xe.ExitCode()
	default:
		t.Fatalf("running %v: %v", args, err)
	}
	return o.String(), e.String(), code
}
