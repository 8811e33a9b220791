package commands

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/stormproof/stormproof/checker"
	"github.com/stormproof/stormproof/internal/atomicfile"
	"github.com/stormproof/stormproof/internal/cli"
	"github.com/stormproof/stormproof/internal/storyfiles"
	"github.com/stormproof/stormproof/traces/render"
)

func init() {
	register(command{"render", "draw a trace: timeline, mermaid, perfetto or porcupine", cmdRender})
}

const renderSynopsis = "stormproof render TRACE --format timeline|mermaid|perfetto|porcupine [--output FILE] [--explain N] [--slice]"

func cmdRender(args []string) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	format := fs.String("format", "timeline", "timeline, mermaid, perfetto or porcupine")
	out := fs.String("output", "", "write to `FILE` (default: standard output)")
	explain := fs.Int("explain", 1, "timeline: violations to explain")
	slice := fs.Bool("slice", false, "perfetto: draw only the events of the first violation's causal story")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			cli.Usage(os.Stdout, fs, renderSynopsis)
		}
		return err
	}
	if len(pos) != 1 {
		return cli.Badf("render: want one trace file (usage: %s)", renderSynopsis)
	}
	if !slices.Contains(render.Formats, *format) {
		return cli.Badf("--format: want one of %s, got %q", strings.Join(render.Formats, ", "), *format)
	}
	if *explain < 1 {
		return cli.Badf("--explain: must be at least 1")
	}
	path := pos[0]
	var draw func(w io.Writer) error
	switch *format {
	case "perfetto":
		// Judge the trace now, so a bad trace fails before any output and
		// the first violation's story is marked.
		rep, err := checker.CheckFile(path, checker.Options{NoLinearizability: true, Explain: 1})
		if err != nil {
			return badTrace(err)
		}
		o := render.PerfettoOptions{Story: firstStory(rep), Slice: *slice}
		draw = func(w io.Writer) error { return storyfiles.PerfettoStory(w, path, o) }
	default:
		opt := checker.Options{Explain: *explain, NoLinearizability: *format != "porcupine"}
		rep, err := checkTrace(path, opt)
		if err != nil {
			return err
		}
		switch *format {
		case "timeline":
			draw = func(w io.Writer) error { return render.Timeline(w, &rep.Header, rep.Stories) }
		case "mermaid":
			draw = func(w io.Writer) error { return render.Mermaid(w, &rep.Header, firstStory(rep)) }
		case "porcupine":
			page := storyfiles.PorcupinePage(rep)
			if page == nil {
				fmt.Fprintln(os.Stderr, "stormproof: every cache and registry history is linearizable: no porcupine page to draw")
				return nil
			}
			draw = func(w io.Writer) error { return render.Porcupine(w, page) }
		}
	}
	if *out == "" {
		return draw(os.Stdout)
	}
	f, err := atomicfile.Create(*out)
	if err != nil {
		return cli.Badf("--output %s: %v", *out, unwrap(err))
	}
	defer f.Abort()
	if err := draw(f); err != nil {
		return err
	}
	if err := f.Commit(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s\n", *out)
	return nil
}
