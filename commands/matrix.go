package commands

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/stormproof/stormproof/internal/atomicfile"
	"github.com/stormproof/stormproof/internal/cli"
	"github.com/stormproof/stormproof/internal/membudget"
	"github.com/stormproof/stormproof/sim"
)

func init() {
	register(command{"matrix", "table of designs × outcomes (one scenario) or × incidents (--all), mean over seeds", cmdMatrix})
}

const matrixSynopsis = "stormproof matrix [SCENARIO|FILE ...] [--all] [--seeds N] [--jobs N] [--scale F] [--rule capture|capture-or-delivery] [--max-mem SIZE] [--output FILE] [--exit-zero]"

func cmdMatrix(args []string) error {
	fs := flag.NewFlagSet("matrix", flag.ContinueOnError)
	seeds := fs.Int("seeds", 3, "seeds per cell: each scenario's seed and the N-1 after it")
	jobs := jobsFlag(fs, "simulations at once; the table does not depend on it")
	scale := new(float64)
	fs.Var((*sim.ScaleFlag)(scale), "scale", "multiply the fleet and its capacities by `F`")
	out := fs.String("output", "", "also write the table to `FILE`")
	all := fs.Bool("all", false, "the incident library: every incident × every design (what leaked in each)")
	ruleName := ruleFlag(fs)
	exitZero := fs.Bool("exit-zero", false, "exit 0 even when a run violated a promise (an exploratory table)")
	maxMem := membudget.NewValue()
	fs.Var(maxMem, "max-mem", "refuse runs at once estimated to need more than `SIZE` (default: "+
		strconv.Itoa(int(membudget.Share*100))+" % of the machine's memory)")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			cli.Usage(os.Stdout, fs, matrixSynopsis)
		}
		return err
	}
	if *seeds < 1 || *seeds > 1000 {
		return cli.Badf("--seeds: want 1..1000, got %d", *seeds)
	}
	if *jobs < 0 || *jobs > 256 {
		return cli.Badf("--jobs: want 1..256 (0: the number of CPUs), got %d", *jobs)
	}
	if *jobs == 0 {
		*jobs = defaultJobs()
	}
	names := pos
	switch {
	case *all && len(pos) > 0:
		return cli.Badf("matrix: --all runs the incident library; name no scenario with it (got %s)", strings.Join(pos, " "))
	case *all:
		names = nil
		for _, in := range sim.Incidents() {
			names = append(names, in.Scenario)
		}
	case len(pos) > 1:
		return cli.Badf("matrix: one scenario at a time, or --all (got %d)", len(pos))
	case len(pos) == 0:
		names = []string{sim.DefaultScenario}
	}
	if _, err := parseRule(*ruleName); err != nil {
		return err
	}
	var scenarios []*sim.Scenario
	for _, n := range names {
		s, err := sim.Load(n)
		if err != nil {
			return cli.Bad(err)
		}
		scaled, err := s.Apply(sim.Override{Scale: *scale})
		if err != nil {
			return cli.Bad(err)
		}
		// The largest runs may all run at once.
		if err := scaled.CheckMemory(maxMem.Bytes / uint64(*jobs)); err != nil {
			return cli.Badf("%v (with --jobs %d)", err, *jobs)
		}
		scenarios = append(scenarios, s)
	}
	rows := sim.DesignRows()
	if *all {
		rows = sim.IncidentRows()
	}
	opt := sim.MatrixOptions{Seeds: *seeds, Jobs: *jobs, Scale: *scale, Rule: *ruleName}
	bar := newCountBar("matrix", "runs")
	opt.Progress = bar.callback()
	m, err := sim.RunMatrix(scenarios, rows, opt)
	bar.done()
	var bad *sim.MatrixInputError
	switch {
	case errors.As(err, &bad):
		return cli.Bad(err)
	case err != nil:
		return err
	}
	cmd := "stormproof matrix"
	if *all {
		cmd += " --all"
	} else {
		cmd += " " + scenarios[0].Name
	}
	cmd += " --seeds " + strconv.Itoa(*seeds)
	if *scale != 0 {
		cmd += " --scale " + strconv.FormatFloat(*scale, 'g', -1, 64)
	}
	if *ruleName != "" {
		cmd += " --rule " + *ruleName
	}
	var b strings.Builder
	if *all {
		m.WriteIncidents(&b, cmd)
	} else {
		m.WriteDesigns(&b, cmd)
	}
	fmt.Print(b.String())
	if *out != "" {
		if err := atomicfile.WriteFile(*out, []byte(b.String())); err != nil {
			return cli.Badf("--output %s: %v", *out, unwrap(err))
		}
	}
	if *exitZero {
		return nil
	}
	return cli.Exit(decideRuns(m.Violated(), len(rows)*len(scenarios)*(*seeds)).Exit)
}
