package live

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/stormproof/stormproof/checker"
	"github.com/stormproof/stormproof/internal/atomicfile"
	"github.com/stormproof/stormproof/internal/cli"
	"github.com/stormproof/stormproof/internal/membudget"
	"github.com/stormproof/stormproof/internal/storyfiles"
	"github.com/stormproof/stormproof/internal/version"
	"github.com/stormproof/stormproof/live/cache"
	"github.com/stormproof/stormproof/live/faults"
	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/sim"
	"github.com/stormproof/stormproof/traces"
)

// Main is `stormproof live` as the main function of a program of your own:
// it registers adapters beside the naive reference client, reads the flags
// of `stormproof live` from the command line, runs, judges, prints the same
// report and renders, and exits with the same status (0 held, 1 violated, 2
// bad input, 4 not exercised, 130/143 SIGINT/SIGTERM). A complete program:
//
//	func main() { live.Main(myAdapter) }
func Main(adapters ...cache.Adapter) {
	name := filepath.Base(os.Args[0])
	os.Exit(cli.Status(Command(name, os.Args[1:], adapters...)))
}

// Command is Main without the exit: name is how the program is invoked (it
// begins the reproduce command in the trace header), args its flags. The
// error is nil when every promise held on an exercised run; otherwise it is
// one of cli's verdict errors, a *cli.Interrupted, or bad input (see
// cli.Status). stormproof's own `live` subcommand is this function.
func Command(name string, args []string, adapters ...cache.Adapter) error {
	for _, a := range adapters {
		if err := cache.Add(a); err != nil {
			return err
		}
	}
	synopsis := name + " --server redis|memcached --client NAME [--scenario S] [--duration D] [--out DIR] [--seed N] [--scale F] [--drops SPEC|none] [--mitigate key-in-value] [--lanes N] [--max-mem SIZE] [--no-ebpf]"
	fs := flag.NewFlagSet("live", flag.ContinueOnError)
	srv := fs.String("server", "", "cache server to start: redis or memcached")
	client := fs.String("client", "", "client library: "+strings.Join(cache.Names(), ", "))
	scen := fs.String("scenario", sim.DefaultScenario, "scenario (embedded name or YAML file) giving the workload")
	dur := fs.Duration("duration", 60*time.Second, "wall time the scenario is compressed into")
	out := fs.String("out", "stormproof-live", "directory for trace.jsonl and the renders of a violation")
	seed := fs.String("seed", "", "random seed (default: the scenario's)")
	var scale float64
	fs.Var((*sim.ScaleFlag)(&scale), "scale", "multiply the fleet and its capacities by `F`")
	drops := fs.String("drops", "", "drop schedule FROM-TO[@P],... in wall time from the start, or none (default: the scenario's cache outages and a storm of short outages when the gateway comes back)")
	noEBPF := fs.Bool("no-ebpf", false, "no eBPF fault injection or witness (no root needed; nothing breaks the network)")
	lanes := fs.Int("lanes", 0, "uploads each worker handles at once (default: twice the scenario's pool size)")
	var mitigate cli.StringList
	fs.Var(&mitigate, "mitigate", "service mitigations: key-in-value, bypass-cache-ownership")
	maxMem := membudget.NewValue()
	fs.Var(maxMem, "max-mem", "refuse a scenario estimated to need more than `SIZE` (default: "+
		strconv.Itoa(int(membudget.Share*100))+" % of the machine's memory)")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			cli.Usage(os.Stdout, fs, synopsis)
			fmt.Println("\nclients:")
			for _, a := range cache.All() {
				fmt.Printf("  %-11s %-10s %s\n", a.Name, a.Server, a.About)
			}
		}
		return err
	}
	if len(pos) > 0 {
		return cli.Badf("live: unexpected argument %q (usage: %s)", pos[0], synopsis)
	}
	if *srv == "" || *client == "" {
		return cli.Badf("live: --server and --client are required (usage: %s)", synopsis)
	}
	if *lanes < 0 {
		return cli.Badf("--lanes: must be ≥ 0")
	}
	s, err := loadScenarioFlags(*scen, *seed, scale, maxMem)
	if err != nil {
		return err
	}
	var mit model.Mitigations
	if err := mit.UnmarshalText([]byte(strings.Join(mitigate, ","))); err != nil {
		return cli.Badf("--mitigate: %v", err)
	}
	tool := version.Version
	if name != "stormproof live" {
		tool += " (live.Main in " + name + ")"
	}
	opt := Options{Server: *srv, Client: *client, Scenario: s, Duration: *dur, NoEBPF: *noEBPF,
		Lanes: *lanes, Mitigations: mit, Tool: tool}
	if *drops != "" {
		if opt.Drops, err = faults.ParseSchedule(*drops); err != nil {
			return cli.Badf("--drops: %v", err)
		}
		if opt.Drops == nil {
			opt.Drops = faults.Schedule{}
		}
	}
	opt.Reproduce = reproduce(name, &opt, *scen, scale, *drops, mitigate)
	if _, err := opt.Check(); err != nil {
		return cli.Bad(err)
	}
	if err := atomicfile.CheckDir(*out); err != nil {
		return cli.Badf("--out %s: cannot write there: %v", *out, pathErr(err))
	}
	tracePath := filepath.Join(*out, "trace.jsonl")
	tf, err := atomicfile.Create(tracePath)
	if err != nil {
		return cli.Badf("--out %s: %v", *out, pathErr(err))
	}
	defer tf.Abort()
	opt.Trace = tf
	opt.Log = func(format string, a ...any) { fmt.Fprintf(os.Stderr, "live: "+format+"\n", a...) }

	// SIGINT and SIGTERM end every phase promptly — set-up, the run and the
	// judge — with 130 and 143. Run releases the server, the BPF links and
	// the clients on its way out; an interrupted run writes no trace.
	sigs := cli.NotifySignals()
	defer sigs.Stop()
	res, err := Run(sigs, opt)
	if err != nil {
		if in := sigs.Interruption(); in != nil {
			return interrupted(in, "server stopped, eBPF programs detached, no trace written")
		}
		if errors.Is(err, ErrBadOptions) {
			return cli.Bad(err)
		}
		return err
	}
	if err := tf.Commit(); err != nil {
		return err
	}
	Print(os.Stdout, res, tracePath)

	// The judge decides, from the trace the run wrote (its witness lines
	// included), by the one policy: the same verdict check gives the file.
	type judged struct {
		rep *checker.Report
		err error
	}
	done := make(chan judged, 1)
	go func() {
		rep, err := checker.CheckFile(tracePath, checker.Options{})
		done <- judged{rep, err}
	}()
	var j judged
	select {
	case j = <-done:
	case <-sigs.Done():
		return interrupted(sigs.Interruption(), "the run's trace "+tracePath+" is written; stormproof check judges it")
	}
	if j.err != nil {
		var te *traces.Error
		if errors.As(j.err, &te) {
			return cli.Bad(j.err)
		}
		return j.err
	}
	rep := j.rep
	rep.Print(os.Stdout)
	dec := rep.Decide(checker.Policy{})
	if ok, why := res.Exercised(); !ok {
		dec = dec.Unexercised(why)
	}
	fmt.Printf("verdict                %s\n", dec.Line())
	if dec.Outcome == checker.Violated {
		if len(rep.Stories) > 0 && rep.Stories[0].Headline != "" {
			fmt.Printf("why                    %s\n", rep.Stories[0].Headline)
		}
		files, err := storyfiles.Write(tracePath, rep, filepath.Join(*out, "check"))
		for _, f := range files {
			fmt.Printf("wrote                  %s\n", f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "stormproof: renders not written: %v (the verdict above stands)\n", pathErr(err))
		}
	}
	return cli.Exit(dec.Exit)
}

func interrupted(err error, kept string) error {
	in, ok := err.(*cli.Interrupted)
	if !ok {
		in = &cli.Interrupted{Signal: "a signal", Status: cli.ExitSIGINT}
	}
	in.Kept = kept
	return in
}

// Print writes the run's own counts, one line each, in the form of
// `stormproof live`.
func Print(w io.Writer, r *Result, path string) {
	h := &r.Header
	st := &r.Stats
	fmt.Fprintf(w, "live            %s on %s, scenario %s seed %d, %d devices, %d accounts\n", h.Design, r.ServerVersion, h.Scenario, h.Seed, h.Devices, h.Accounts)
	fmt.Fprintf(w, "workload        %d captures, %d uploads, compressed %.0f× into %v (the run took %v)\n",
		r.Workload.Captures, r.Workload.Uploads, r.Compression, r.Duration, r.Wall.Round(time.Millisecond))
	fmt.Fprintf(w, "drops           %s; %d of %d packets to the server port dropped\n", r.Drops, r.PacketsDropped, r.PacketsSeen)
	fmt.Fprintf(w, "cache           %d calls: %d hits, %d misses, %d timeouts, %d errors, %d never sent (no connection); %d hits read another device's value\n",
		st.CacheCalls, st.Hits, st.Misses, st.Timeouts, st.Errors, st.NotSent, st.Misreads)
	closed := "connections closed: the server did not say"
	if r.ConnsClosed >= 0 {
		closed = fmt.Sprintf("%d connections closed (server's count)", r.ConnsClosed)
	}
	fmt.Fprintf(w, "fault           %d packets dropped, %d calls timed out, %d replies read after their deadline, %s\n",
		r.PacketsDropped, st.Timeouts, st.Late, closed)
	fmt.Fprintf(w, "service         %d registry reads, %d events stored (%d duplicate uploads), %d deliveries\n",
		st.RegistryReads, st.Stored, st.Duplicates, st.Deliveries)
	wc := &r.Witness
	switch {
	case !wc.Enabled:
		fmt.Fprintf(w, "witness         off\n")
	case wc.Agree():
		fmt.Fprintf(w, "witness         agrees: the uprobe saw %d deliveries, the record holds %d\n", wc.Seen, wc.Recorded)
	default:
		fmt.Fprintf(w, "witness         DISAGREES: the uprobe saw %d deliveries, the record holds %d; %d seen but not recorded, %d recorded but not seen (%d lost in the ring)\n",
			wc.Seen, wc.Recorded, len(wc.Unrecorded), wc.Unwitnessed, wc.Lost)
		for i, d := range wc.Unrecorded {
			if i == 5 {
				fmt.Fprintf(w, "                … and %d more\n", len(wc.Unrecorded)-5)
				break
			}
			fmt.Fprintf(w, "                unrecorded: event %d/%d pushed to account %d\n", d.Device, d.Seq, d.Acct)
		}
	}
	fmt.Fprintf(w, "wrote           %s (%d events)\n", path, r.Events)
}

func reproduce(name string, o *Options, scen string, scale float64, drops string, mit []string) string {
	parts := []string{name, "--server", o.Server, "--client", o.Client, "--scenario", scen,
		"--seed", strconv.FormatUint(o.Scenario.Seed, 10), "--duration", o.Duration.String()}
	if scale != 0 {
		parts = append(parts, "--scale", strconv.FormatFloat(scale, 'g', -1, 64))
	}
	if drops != "" {
		parts = append(parts, "--drops", drops)
	}
	if len(mit) > 0 {
		parts = append(parts, "--mitigate", strings.Join(mit, ","))
	}
	if o.Lanes > 0 {
		parts = append(parts, "--lanes", strconv.Itoa(o.Lanes))
	}
	if o.NoEBPF {
		parts = append(parts, "--no-ebpf")
	}
	return strings.Join(parts, " ")
}

// loadScenarioFlags reads a scenario and applies --seed and --scale; a bad one
// is bad input.
func loadScenarioFlags(name, seed string, scale float64, maxMem *membudget.Value) (*sim.Scenario, error) {
	s, err := sim.Load(name)
	if err != nil {
		return nil, cli.Bad(err)
	}
	o := sim.Override{Scale: scale}
	if seed != "" {
		n, err := strconv.ParseUint(seed, 10, 64)
		if err != nil {
			return nil, cli.Badf("--seed: want a non-negative integer, got %q", seed)
		}
		o.Seed = &n
	}
	if s, err = s.Apply(o); err != nil {
		return nil, cli.Bad(err)
	}
	if err := s.CheckMemory(maxMem.Bytes); err != nil {
		return nil, cli.Bad(err)
	}
	return s, nil
}

func pathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
