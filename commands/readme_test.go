package commands

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stormproof/stormproof/model"
)

// repoRoot is the repository's top directory, seen from this package.
const repoRoot = ".."

// userDocs are the pages a user reads: the README and docs/*.md.
func userDocs(t *testing.T) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	paths = append([]string{filepath.Join(repoRoot, "README.md")}, paths...)
	docs := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		docs[p] = string(b)
	}
	return docs
}

// The README and the docs show files a user copies: they must be the
// files the tests compile and run, as they are.
func TestReadmeShowsTheFilesAsTheyAre(t *testing.T) {
	for _, f := range []struct{ doc, path, from string }{
		{"README.md", "checker/props/ci_example_test.go", "package props_test"},
		{"docs/live.md", "live/examples/dialpercall/main.go", "package main"},
	} {
		doc, err := os.ReadFile(filepath.Join(repoRoot, f.doc))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(repoRoot, f.path))
		if err != nil {
			t.Fatal(err)
		}
		i := strings.Index(string(b), f.from)
		if i < 0 {
			t.Fatalf("%s: no %q", f.path, f.from)
		}
		if !strings.Contains(string(doc), string(b[i:])) {
			t.Errorf("%s does not show %s from %q as it is; copy it again", f.doc, f.path, f.from)
		}
	}
}

// CI runs the README's test command, as the README writes it: the line
// of .ci/run under "The README's test command" is in the README's set-up
// block, beside the command that runs the main job.
func TestReadmeTestCommandIsCIs(t *testing.T) {
	ci, err := os.ReadFile(filepath.Join(repoRoot, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(ci), "# The README's test command.\n")
	cmd, _, _ := strings.Cut(after, "\n")
	if !ok || cmd == "" {
		t.Fatal(".ci/run has no line under \"# The README's test command.\"")
	}
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, setup, _ := strings.Cut(string(readme), "## Set up and run")
	setup, _, _ = strings.Cut(setup, "\n## ")
	for _, want := range []string{"\n" + cmd + " ", "\ngo run ./cmd/stormproof run "} {
		if !strings.Contains(setup, want) {
			t.Errorf("the README's set-up section lacks the line %q", strings.TrimSpace(want))
		}
	}
}

// The README is the front door: at most 15,000 characters; detail lives
// in docs/.
func TestReadmeIsShort(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if n := utf8.RuneCount(b); n > 15000 {
		t.Errorf("README.md has %d characters; at most 15,000 (move detail into docs/)", n)
	}
}

// stopNumber finds history told as numbered stops of the project's
// development. (The pattern's own text does not match it.)
var stopNumber = regexp.MustCompile(`(?i)\bstops?\s+\d+`)

// History belongs in commit messages: no file of the repository a person
// reads (docs, code and its comments, YAML and its comments, scripts) tells
// the project's development as numbered stops.
func TestNoHistoryInTheRepository(t *testing.T) {
	text := map[string]bool{".md": true, ".go": true, ".yaml": true, ".yml": true, ".sh": true, ".txt": true, ".mod": true}
	checked := 0
	err := filepath.WalkDir(repoRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "stormproof-out", "stormproof-sweep":
				return filepath.SkipDir
			}
			return nil
		}
		if !text[filepath.Ext(p)] && filepath.Base(filepath.Dir(p)) != ".ci" {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		checked++
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for n := 1; sc.Scan(); n++ {
			if m := stopNumber.FindString(sc.Text()); m != "" {
				t.Errorf("%s:%d: %q tells history; say what is true now (history goes into commit messages)", p, n, m)
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("checked only %d files: is %s the repository?", checked, repoRoot)
	}
}

// commandLines returns the stormproof command lines of a page, in code
// blocks and inline code: each shell command that starts with stormproof
// (or go run ./cmd/stormproof, sudo stormproof, srun stormproof), up to a
// comment or the next command of the line. Each is the words after
// "stormproof".
func commandLines(doc string) [][]string {
	var spans []string
	inBlock := false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inBlock = !inBlock
			continue
		}
		if inBlock {
			spans = append(spans, line)
			continue
		}
		parts := strings.Split(line, "`")
		for i := 1; i < len(parts); i += 2 {
			spans = append(spans, parts[i])
		}
	}
	sep := regexp.MustCompile(`&&|\s\|\s|;|\$\(`)
	var out [][]string
	for _, s := range spans {
		if i := strings.Index(s, " #"); i >= 0 {
			s = s[:i]
		}
		for _, seg := range sep.Split(s, -1) {
			seg = strings.TrimSpace(seg)
			seg = strings.TrimPrefix(seg, "$ ")
			for _, p := range []string{"sudo ", "srun ", "go run ./cmd/"} {
				seg = strings.TrimPrefix(seg, p)
			}
			rest, ok := strings.CutPrefix(seg, "stormproof ")
			if !ok {
				continue
			}
			if i := strings.IndexAny(rest, "'>\\"); i >= 0 {
				rest = rest[:i]
			}
			if words := strings.Fields(rest); len(words) > 0 {
				out = append(out, words)
			}
		}
	}
	return out
}

// Every stormproof command shown in the README and the docs names a
// subcommand that exists, flags that subcommand defines, and, where it
// names them, embedded scenarios, explorer configurations, cache clients
// and mitigations that exist.
func TestDocumentedCommandsExist(t *testing.T) {
	subs := map[string]bool{"help": true, "version": true}
	for _, c := range commands {
		subs[c.name] = true
	}
	help := map[string]string{}
	scenarios, _, _ := runCLI(t, "", "scenarios")
	configs, _, _ := runCLI(t, "", "explore", "--list")
	listed := func(list, name string) bool {
		for _, l := range strings.Split(list, "\n") {
			if f := strings.Fields(l); len(f) > 0 && f[0] == name {
				return true
			}
		}
		return false
	}
	placeholder := regexp.MustCompile(`[A-Z<…|]|\.\.\.|\.ya?ml$|/|\.jsonl$`)
	n := 0
	for path, doc := range userDocs(t) {
		for _, words := range commandLines(doc) {
			sub := words[0]
			if !subs[sub] {
				if strings.ToUpper(sub) == sub {
					continue // a synopsis: stormproof COMMAND
				}
				t.Errorf("%s: stormproof %s: no such command", path, strings.Join(words, " "))
				continue
			}
			n++
			if _, ok := help[sub]; !ok && sub != "help" && sub != "version" {
				stdout, stderr, code := runCLI(t, "", sub, "-h")
				if code != 0 {
					t.Fatalf("stormproof %s -h: exit %d", sub, code)
				}
				help[sub] = stdout + stderr
			}
			// A synopsis ([--flag VALUE] ...) names flags, not values.
			synopsis := strings.Contains(strings.Join(words, " "), "[")
			for i, w := range words[1:] {
				w = strings.Trim(w, "[]")
				flagValue := i > 0 && strings.HasPrefix(words[i], "-")
				if dir, _, ok := strings.Cut(w, "/"); ok && dir != "" && !flagValue && !strings.HasPrefix(w, "-") {
					// A path into the repository (sweeps/..., sim/...) exists.
					if fi, err := os.Stat(filepath.Join(repoRoot, dir)); err == nil && fi.IsDir() {
						if _, err := os.Stat(filepath.Join(repoRoot, w)); err != nil {
							t.Errorf("%s: stormproof %s: %v", path, strings.Join(words, " "), err)
						}
					}
				}
				if placeholder.MatchString(w) {
					continue
				}
				var val string
				if i+2 < len(words) {
					val = strings.Trim(words[i+2], "[]")
				}
				if strings.HasPrefix(w, "-") {
					name, v, hasV := strings.Cut(strings.TrimLeft(w, "-"), "=")
					if hasV {
						val = v
					}
					if !strings.Contains(help[sub], "  --"+name+" ") && !strings.Contains(help[sub], "  --"+name+"\n") {
						t.Errorf("%s: stormproof %s: %s defines no flag --%s", path, strings.Join(words, " "), sub, name)
					}
					if synopsis || placeholder.MatchString(val) {
						continue
					}
					switch {
					case name == "client" && sub != "live":
						if err := new(model.ClientVariant).UnmarshalText([]byte(val)); err != nil {
							t.Errorf("%s: stormproof %s: %v", path, strings.Join(words, " "), err)
						}
					case name == "mitigate":
						if err := new(model.Mitigations).UnmarshalText([]byte(val)); err != nil {
							t.Errorf("%s: stormproof %s: %v", path, strings.Join(words, " "), err)
						}
					}
					continue
				}
				if synopsis || i > 0 && strings.HasPrefix(words[i], "-") {
					continue // a flag's value
				}
				switch sub {
				case "run", "matrix":
					if !listed(scenarios, w) {
						t.Errorf("%s: stormproof %s: no embedded scenario %q", path, strings.Join(words, " "), w)
					}
				case "explore":
					if !listed(configs, w) {
						t.Errorf("%s: stormproof %s: no explorer configuration %q", path, strings.Join(words, " "), w)
					}
				}
			}
		}
	}
	if n < 30 {
		t.Fatalf("found only %d stormproof commands in the README and docs", n)
	}
}

// A command that judges (run, check, explore, replay, live, and matrix and
// sweep unless --exit-zero) exits 1 when an invariant is violated, as it is
// on the default scenario: a shell line that chains another command after
// it with && would stop there.
func TestDocumentedChainsRun(t *testing.T) {
	judging := regexp.MustCompile(`stormproof (?:run|check|explore|replay|live|matrix|sweep)\b[^&#\n]*&&`)
	for path, doc := range userDocs(t) {
		for _, m := range judging.FindAllString(doc, -1) {
			if strings.Contains(m, "--exit-zero") {
				continue
			}
			t.Errorf("%s: %q: the next command never runs after a violation (exit status 1); use ; or a new line", path, m)
		}
	}
}

// consoleBlock is one "$ command" of a console block and the output shown
// under it.
type consoleBlock struct {
	args []string
	out  []string
}

// readmeConsole returns the "$ go run ./cmd/stormproof ..." commands of the
// README's console blocks that show output.
func readmeConsole(t *testing.T) []consoleBlock {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []consoleBlock
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case line == "```console":
			in = true
		case in && line == "```":
			in = false
		case in && strings.HasPrefix(line, "$ go run ./cmd/stormproof"):
			cmd, _, _ := strings.Cut(strings.TrimPrefix(line, "$ go run ./cmd/stormproof"), "#")
			blocks = append(blocks, consoleBlock{args: strings.Fields(cmd)})
		case in && len(blocks) > 0:
			blocks[len(blocks)-1].out = append(blocks[len(blocks)-1].out, line)
		}
	}
	return blocks
}

// wallTime is the one figure of run's output that is not reproducible.
var wallTime = regexp.MustCompile(`\(\d+\.\d s\)$`)

// matchShown reports whether the output lines shown match got: a line
// "..." stands for any lines, "..." inside a line for any text, and the
// run's wall time is not compared.
func matchShown(shown, got []string) bool {
	if len(shown) == 0 {
		return len(got) == 0
	}
	if shown[0] == "..." {
		for i := 0; i <= len(got); i++ {
			if matchShown(shown[1:], got[i:]) {
				return true
			}
		}
		return false
	}
	if len(got) == 0 {
		return false
	}
	pat := regexp.QuoteMeta(wallTime.ReplaceAllString(shown[0], "(x s)"))
	pat = strings.ReplaceAll(pat, regexp.QuoteMeta("(x s)"), `\(\d+\.\d s\)`)
	pat = strings.ReplaceAll(pat, regexp.QuoteMeta("..."), ".*")
	if !regexp.MustCompile("^" + pat + "$").MatchString(got[0]) {
		return false
	}
	return matchShown(shown[1:], got[1:])
}

// The README's worked examples are what the commands print, as they are
// (the run's wall time aside), exit status included.
func TestReadmeExamplesAreTheOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the default scenario")
	}
	blocks := readmeConsole(t)
	ran := 0
	for _, b := range blocks {
		if len(b.out) == 0 {
			continue
		}
		want := 0
		shown := b.out
		if last := shown[len(shown)-1]; strings.HasPrefix(last, "exit status ") {
			want = int(last[len("exit status ")] - '0')
			shown = shown[:len(shown)-1]
		}
		stdout, stderr, code := runCLI(t, "", b.args...)
		ran++
		if code != want {
			t.Errorf("stormproof %s: exit %d, the README shows %d\n%s", strings.Join(b.args, " "), code, want, stderr)
		}
		got := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		if !matchShown(shown, got) {
			t.Errorf("stormproof %s: the README shows\n%s\nit prints\n%s", strings.Join(b.args, " "), strings.Join(shown, "\n"), stdout)
		}
	}
	if ran < 3 {
		t.Fatalf("ran %d of the README's examples; want the run, the fixed run and the explorer's", ran)
	}
}

// Every relative link of the README and the docs leads to a file that
// exists (a page, a figure).
func TestDocLinksExist(t *testing.T) {
	link := regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)
	for path, doc := range userDocs(t) {
		for _, m := range link.FindAllStringSubmatch(doc, -1) {
			target := m[1]
			if strings.Contains(target, "://") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(path), target)); err != nil {
				t.Errorf("%s: link to %s: %v", path, target, err)
			}
		}
	}
}
