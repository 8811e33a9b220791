package commands

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/stormproof/stormproof/checker"
	"github.com/stormproof/stormproof/internal/atomicfile"
	"github.com/stormproof/stormproof/internal/cli"
	"github.com/stormproof/stormproof/internal/membudget"
	"github.com/stormproof/stormproof/internal/version"
	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/sim"
)

func init() {
	register(command{"run", "simulate a scenario and judge its invariants", cmdRun})
	register(command{"scenarios", "list the embedded scenarios", cmdScenarios})
}

const runSynopsis = "stormproof run [SCENARIO|FILE] [--seed N] [--scale F] [--max-mem SIZE] [--client V] [--mitigate a,b] [--out DIR] [--trace full|slice|none] [--rule capture|capture-or-delivery] [--cpuprofile F] [--memprofile F]"

// scenarioFlags are the flags that choose and alter a scenario.
type scenarioFlags struct {
	seed     string
	scale    float64
	client   clientFlag
	mitigate mitigateFlag
	rule     string
	maxMem   *membudget.Value // nil: no budget is checked
}

func (f *scenarioFlags) register(fs *flag.FlagSet) {
	f.maxMem = membudget.NewValue()
	fs.Var(f.maxMem, "max-mem", "refuse a run estimated to need more than `SIZE` (default: "+
		strconv.Itoa(int(membudget.Share*100))+" % of the machine's memory)")
	fs.StringVar(&f.seed, "seed", "", "random seed (default: the scenario's)")
	fs.Var((*sim.ScaleFlag)(&f.scale), "scale", "multiply the fleet and its capacities by `F`")
	fs.Var(&f.client, "client", "cache client `V`: "+clientNames())
	fs.Var(&f.mitigate, "mitigate", "mitigations `a,b` to switch on (comma-separated, repeatable)")
	fs.StringVar(&f.rule, "rule", "", "authorization rule the run is judged by: capture (the owner when the event was captured) or capture-or-delivery (default: the scenario's, else capture)")
}

// load reads a scenario and applies the flags.
func (f *scenarioFlags) load(name string) (*sim.Scenario, error) {
	s, err := sim.Load(name)
	if err != nil {
		return nil, cli.Bad(err)
	}
	o := sim.Override{Client: f.client.v, Mitigations: f.mitigate.set(), Scale: f.scale, Rule: f.rule}
	if f.seed != "" {
		n, err := strconv.ParseUint(f.seed, 10, 64)
		if err != nil {
			return nil, cli.Badf("--seed: want a non-negative integer, got %q", f.seed)
		}
		o.Seed = &n
	}
	s, err = s.Apply(o)
	if err != nil {
		return nil, cli.Bad(err)
	}
	if f.maxMem != nil {
		if err := s.CheckMemory(f.maxMem.Bytes); err != nil {
			return nil, cli.Bad(err)
		}
	}
	return s, nil
}

// reproduce is the command line that runs s again.
func reproduce(name string, s *sim.Scenario, f *scenarioFlags) string {
	parts := []string{"stormproof run", name, "--seed", strconv.FormatUint(s.Seed, 10)}
	if f.scale != 0 {
		parts = append(parts, "--scale", strconv.FormatFloat(f.scale, 'g', -1, 64))
	}
	if f.client.v != nil {
		parts = append(parts, "--client", f.client.String())
	}
	if f.mitigate != 0 {
		parts = append(parts, "--mitigate", f.mitigate.String())
	}
	if f.rule != "" {
		parts = append(parts, "--rule", f.rule)
	}
	return strings.Join(parts, " ")
}

func cmdRun(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var sf scenarioFlags
	sf.register(fs)
	out := fs.String("out", defaultOutRoot, "output root: the run writes trace.jsonl, summary.json and series.json into its own directory `DIR`/SCENARIO-seedN-DESIGN, and points DIR/latest at it")
	detail := fs.String("trace", "", "trace detail: full, slice or none (default: the scenario's)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the run to `FILE` (for performance work)")
	memprofile := fs.String("memprofile", "", "write a heap profile at the end of the run to `FILE` (for performance work)")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			cli.Usage(os.Stdout, fs, runSynopsis)
		}
		return err
	}
	if len(pos) > 1 {
		return cli.Badf("run: one scenario at a time (got %d)", len(pos))
	}
	name := sim.DefaultScenario
	if len(pos) == 1 {
		name = pos[0]
	}
	switch *detail {
	case "", "full", "slice", "none":
	default:
		return cli.Badf("--trace: want full, slice or none, got %q", *detail)
	}
	s, err := sf.load(name)
	if err != nil {
		return err
	}
	// The handlers are in place before the run's temporary directory is
	// made: a signal from then on ends the command through them, and the
	// deferred abort removes it.
	sigs := cli.NotifySignals()
	defer sigs.Stop()
	ro, err := openRunOut(*out, runDirName(name, s, &sf), true)
	if err != nil {
		return err
	}
	defer ro.abort()
	// --trace none (or a scenario whose trace is none) writes no trace file.
	noTrace := *detail == "none" || (*detail == "" && s.Trace == "none")
	var tf *os.File
	if !noTrace {
		if tf, err = ro.create("trace.jsonl"); err != nil {
			return cli.Badf("--out %s: %v", *out, unwrap(err))
		}
		defer tf.Close()
	}
	opt := sim.RunOptions{Detail: *detail, Tool: version.Version, Reproduce: reproduce(name, s, &sf)}
	if tf != nil {
		opt.Trace = tf
	}
	bar := newSimBar("simulating " + s.Name)
	opt.Progress = bar.callback()
	if os.Getenv("GOMEMLIMIT") == "" {
		// The budget is also the collector's soft limit: the default GC
		// pacing would let the heap double what the run holds live.
		debug.SetMemoryLimit(int64(sf.maxMem.Bytes))
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return cli.Badf("--cpuprofile: %v", unwrap(err))
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var memf *atomicfile.File
	if *memprofile != "" {
		// Created before the run, so a bad path fails at once, not after a long run.
		if memf, err = atomicfile.Create(*memprofile); err != nil {
			return cli.Badf("--memprofile %s: %v", *memprofile, unwrap(err))
		}
		defer memf.Abort()
	}
	start := time.Now()
	// The run goes on in its own goroutine so that a signal can end the
	// command at once: the deferred aborts remove the temporary files.
	type result struct {
		res *sim.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := sim.Run(s, opt)
		done <- result{res, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-sigs.Done():
		bar.done()
		return sigs.Interruption()
	}
	// From here on a signal waits: publishing takes milliseconds, and an
	// interrupted publication is what it must never be.
	res, err := r.res, r.err
	bar.done()
	if err != nil {
		return err
	}
	if memf != nil {
		runtime.GC() // so the in-use figures are current; the allocation samples are what show a run's garbage
		if err := pprof.WriteHeapProfile(memf); err != nil {
			return err
		}
		if err := memf.Commit(); err != nil {
			return err
		}
	}
	sum := &res.Summary
	if err := publish(ro, tf, sum, &res.Series); err != nil {
		return err
	}
	sum.Print(os.Stdout)
	written := runFiles
	if tf == nil {
		written = runFiles[1:]
	}
	fmt.Printf("wrote           %s in %s (%.1f s)\n", strings.Join(written, ", "), ro.Dir(), time.Since(start).Seconds())
	dec := decideRun(sum)
	if dec.Outcome == checker.Violated {
		fmt.Printf("reproduce       %s\n", sum.Reproduce)
		if tf != nil {
			fmt.Printf("explain         stormproof check %s\n", ro.path("trace.jsonl"))
		} else {
			fmt.Printf("explain         the run wrote no trace: run it again with --trace slice, then stormproof check\n")
		}
	}
	return cli.Exit(dec.Exit)
}

// runFiles are a run's outputs.
var runFiles = []string{"trace.jsonl", "summary.json", "series.json"}

// publish finishes a run's directory and puts it in place whole: the trace
// (if any) closed, the summary and series written, then the directory
// committed, replacing an earlier run of the same configuration.
func publish(ro *runOut, trace *os.File, sum *sim.Summary, series *sim.Series) error {
	if trace != nil {
		if err := trace.Close(); err != nil {
			return err
		}
	}
	for name, v := range map[string]any{"summary.json": sum, "series.json": series} {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(ro.tmp(name), append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return ro.commit()
}

// runDirName names a run's directory: the scenario, its seed and design,
// and the flags that change the run besides (scale, rule).
func runDirName(arg string, s *sim.Scenario, f *scenarioFlags) string {
	var scale, rule string
	if f.scale != 0 {
		scale = "scale" + strconv.FormatFloat(f.scale, 'g', -1, 64)
	}
	if r := s.Rule(); r != model.OwnerAtCapture {
		rule = r.String()
	}
	return runName(scenarioPart(arg), "seed"+strconv.FormatUint(s.Seed, 10), s.Design().String(), scale, rule)
}

func cmdScenarios(args []string) error {
	fs := flag.NewFlagSet("scenarios", flag.ContinueOnError)
	pos, err := cli.Parse(fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			cli.Usage(os.Stdout, fs, "stormproof scenarios")
		}
		return err
	}
	if len(pos) > 0 {
		return cli.Badf("scenarios: takes no arguments (got %q)", pos[0])
	}
	for _, n := range sim.Embedded() {
		s, err := sim.Load(n)
		if err != nil {
			return err
		}
		fmt.Printf("%-22s %s\n", n, s.Description)
	}
	return nil
}

func unwrap(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
