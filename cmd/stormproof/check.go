package main

import (
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
	"github.com/stormproof/stormproof/traces"
	"github.com/stormproof/stormproof/traces/render"
)

func init() {
	register(command{"check", "judge a trace: invariants, linearizability, and why a violation happened", cmdCheck})
}

const checkSynopsis = "stormproof check TRACE [--out DIR] [--keep N] [--explain N] [--no-lin]"

func cmdCheck(args []string) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	out := fs.String("out", "", "directory for the renders of the first violation (default: check/ beside the trace)")
	keep := fs.Int("keep", 10, "instances of each invariant to keep")
	explain := fs.Int("explain", 1, "violations to explain with a causal slice")
	noLin := fs.Bool("no-lin", false, "skip the linearizability checks")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			cli.Usage(os.Stdout, fs, checkSynopsis)
		}
		return err
	}
	if len(pos) != 1 {
		return cli.Badf("check: want one trace file (usage: %s)", checkSynopsis)
	}
	if *keep < 1 || *explain < 1 {
		return cli.Badf("check: --keep and --explain must be at least 1")
	}
	path := pos[0]
	rep, err := checkTrace(path, checker.Options{Keep: *keep, Explain: *explain, NoLinearizability: *noLin})
	if err != nil {
		return err
	}
	rep.Print(os.Stdout)
	if rep.Held() {
		fmt.Println("verdict                all judged invariants hold")
		return nil
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join(filepath.Dir(path), "check")
	}
	files, err := writeRenders(path, rep, dir)
	if err != nil {
		return err
	}
	fmt.Printf("verdict                VIOLATED: %s\n", strings.Join(rep.Violated(), ", "))
	if len(rep.Stories) > 0 && rep.Stories[0].Headline != "" {
		fmt.Printf("why                    %s\n", rep.Stories[0].Headline)
	}
	for _, f := range files {
		fmt.Printf("wrote                  %s\n", f)
	}
	return cli.Violated
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

// writeRenders writes the four renders of the report's first violation.
func writeRenders(path string, rep *checker.Report, dir string) ([]string, error) {
	if err := atomicfile.CheckDir(dir); err != nil {
		return nil, cli.Badf("--out %s: cannot write there: %v", dir, unwrap(err))
	}
	var first []storyT
	if len(rep.Stories) > 0 {
		first = rep.Stories[:1]
	}
	var written []string
	write := func(name string, fn func(w io.Writer) error) error {
		p := filepath.Join(dir, name)
		f, err := atomicfile.Create(p)
		if err != nil {
			return err
		}
		defer f.Abort()
		if err := fn(f); err != nil {
			return err
		}
		if err := f.Commit(); err != nil {
			return err
		}
		written = append(written, p)
		return nil
	}
	if err := write("timeline.txt", func(w io.Writer) error { return render.Timeline(w, &rep.Header, first) }); err != nil {
		return nil, err
	}
	if err := write("slice.mmd", func(w io.Writer) error { return render.Mermaid(w, &rep.Header, firstStory(rep)) }); err != nil {
		return nil, err
	}
	if err := write("perfetto.json", func(w io.Writer) error { return perfettoFile(w, path) }); err != nil {
		return nil, err
	}
	if page := porcupinePage(rep); page != nil {
		if err := write("porcupine.html", func(w io.Writer) error { return render.Porcupine(w, page) }); err != nil {
			return nil, err
		}
	}
	return written, nil
}

type storyT = traces.Story

func firstStory(rep *checker.Report) *traces.Story {
	if len(rep.Stories) == 0 {
		return nil
	}
	return &rep.Stories[0]
}

// porcupinePage is the page of the violated cache keys (or, if only the
// registry's history is violated, of its entries); nil if none is.
func porcupinePage(rep *checker.Report) *render.LinPage {
	h := &rep.Header
	for _, x := range []struct {
		res  *checker.LinResult
		what string
	}{{rep.Cache, "cache"}, {rep.Registry, "registry"}} {
		if x.res != nil && len(x.res.Violated) > 0 {
			title := fmt.Sprintf("stormproof: non-linearizable %s keys, %s seed %d, %s", x.what, h.Scenario, h.Seed, h.Design)
			return x.res.Page(title, 0, 0)
		}
	}
	return nil
}

func perfettoFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tr, err := traces.NewReader(f, path)
	if err != nil {
		return err
	}
	return render.Perfetto(w, tr)
}
