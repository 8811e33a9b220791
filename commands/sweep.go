package commands

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/stormproof/stormproof/checker"
	"github.com/stormproof/stormproof/internal/atomicfile"
	"github.com/stormproof/stormproof/internal/cli"
	"github.com/stormproof/stormproof/internal/membudget"
	"github.com/stormproof/stormproof/internal/version"
	"github.com/stormproof/stormproof/sim"
	"github.com/stormproof/stormproof/sweep"
)

func init() {
	register(command{"sweep", "run a grid of scenario variants × seeds: tables, confidence intervals, heatmap", cmdSweep})
}

const sweepSynopsis = "stormproof sweep SWEEP.yaml [--jobs N] [--shard i/N] [--out DIR] [--limit N] [--max-mem SIZE] [--exit-zero] | SWEEP.yaml --cell N [--trace slice|full] [--out DIR]"

func cmdSweep(args []string) error {
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	jobs := jobsFlag(fs, "cells at once")
	shard := fs.String("shard", "", "run only shard `i/N` (cells whose index % N == i); i may be \"auto\": $JOB_COMPLETION_INDEX or $SLURM_ARRAY_TASK_ID")
	out := fs.String("out", "", "the sweep's directory `DIR` (default: stormproof-sweep/NAME)")
	limit := fs.Int("limit", 0, "stop after running `N` cells (run again to continue)")
	cell := fs.Int("cell", -1, "run cell `N` alone with a trace, into the run directory cell-N of the sweep's directory, for report and check")
	detail := fs.String("trace", "slice", "--cell: trace detail, slice or full")
	exitZero := fs.Bool("exit-zero", false, "exit 0 even when a cell violated a promise (an exploratory study)")
	maxMem := membudget.NewValue()
	fs.Var(maxMem, "max-mem", "refuse a sweep whose cells running at once are estimated to need more than `SIZE` (default: "+
		strconv.Itoa(int(membudget.Share*100))+" % of the machine's memory)")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			cli.Usage(os.Stdout, fs, sweepSynopsis)
		}
		return err
	}
	if len(pos) != 1 {
		return cli.Badf("sweep: want one sweep file (usage: %s)", sweepSynopsis)
	}
	if *jobs < 0 {
		return cli.Badf("--jobs: must be ≥ 0, got %d", *jobs)
	}
	if *limit < 0 {
		return cli.Badf("--limit: must be ≥ 0, got %d", *limit)
	}
	si, sn, err := parseShard(*shard)
	if err != nil {
		return cli.Badf("--shard: %v", err)
	}
	sw, err := sweep.Load(pos[0])
	if err != nil {
		return cli.Bad(err)
	}
	nj := *jobs
	if nj == 0 {
		nj = defaultJobs()
	}
	if *cell >= 0 {
		nj = 1
	}
	if err := sweepMemory(sw, nj, maxMem.Bytes); err != nil {
		return err
	}
	if *cell >= 0 {
		if *shard != "" || *limit != 0 {
			return cli.Badf("--cell runs one cell: no --shard or --limit with it")
		}
		return sweepCell(sw, pos[0], *cell, *detail, *out)
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("stormproof-sweep", sw.Name)
	}
	if err := atomicfile.CheckDir(dir); err != nil {
		return cli.Badf("--out %s: cannot write there: %v", dir, unwrap(err))
	}

	sigs := cli.NotifySignals()
	defer sigs.Stop()
	ctx := sigs.Context
	go func() {
		<-ctx.Done()
		sigs.Stop() // a second signal ends the process at once
	}()
	opt := sweep.Options{Jobs: nj, Shard: si, Shards: sn, Limit: *limit}
	start := time.Now()
	bar := newCountBar("sweep "+sw.Name, "cells")
	if cb := bar.callback(); cb != nil {
		opt.Progress = func(p sweep.Progress) { cb(p.Ran, p.Todo) }
	}
	res, err := sweep.Run(ctx, sw, dir, opt)
	bar.done()
	elapsed := time.Since(start)
	if res == nil {
		var br *sweep.BadRows
		if errors.As(err, &br) {
			return cli.Bad(err)
		}
		return err
	}
	fmt.Printf("sweep           %s: scenario %s, %d points × %d seeds = %d cells\n", sw.Name, sw.Scenario, len(sw.Points), len(sw.Seeds), sw.NumCells())
	if sn > 1 {
		fmt.Printf("shard           %d/%d: %d cells\n", si, sn, res.Mine)
	}
	fmt.Printf("ran             %d cells in %.1f s on %d job%s (%d already finished, %d left)\n", res.Ran, elapsed.Seconds(), nj, plural(nj), res.Skipped, res.Left)
	if res.Foreign > 0 {
		fmt.Printf("note            %s holds %d rows of cells not in this sweep (another sweep, or an edited grid): kept, not used\n", dir, res.Foreign)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			in, ok := sigs.Interruption().(*cli.Interrupted)
			if !ok {
				in = &cli.Interrupted{Signal: "a signal", Status: cli.ExitSIGINT}
			}
			in.Kept = fmt.Sprintf("%d of %d cells finished and kept; run the same command again to continue", res.Finished, sw.NumCells())
			return in
		}
		return err
	}
	if !res.Complete {
		fmt.Printf("finished        %d of %d cells; the tables are written once all are: run the rest (other shards, or again without --limit), or put the shards' rows.jsonl together (cat */rows.jsonl > DIR/rows.jsonl) and run this sweep with --out DIR\n", res.Finished, sw.NumCells())
		fmt.Printf("wrote           %s\n", filepath.Join(dir, sweep.RowsFile))
		return nil
	}
	paths, err := sweep.WriteTables(dir, sw, res.Rows)
	if err != nil {
		return err
	}
	md, err := os.ReadFile(filepath.Join(dir, sweep.StatsMDFile))
	if err != nil {
		return err
	}
	fmt.Printf("\n%s\n", md)
	fmt.Printf("wrote           %s\n", strings.Join(append([]string{filepath.Join(dir, sweep.RowsFile)}, paths...), ", "))
	fmt.Printf("report          stormproof report %s\n", dir)
	violated := 0
	for i := range res.Rows {
		if decideRun(&res.Rows[i].Summary).Outcome == checker.Violated {
			violated++
		}
	}
	dec := decideRuns(violated, len(res.Rows))
	fmt.Printf("verdict         %d of %d cells violated a promise\n", violated, len(res.Rows))
	if *exitZero {
		return nil
	}
	return cli.Exit(dec.Exit)
}

// sweepMemory refuses a sweep whose largest cell, times the cells run at
// once, is estimated to need more than limit, naming the point.
func sweepMemory(sw *sweep.Sweep, jobs int, limit uint64) error {
	jobs = min(jobs, sw.NumCells())
	worst, at := 0.0, -1
	for i, p := range sw.Points {
		if b := p.Scenario.Memory().Bytes; b > worst {
			worst, at = b, i
		}
	}
	if at < 0 || worst*float64(jobs) <= float64(limit) {
		return nil
	}
	if err := sw.Points[at].Scenario.CheckMemory(limit); err != nil {
		return cli.Badf("%s:%d: grid: at %s: %v", sw.File, sw.Line(), sw.Describe(at), err)
	}
	return cli.Badf("%s:%d: grid: at %s: %d cells at once need an estimated %s, more than --max-mem %s: use fewer --jobs",
		sw.File, sw.Line(), sw.Describe(at), jobs, membudget.Format(worst*float64(jobs)), membudget.Format(float64(limit)))
}

// sweepCell runs one cell with a trace and writes what `stormproof run`
// writes, into the directory cell-N of the sweep's directory dir, so
// report, check and render work on it.
func sweepCell(sw *sweep.Sweep, file string, i int, detail, dir string) error {
	if i >= sw.NumCells() {
		return cli.Badf("--cell: the sweep has cells 0..%d, got %d", sw.NumCells()-1, i)
	}
	if detail != "slice" && detail != "full" {
		return cli.Badf("--trace: want slice or full, got %q", detail)
	}
	if dir == "" {
		dir = filepath.Join("stormproof-sweep", sw.Name)
	}
	c, err := sw.Cell(i)
	if err != nil {
		return err
	}
	// The cell's directory is replaced whole, as a run's is.
	ro, err := openRunOut(dir, fmt.Sprintf("cell-%d", i), false)
	if err != nil {
		return err
	}
	defer ro.abort()
	tf, err := ro.create("trace.jsonl")
	if err != nil {
		return err
	}
	defer tf.Close()
	again := fmt.Sprintf("stormproof sweep %s --cell %d --trace %s", file, i, detail)
	bar := newSimBar(fmt.Sprintf("cell %d of %s", i, sw.Name))
	res, err := sim.Run(c.Scenario, sim.RunOptions{Detail: detail, Trace: tf, Tool: version.Version, Reproduce: again, Progress: bar.callback()})
	bar.done()
	if err != nil {
		return err
	}
	if err := publish(ro, tf, &res.Summary, &res.Series); err != nil {
		return err
	}
	fmt.Printf("cell            %d of sweep %s: %s, seed %d\n", i, sw.Name, sw.Describe(c.Point), c.Seed)
	res.Summary.Print(os.Stdout)
	fmt.Printf("wrote           %s in %s\n", strings.Join(runFiles, ", "), ro.Dir())
	fmt.Printf("report          stormproof report %s\n", ro.Dir())
	return cli.Exit(decideRun(&res.Summary).Exit)
}

// parseShard reads "i/N"; i may be "auto" (the index a Kubernetes Indexed
// Job or a Slurm array gives the task). "" is the whole sweep.
func parseShard(s string) (i, n int, err error) {
	if s == "" {
		return 0, 0, nil
	}
	is, ns, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, fmt.Errorf("want i/N (e.g. 0/3), got %q", s)
	}
	if n, err = strconv.Atoi(ns); err != nil || n < 1 {
		return 0, 0, fmt.Errorf("want a shard count N ≥ 1 in i/N, got %q", ns)
	}
	if is == "auto" {
		for _, env := range []string{"JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"} {
			if v := os.Getenv(env); v != "" {
				is = v
				break
			}
		}
		if is == "auto" {
			return 0, 0, fmt.Errorf("auto: neither JOB_COMPLETION_INDEX nor SLURM_ARRAY_TASK_ID is set")
		}
	}
	if i, err = strconv.Atoi(is); err != nil || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("want a shard index 0 ≤ i < %d, got %q", n, is)
	}
	return i, n, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
