package commands

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/stormproof/stormproof/checker"
	"github.com/stormproof/stormproof/internal/atomicfile"
	"github.com/stormproof/stormproof/internal/cli"
	"github.com/stormproof/stormproof/internal/storyfiles"
	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/sim"
	"github.com/stormproof/stormproof/traces"
	"github.com/stormproof/stormproof/traces/render"
)

func init() {
	register(command{"check", "judge a trace: invariants, linearizability, and why a violation happened", cmdCheck})
}

const checkSynopsis = `stormproof check TRACE|- [--out DIR] [--keep N] [--explain N] [--no-lin] [--strict] [--incomplete-ok] [--rule capture|capture-or-delivery]
       stormproof check --follow TRACE [--keep N] [--no-lin] [--strict] [--rule R]
       stormproof check --history FILE|- [--model register|cas-register|kv] [--out DIR] [--timeout D] [--explain-timeout D]`

func cmdCheck(args []string) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	out := fs.String("out", "", "directory `DIR` for the renders of the first violation (default: check/ in the checked trace's run directory; ./check for standard input)")
	keep := fs.Int("keep", 10, "instances of each invariant to keep")
	explain := fs.Int("explain", 1, "violations to explain with a causal slice")
	noLin := fs.Bool("no-lin", false, "skip the linearizability checks")
	strict := fs.Bool("strict", false, "let the diagnoses (CacheLinearizable, RegistryLinearizable) decide the exit status too")
	incompleteOK := fs.Bool("incomplete-ok", false, "judge a trace without its end line (a run still being written) as if it were whole: exit 0 when nothing is violated")
	rule := fs.String("rule", "", "authorization rule: capture (the owner when the event was captured) or capture-or-delivery (default: the trace header's, else capture)")
	hist := fs.String("history", "", "check a history of operations for linearizability (docs/history.md): stormproof JSONL, a Jepsen etcd log or EDN, detected from the content")
	modelName := fs.String("model", "", "with --history: the model, register (get/set/del), cas-register (read/write/cas) or kv (get/put/append) (default: the JSONL header's; cas-register for a Jepsen log, kv for EDN)")
	timeout := fs.Duration("timeout", 0, "with --history: bound the linearizability search (0: none); out of time without a verdict is exit 3")
	explainTimeout := fs.Duration("explain-timeout", 0, "with --history: bound each key's search when explaining a violation (0: 10s, or --timeout when shorter)")
	follow := fs.Bool("follow", false, "judge a trace that is still being written: report each violation as its line appears, until the end line or SIGINT/SIGTERM")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			cli.Usage(os.Stdout, fs, checkSynopsis)
		}
		return err
	}
	if *hist != "" {
		if len(pos) != 0 || *follow {
			return cli.Badf("check --history: want one history file and no trace (usage: %s)", checkSynopsis)
		}
		if *timeout < 0 || *explainTimeout < 0 {
			return cli.Badf("check --history: --timeout and --explain-timeout must not be negative")
		}
		return checkHistoryFile(*hist, *modelName, *out, *timeout, *explainTimeout)
	}
	if *modelName != "" || *timeout != 0 || *explainTimeout != 0 {
		return cli.Badf("check: --model, --timeout and --explain-timeout go with --history FILE")
	}
	if len(pos) != 1 {
		return cli.Badf("check: want one trace file, or - for standard input (usage: %s)", checkSynopsis)
	}
	if *keep < 1 || *explain < 1 {
		return cli.Badf("check: --keep and --explain must be at least 1")
	}
	if _, err := model.ParseAuthRule(*rule); err != nil {
		return cli.Badf("--rule: %v", err)
	}
	path := pos[0]
	if *follow {
		if path == "-" {
			return cli.Badf("check --follow: want a file being written, not standard input")
		}
		return cmdFollow(path, checker.Options{Keep: *keep, Explain: -1, NoLinearizability: *noLin, Rule: *rule},
			checker.Policy{Strict: *strict, AllowIncomplete: *incompleteOK})
	}
	src, err := openTrace(path)
	if err != nil {
		return err
	}
	defer src.Close()
	rep, err := checker.Check(src, src.name, checker.Options{Keep: *keep, Explain: *explain, NoLinearizability: *noLin, Rule: *rule})
	if err != nil {
		return badTrace(err)
	}
	// The verdict comes first and alone decides the exit status; the renders
	// follow, and a failure to write them is reported without changing it.
	rep.Print(os.Stdout)
	dec := rep.Decide(checker.Policy{Strict: *strict, AllowIncomplete: *incompleteOK})
	fmt.Printf("verdict                %s\n", dec.Line())
	if rep.Header.Detail == "slice" {
		fmt.Printf("slice                  %s\n", sliceNote(path, src.stdin, &rep.Header))
	}
	if len(rep.Violated()) == 0 {
		return cli.Exit(dec.Exit)
	}
	if len(rep.Stories) > 0 && rep.Stories[0].Headline != "" {
		fmt.Printf("why                    %s\n", rep.Stories[0].Headline)
	}
	if len(rep.Stories) > 0 {
		fmt.Println()
		if err := render.Timeline(os.Stdout, &rep.Header, rep.Stories[:1]); err != nil {
			return err
		}
		fmt.Println()
	}
	dir := *out
	if dir == "" {
		dir = rendersDir(path, src.stdin)
	}
	files, err := writeRenders(src.copy, rep, dir)
	for _, f := range files {
		fmt.Printf("wrote                  %s\n", f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "stormproof: renders not written: %v (the verdict above stands)\n", unwrap(err))
	}
	return cli.Exit(dec.Exit)
}

// sliceNote says what a slice trace's counts are, and the run's own when
// the summary.json beside the trace is that run's.
func sliceNote(path string, stdin bool, h *traces.Header) string {
	const note = "a slice keeps the events around the violations its buffer held: the counts above are the slice's"
	if stdin {
		return note
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(path), "summary.json"))
	var sum sim.Summary
	if err != nil || json.Unmarshal(b, &sum) != nil || sum.Scenario != h.Scenario || sum.Seed != h.Seed || sum.Design != h.Design {
		return note // not this run's summary
	}
	var counts []string
	for _, inv := range model.Invariants() {
		if v, ok := sum.Invariants[inv.String()]; ok && v.Judged && !v.Held {
			counts = append(counts, fmt.Sprintf("%s %d", inv, v.Violations))
		}
	}
	if len(counts) == 0 {
		return note
	}
	return note + "; the run counted " + strings.Join(counts, ", ") + " (summary.json)"
}

// rendersDir is where check writes a trace's renders by default: check/ in
// the run directory that holds the trace (the directory a link such as
// stormproof-out/latest points at, so the path printed is the run's own),
// ./check for standard input.
func rendersDir(trace string, stdin bool) string {
	if stdin {
		return "check"
	}
	dir := filepath.Dir(trace)
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	return filepath.Join(dir, "check")
}

// traceSource is a trace being checked: a named file is read once and
// re-read for the renders; standard input or a pipe is copied to a
// temporary file as it is read, so it is read once and the renders read the
// copy.
type traceSource struct {
	io.Reader
	name  string
	copy  string // the file the renders read
	stdin bool
	close []func()
}

func (s *traceSource) Close() {
	for _, f := range s.close {
		f()
	}
}

func openTrace(path string) (*traceSource, error) {
	s := &traceSource{name: path, copy: path}
	var f *os.File
	if path == "-" {
		f, s.name, s.stdin = os.Stdin, "stdin", true
	} else {
		var err error
		if f, err = os.Open(path); err != nil {
			return nil, badTrace(err)
		}
		s.close = append(s.close, func() { f.Close() })
	}
	st, err := f.Stat()
	if err != nil {
		return nil, badTrace(err)
	}
	if st.Mode().IsRegular() && !s.stdin {
		s.Reader = f
		return s, nil
	}
	tmp, err := os.CreateTemp("", "stormproof-check-*.jsonl")
	if err != nil {
		return nil, err
	}
	s.copy = tmp.Name()
	s.close = append(s.close, func() { tmp.Close(); os.Remove(tmp.Name()) })
	s.Reader = io.TeeReader(f, tmp)
	return s, nil
}

// checkTrace checks a file; a bad or missing trace is bad input.
func checkTrace(path string, opt checker.Options) (*checker.Report, error) {
	rep, err := checker.CheckFile(path, opt)
	if err != nil {
		return nil, badTrace(err)
	}
	return rep, nil
}

func badTrace(err error) error {
	var te *traces.Error
	var pe *fs.PathError
	switch {
	case errors.As(err, &te):
		return cli.Bad(err)
	case errors.As(err, &pe):
		return cli.Badf("%s: %v", pe.Path, pe.Err)
	}
	return err
}

// writeRenders writes the renders of the report's first violation into dir
// (internal/storyfiles, the same files live writes).
func writeRenders(path string, rep *checker.Report, dir string) ([]string, error) {
	if err := atomicfile.CheckDir(dir); err != nil {
		return nil, cli.Badf("--out %s: cannot write there: %v", dir, unwrap(err))
	}
	return storyfiles.Write(path, rep, dir)
}

func firstStory(rep *checker.Report) *traces.Story {
	if len(rep.Stories) == 0 {
		return nil
	}
	return &rep.Stories[0]
}
