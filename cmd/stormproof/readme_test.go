package main

import (
	"os"
	"strings"
	"testing"
)

// The README shows two files a user copies: they must be the files the
// tests compile and run, as they are.
func TestReadmeShowsTheFilesAsTheyAre(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ path, from string }{
		{"../../live/examples/dialpercall/main.go", "package main"},
		{"../../checker/props/ci_example_test.go", "package props_test"},
	} {
		b, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		i := strings.Index(string(b), f.from)
		if i < 0 {
			t.Fatalf("%s: no %q", f.path, f.from)
		}
		if !strings.Contains(string(readme), string(b[i:])) {
			t.Errorf("README.md does not show %s from %q as it is; copy it again", f.path, f.from)
		}
	}
}
