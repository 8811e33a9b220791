package commands

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// badInput is one malformed input: the files it needs (name → content,
// "@trace" replaced by a small valid trace's lines), the command line, and
// what its one line of error must start with after "stormproof: " (the
// file, line and field) or, for a flag, contain.
type badInput struct {
	name  string
	files map[string]string
	args  []string
	want  string
}

const scen = "base: wyze-2024-02\n"

// profile is cam-v3 renamed, with one line replaced.
func profile(t *testing.T, old, new string) string {
	t.Helper()
	b, err := os.ReadFile("../hwprofiles/profiles/cam-v3.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "name: cam-v3 ", "name: my-cam ", 1)
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(old) + `[^#\n]*`)
	if !re.MatchString(s) {
		t.Fatalf("cam-v3.yaml has no %q", old)
	}
	return re.ReplaceAllString(s, new+"   ")
}

// Every malformed input, to every command: exit 2, one line on stderr that
// names the file, the line and the field (or the flag), no panic, nothing
// written to the output directory. docs/inputs.md lists the same table.
func TestMalformedInputs(t *testing.T) {
	dir := t.TempDir()
	// A small valid trace whose lines the trace cases corrupt.
	if _, stderr, code := runCLI(t, dir, "run", "--scale", "0.02", "--out", "good"); code > 1 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	good, err := os.ReadFile(filepath.Join(latestRun(t, filepath.Join(dir, "good")), "trace.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(good), "\n")
	header := map[string]any{}
	if err := json.Unmarshal([]byte(lines[0]), &header); err != nil {
		t.Fatal(err)
	}
	withHeader := func(edit func(h map[string]any)) string {
		h := map[string]any{}
		json.Unmarshal([]byte(lines[0]), &h)
		edit(h)
		b, _ := json.Marshal(h)
		return string(b) + "\n" + strings.Join(lines[1:20], "")
	}
	opts := func(h map[string]any) map[string]any { return h["options"].(map[string]any) }
	fleet := func(h map[string]any) map[string]any { return opts(h)["fleet"].(map[string]any) }
	outOfOrder := strings.Join(lines[:10], "") + strings.Replace(lines[10], `"t":`, `"t":9`, 1) + strings.Join(lines[11:30], "")
	truncated := strings.Join(lines[:5], "") + `{"t":12,"k":"capture","dev` + "\n" + strings.Join(lines[6:12], "")
	newMajor := withHeader(func(h map[string]any) { h["version"] = "9.0" })
	huge := withHeader(func(h map[string]any) {
		fleet(h)["cameras"] = 49_999_999
		opts(h)["scale"] = 1
		h["devices"] = 49_999_999
	})
	share := withHeader(func(h map[string]any) { fleet(h)["share_fraction"] = 2 })
	exploreCfg, err := os.ReadFile("../checker/explore/configs/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tap := regexp.MustCompile(`(?m)^  tap_prob:[^#\n]*`)
	sweepHead := "scenario: wyze-2024-02\n"

	cases := []badInput{
		// run: every float of a scenario is finite and in range.
		{"run share_fraction NaN", map[string]string{"s.yaml": scen + "fleet:\n  share_fraction: .nan   # assumed\n"}, []string{"run", "s.yaml"}, "s.yaml:3: fleet.share_fraction: must be a finite number"},
		{"run video_fraction 1e999", map[string]string{"s.yaml": scen + "fleet:\n  video_fraction: 1e999   # assumed\n"}, []string{"run", "s.yaml"}, "s.yaml:3: fleet.video_fraction: "},
		{"run mix share Inf", map[string]string{"s.yaml": scen + "fleet:\n  mix:\n    cam-v3: .inf   # assumed\n"}, []string{"run", "s.yaml"}, "s.yaml:4: fleet.mix.cam-v3: share must be a finite number"},
		{"run wan_loss Inf", map[string]string{"s.yaml": scen + "network:\n  wan_loss: .inf   # assumed\n"}, []string{"run", "s.yaml"}, "s.yaml:3: network.wan_loss: must be a finite number"},
		{"run wan sigma NaN", map[string]string{"s.yaml": scen + "network:\n  wan: {dist: lognormal, median: 40ms,\n    sigma: .nan}   # assumed\n"}, []string{"run", "s.yaml"}, "s.yaml:4: network.wan.sigma: lognormal sigma must be a finite number"},
		{"run tap_prob -Inf", map[string]string{"s.yaml": scen + "users:\n  tap_prob: -.inf   # assumed\n"}, []string{"run", "s.yaml"}, "s.yaml:3: users.tap_prob: must be a finite number"},
		{"run admission_rate NaN", map[string]string{"s.yaml": scen + "cloud:\n  admission_rate: .nan   # assumed\n"}, []string{"run", "s.yaml"}, "s.yaml:3: cloud.admission_rate: must be a finite number"},
		{"run jitter multiplier NaN", map[string]string{"s.yaml": scen + "cloud:\n  jitter_backoff:\n    multiplier: .nan   # assumed\n"}, []string{"run", "s.yaml"}, "s.yaml:4: cloud.jitter_backoff.multiplier: must be a finite number"},
		{"run client_share NaN", map[string]string{"s.yaml": scen + "cloud:\n  client_share: .nan   # assumed\n"}, []string{"run", "s.yaml"}, "s.yaml:3: cloud.client_share: must be a finite number"},
		{"run duration NaN days", map[string]string{"s.yaml": scen + "duration: nand   # assumed\n"}, []string{"run", "s.yaml"}, "s.yaml:2: duration: bad duration"},
		// run: memory is never sized by an input number without a bound.
		{"run 50M cameras", map[string]string{"s.yaml": scen + "fleet:\n  cameras: 50000000   # assumed\n"}, []string{"run", "s.yaml"}, "s.yaml:3: fleet.cameras: a run needs an estimated"},
		{"run 100000 days", map[string]string{"s.yaml": scen + "duration: 100000d   # assumed\n"}, []string{"run", "s.yaml"}, "s.yaml:2: duration: a run needs an estimated"},
		{"run 1e8 workers", map[string]string{"s.yaml": scen + "cloud:\n  workers: 100000000   # assumed\n"}, []string{"run", "s.yaml"}, "s.yaml:3: cloud.workers: a run needs an estimated"},
		{"run 2e9 transfers", map[string]string{"s.yaml": scen + "transfers:\n  count: 2000000000   # assumed\n  from: 1h   # assumed\n  to: 2h   # assumed\n"}, []string{"run", "s.yaml"}, "s.yaml:3: transfers.count: a run needs an estimated"},
		{"run --scale 5000", nil, []string{"run", "--scale", "5000"}, "builtin:wyze-2024-02.yaml:20: fleet.cameras: a run at scale 5000 needs an estimated"},
		{"run --max-mem below the run", nil, []string{"run", "--max-mem", "10MB"}, "builtin:wyze-2024-02.yaml:20: fleet.cameras: a run needs an estimated"},
		{"run --scale 0", nil, []string{"run", "--scale", "0"}, "--scale: must be a finite number"},
		{"run --scale 1e-300", nil, []string{"run", "--scale", "1e-300"}, "--scale: must be a finite number"},
		{"run --scale NaN", nil, []string{"run", "--scale", "NaN"}, "--scale: must be a finite number"},
		{"run --max-mem NaN", nil, []string{"run", "--max-mem", "NaN"}, "--max-mem: want a size"},
		// run: bases, profile files, lines.
		{"run unknown base", map[string]string{"s.yaml": "name: x\nbase: nowhere\n"}, []string{"run", "s.yaml"}, `s.yaml:2: base: unknown embedded scenario "nowhere"`},
		{"run base chain value", map[string]string{"s.yaml": "base: wyze-2024-02-1m\nname: x\nfleet:\n  accounts: 0   # assumed\n"}, []string{"run", "s.yaml"}, "s.yaml:4: fleet.accounts: must be ≥ 1"},
		{"run missing profile file", map[string]string{"s.yaml": scen + "fleet:\n  profile_files:\n    - nosuch.yaml   # assumed\n"}, []string{"run", "s.yaml"}, "s.yaml:4: fleet.profile_files.0: cannot read profile file"},
		{"run bare CR", map[string]string{"s.yaml": scen + "seed: 2   # assumed\rfleet: [\n"}, []string{"run", "s.yaml"}, "s.yaml:2: a carriage return"},
		{"run U+2029", map[string]string{"s.yaml": scen + "seed: 2   # assumed\n\u2029fleet: [\n"}, []string{"run", "s.yaml"}, "s.yaml:3: a line or paragraph separator (U+2029)"},
		{"run NaN in a profile file", map[string]string{"s.yaml": scen + "fleet:\n  profile_files: [p.yaml]   # assumed\n  mix: {my-cam: 1}   # assumed\n",
			"p.yaml": profile(t, "  multiplier:", "  multiplier: .nan")}, []string{"run", "s.yaml"}, "p.yaml:11: backoff.multiplier: must be a finite number"},
		{"run unknown field", map[string]string{"s.yaml": scen + "cloud:\n  colour: red   # assumed\n"}, []string{"run", "s.yaml"}, "s.yaml:3: colour: unknown field"},
		// profiles
		{"profiles multiplier NaN", map[string]string{"p.yaml": profile(t, "  multiplier:", "  multiplier: .nan")}, []string{"profiles", "p.yaml"}, "p.yaml:11: backoff.multiplier: must be a finite number"},
		{"profiles motion Inf", map[string]string{"p.yaml": profile(t, "motion_per_hour:", "motion_per_hour: .inf")}, []string{"profiles", "p.yaml"}, "p.yaml:14: motion_per_hour: must be a finite number"},
		{"profiles clip NaN", map[string]string{"p.yaml": profile(t, "clip_seconds:", "clip_seconds: .nan")}, []string{"profiles", "p.yaml"}, "p.yaml:16: clip_seconds: must be a finite number"},
		{"profiles stream Inf", map[string]string{"p.yaml": profile(t, "stream_bytes_per_sec:", "stream_bytes_per_sec: .inf")}, []string{"profiles", "p.yaml"}, "p.yaml:17: stream_bytes_per_sec: must be a finite number"},
		{"profiles uplink NaN", map[string]string{"p.yaml": profile(t, "uplink_bytes_per_sec:", "uplink_bytes_per_sec: .nan")}, []string{"profiles", "p.yaml"}, "p.yaml:18: uplink_bytes_per_sec: must be a finite number"},
		{"profiles clip too big", map[string]string{"p.yaml": profile(t, "stream_bytes_per_sec:", "stream_bytes_per_sec: 1e12")}, []string{"profiles", "p.yaml"}, "p.yaml:17: stream_bytes_per_sec: a clip"},
		// check (the judge's reader)
		{"check unknown major version", map[string]string{"t.jsonl": newMajor}, []string{"check", "t.jsonl", "--out", "out"}, "t.jsonl:1: "},
		{"check malformed JSON", map[string]string{"t.jsonl": truncated}, []string{"check", "t.jsonl", "--out", "out"}, "t.jsonl:6: "},
		// replay
		{"replay out of time order", map[string]string{"t.jsonl": outOfOrder}, []string{"replay", "t.jsonl"}, "t.jsonl:12: event at t="},
		{"replay malformed JSON", map[string]string{"t.jsonl": truncated}, []string{"replay", "t.jsonl"}, "t.jsonl:6: "},
		{"replay 49,999,999 cameras", map[string]string{"t.jsonl": huge}, []string{"replay", "t.jsonl"}, "t.jsonl:1: trace header: fleet.cameras: a run needs an estimated"},
		{"replay share_fraction 2", map[string]string{"t.jsonl": share}, []string{"replay", "t.jsonl"}, "t.jsonl:1: trace header options: fleet.share_fraction: must be a finite number"},
		{"replay unknown major version", map[string]string{"t.jsonl": newMajor}, []string{"replay", "t.jsonl"}, "t.jsonl:1: "},
		// render
		{"render malformed JSON", map[string]string{"t.jsonl": truncated}, []string{"render", "t.jsonl", "--format", "timeline", "--output", "out/x.txt"}, "t.jsonl:6: "},
		{"render unknown major version", map[string]string{"t.jsonl": newMajor}, []string{"render", "t.jsonl", "--format", "mermaid", "--output", "out/x.md"}, "t.jsonl:1: "},
		// sweep
		{"sweep name climbs out", map[string]string{"w.yaml": "name: ../../escaped\n" + sweepHead + "grid:\n  cloud.workers: [2]\n"}, []string{"sweep", "w.yaml"}, `w.yaml:1: name: "../../escaped" must be one path element`},
		{"sweep NaN in grid", map[string]string{"w.yaml": sweepHead + "grid:\n  cloud.workers: [2]\n  fleet.share_fraction: [0.1, .nan]\n"}, []string{"sweep", "w.yaml", "--out", "out"}, "w.yaml:4: grid.fleet.share_fraction: fleet.share_fraction: must be a finite number"},
		{"sweep NaN scale", map[string]string{"w.yaml": sweepHead + "scale: .nan\ngrid:\n  cloud.workers: [2]\n"}, []string{"sweep", "w.yaml", "--out", "out"}, "w.yaml:2: scale: must be a finite number"},
		{"sweep Inf in set", map[string]string{"w.yaml": sweepHead + "set:\n  users.tap_prob: .inf\ngrid:\n  cloud.workers: [2]\n"}, []string{"sweep", "w.yaml", "--out", "out"}, "w.yaml:3: set.users.tap_prob: users.tap_prob: must be a finite number"},
		{"sweep cell too big", map[string]string{"w.yaml": sweepHead + "grid:\n  fleet.cameras: [100, 50000000]\n"}, []string{"sweep", "w.yaml", "--out", "out"}, "w.yaml:3: grid: at fleet.cameras=50000000: "},
		// explore
		{"explore tap_prob NaN", map[string]string{"c.yaml": tap.ReplaceAllString(string(exploreCfg), "  tap_prob: .nan   ")}, []string{"explore", "c.yaml", "--out", "out"}, "c.yaml:30: users.tap_prob: must be a finite number"},
		{"explore bare CR", map[string]string{"c.yaml": strings.Replace(string(exploreCfg), "\n", "\r", 3)}, []string{"explore", "c.yaml", "--out", "out"}, "c.yaml:1: a carriage return"},
		{"explore --max-mem NaN", nil, []string{"explore", "--max-mem", "NaN", "--out", "out"}, "--max-mem: want a size"},
		// live: the scenario is refused before any server starts.
		{"live share_fraction NaN", map[string]string{"s.yaml": scen + "fleet:\n  share_fraction: .nan   # assumed\n"}, []string{"live", "--server", "redis", "--client", "go-redis", "--no-ebpf", "--scenario", "s.yaml", "--out", "out"}, "s.yaml:3: fleet.share_fraction: must be a finite number"},
		{"live --scale NaN", nil, []string{"live", "--server", "redis", "--client", "go-redis", "--no-ebpf", "--scale", "NaN", "--out", "out"}, "--scale: must be a finite number"},
		{"live 50M cameras", map[string]string{"s.yaml": scen + "fleet:\n  cameras: 50000000   # assumed\n"}, []string{"live", "--server", "redis", "--client", "go-redis", "--no-ebpf", "--scenario", "s.yaml", "--out", "out"}, "s.yaml:3: fleet.cameras: a run needs an estimated"},
	}
	if len(cases) < 40 {
		t.Fatalf("%d cases; the table promises at least 40", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, text := range c.files {
				writeFile(t, dir, name, text)
			}
			args := c.args
			if args[0] == "run" && !contains(args, "--out") {
				args = append(args, "--out", "out")
			}
			stdout, stderr, code := runCLI(t, dir, args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2\nstdout %s\nstderr %s", code, stdout, stderr)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") || strings.Contains(stderr, "goroutine") {
				t.Fatalf("stderr is not one line: %q", stderr)
			}
			msg := strings.TrimPrefix(strings.TrimSuffix(stderr, "\n"), "stormproof: ")
			if strings.HasPrefix(c.want, "--") {
				if !strings.Contains(msg, c.want) {
					t.Fatalf("stderr %q: want it to name %q", stderr, c.want)
				}
			} else if !strings.HasPrefix(msg, c.want) {
				t.Fatalf("stderr %q: want it to start %q", stderr, c.want)
			}
			// Nothing written: no output directory, or an empty one, and
			// nothing new beside the inputs.
			if entries, _ := os.ReadDir(filepath.Join(dir, "out")); len(entries) != 0 {
				t.Errorf("bad input left output behind: %v", entries)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if _, input := c.files[e.Name()]; !input && e.Name() != "out" {
					t.Errorf("bad input left %s behind", e.Name())
				}
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "escaped")); err == nil {
				t.Errorf("a sweep wrote outside its directory")
			}
		})
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
