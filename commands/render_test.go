package commands

import (
	"path/filepath"
	"strings"
	"testing"
)

// render --format perfetto marks the first violation's story (a process
// named "violation: ...", flow arrows between its steps), and --slice
// leaves out the events the story does not cite.
func TestRenderPerfettoMarksTheStory(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, code := runCLI(t, dir, "explore", "--out", "x"); code != 1 {
		t.Fatalf("explore: exit %d, want 1 (a counterexample)\n%s", code, stderr)
	}
	trace := filepath.Join(latestRun(t, filepath.Join(dir, "x")), "counterexample.jsonl")
	whole, stderr, code := runCLI(t, dir, "render", trace, "--format", "perfetto")
	if code != 0 {
		t.Fatalf("render: exit %d: %s", code, stderr)
	}
	slice, stderr, code := runCLI(t, dir, "render", trace, "--format", "perfetto", "--slice")
	if code != 0 {
		t.Fatalf("render --slice: exit %d: %s", code, stderr)
	}
	for name, out := range map[string]string{"whole": whole, "slice": slice} {
		for _, want := range []string{`"name":"process_name","args":{"name":"violation: NoForeignDelivery: `, `{"ph":"s",`, `{"ph":"f",`} {
			if !strings.Contains(out, want) {
				t.Errorf("%s render lacks %s", name, want)
			}
		}
	}
	if len(slice) >= len(whole) || strings.Contains(slice, `"ph":"C"`) {
		t.Errorf("--slice: %d bytes against %d, counters: %v", len(slice), len(whole), strings.Contains(slice, `"ph":"C"`))
	}
}
