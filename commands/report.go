package commands

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/stormproof/stormproof/internal/atomicfile"
	"github.com/stormproof/stormproof/internal/cli"
	"github.com/stormproof/stormproof/report"
)

func init() {
	register(command{"report", "write one self-contained HTML page about a run or sweep directory", cmdReport})
}

const reportSynopsis = "stormproof report RUNDIR|SWEEPDIR [--output FILE]"

func cmdReport(args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	out := fs.String("output", "", "write the page to `FILE` (default: report.html in the directory)")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			cli.Usage(os.Stdout, fs, reportSynopsis)
		}
		return err
	}
	if len(pos) != 1 {
		return cli.Badf("report: want one directory (usage: %s)", reportSynopsis)
	}
	dir := pos[0]
	page, err := report.Build(dir)
	if err != nil {
		var bd *report.BadDir
		if errors.As(err, &bd) {
			return cli.Bad(err)
		}
		return err
	}
	path := *out
	if path == "" {
		// Named by the directory a link (stormproof-out/latest) points at.
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			dir = real
		}
		path = filepath.Join(dir, "report.html")
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return cli.Badf("--output %s: %v", path, unwrap(err))
	}
	defer f.Abort()
	if err := page.Write(f); err != nil {
		return err
	}
	if err := f.Commit(); err != nil {
		return err
	}
	fmt.Printf("wrote %s\n", path)
	return nil
}
