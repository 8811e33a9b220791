package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/stormproof/stormproof/checker"
	"github.com/stormproof/stormproof/internal/atomicfile"
	"github.com/stormproof/stormproof/internal/cli"
	"github.com/stormproof/stormproof/internal/membudget"
	"github.com/stormproof/stormproof/internal/version"
	"github.com/stormproof/stormproof/live"
	"github.com/stormproof/stormproof/live/cache"
	"github.com/stormproof/stormproof/live/faults"
	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/sim"
)

func init() {
	register(command{"live", "replay a scenario's storm against a real cache server and client library, and judge it", cmdLive})
}

const liveSynopsis = "stormproof live --server redis|memcached --client NAME [--scenario S] [--duration D] [--out DIR] [--seed N] [--scale F] [--drops SPEC|none] [--mitigate key-in-value] [--lanes N] [--max-mem SIZE] [--no-ebpf]"

func cmdLive(args []string) error {
	fs := flag.NewFlagSet("live", flag.ContinueOnError)
	srv := fs.String("server", "", "cache server to start: redis or memcached")
	client := fs.String("client", "", "client library: "+strings.Join(cache.Names(), ", "))
	scen := fs.String("scenario", sim.DefaultScenario, "scenario (embedded name or YAML file) giving the workload")
	dur := fs.Duration("duration", 60*time.Second, "wall time the scenario is compressed into")
	out := fs.String("out", "stormproof-live", "directory for trace.jsonl and the renders of a violation")
	seed := fs.String("seed", "", "random seed (default: the scenario's)")
	scale := new(float64)
	fs.Var((*scaleValue)(scale), "scale", "multiply the fleet and its capacities by `F`")
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
			cli.Usage(os.Stdout, fs, liveSynopsis)
			fmt.Println("\nclients:")
			for _, a := range cache.All() {
				fmt.Printf("  %-11s %-10s %s\n", a.Name, a.Server, a.About)
			}
		}
		return err
	}
	if len(pos) > 0 {
		return cli.Badf("live: unexpected argument %q (usage: %s)", pos[0], liveSynopsis)
	}
	if *srv == "" || *client == "" {
		return cli.Badf("live: --server and --client are required (usage: %s)", liveSynopsis)
	}
	if *lanes < 0 {
		return cli.Badf("--lanes: must be ≥ 0")
	}
	sf := scenarioFlags{seed: *seed, scale: *scale, maxMem: maxMem}
	s, err := sf.load(*scen)
	if err != nil {
		return err
	}
	var mit model.Mitigations
	if err := mit.UnmarshalText([]byte(strings.Join(mitigate, ","))); err != nil {
		return cli.Badf("--mitigate: %v", err)
	}
	opt := live.Options{Server: *srv, Client: *client, Scenario: s, Duration: *dur, NoEBPF: *noEBPF,
		Lanes: *lanes, Mitigations: mit, Tool: version.Version}
	if *drops != "" {
		if opt.Drops, err = faults.ParseSchedule(*drops); err != nil {
			return cli.Badf("--drops: %v", err)
		}
		if opt.Drops == nil {
			opt.Drops = faults.Schedule{}
		}
	}
	opt.Reproduce = liveReproduce(&opt, *scen, *scale, *drops, mitigate)
	if _, err := opt.Check(); err != nil {
		return cli.Bad(err)
	}
	if err := atomicfile.CheckDir(*out); err != nil {
		return cli.Badf("--out %s: cannot write there: %v", *out, unwrap(err))
	}
	tracePath := filepath.Join(*out, "trace.jsonl")
	tf, err := atomicfile.Create(tracePath)
	if err != nil {
		return cli.Badf("--out %s: %v", *out, unwrap(err))
	}
	defer tf.Abort()
	opt.Trace = tf
	opt.Log = func(format string, a ...any) { fmt.Fprintf(os.Stderr, "live: "+format+"\n", a...) }

	// A signal ends the run early; Run releases the server, the BPF links
	// and the clients on its way out, and no trace is written.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := live.Run(ctx, opt)
	if err != nil {
		switch {
		case errors.Is(err, live.ErrBadOptions):
			return cli.Bad(err)
		case ctx.Err() != nil:
			return cli.Badf("live: interrupted; server stopped, eBPF programs detached, no trace written")
		}
		return err
	}
	if err := tf.Commit(); err != nil {
		return err
	}
	printLive(res, tracePath)
	rep, err := checkTrace(tracePath, checker.Options{})
	if err != nil {
		return err
	}
	// The judge decides, from the trace the run wrote (its witness lines
	// included), by the one policy: the same verdict check gives the file.
	rep.Print(os.Stdout)
	dec := rep.Decide(checker.Policy{})
	fmt.Printf("verdict                %s\n", dec.Line())
	if dec.Outcome == checker.Violated {
		if len(rep.Stories) > 0 && rep.Stories[0].Headline != "" {
			fmt.Printf("why                    %s\n", rep.Stories[0].Headline)
		}
		files, err := writeRenders(tracePath, rep, filepath.Join(*out, "check"))
		for _, f := range files {
			fmt.Printf("wrote                  %s\n", f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "stormproof: renders not written: %v (the verdict above stands)\n", unwrap(err))
		}
	}
	return cli.Exit(dec.Exit)
}

func printLive(r *live.Result, path string) {
	h := &r.Header
	st := &r.Stats
	fmt.Printf("live            %s on %s, scenario %s seed %d, %d devices, %d accounts\n", h.Design, r.ServerVersion, h.Scenario, h.Seed, h.Devices, h.Accounts)
	fmt.Printf("workload        %d captures, %d uploads, compressed %.0f× into %v (the run took %v)\n",
		r.Workload.Captures, r.Workload.Uploads, r.Compression, r.Duration, r.Wall.Round(time.Millisecond))
	fmt.Printf("drops           %s; %d of %d packets to the server port dropped\n", r.Drops, r.PacketsDropped, r.PacketsSeen)
	fmt.Printf("cache           %d calls: %d hits, %d misses, %d timeouts, %d errors, %d never sent (no connection); %d hits read another device's value\n",
		st.CacheCalls, st.Hits, st.Misses, st.Timeouts, st.Errors, st.NotSent, st.Misreads)
	fmt.Printf("service         %d registry reads, %d events stored (%d duplicate uploads), %d deliveries\n",
		st.RegistryReads, st.Stored, st.Duplicates, st.Deliveries)
	w := &r.Witness
	switch {
	case !w.Enabled:
		fmt.Printf("witness         off\n")
	case w.Agree():
		fmt.Printf("witness         agrees: the uprobe saw %d deliveries, the record holds %d\n", w.Seen, w.Recorded)
	default:
		fmt.Printf("witness         DISAGREES: the uprobe saw %d deliveries, the record holds %d; %d seen but not recorded, %d recorded but not seen (%d lost in the ring)\n",
			w.Seen, w.Recorded, len(w.Unrecorded), w.Unwitnessed, w.Lost)
		for i, d := range w.Unrecorded {
			if i == 5 {
				fmt.Printf("                … and %d more\n", len(w.Unrecorded)-5)
				break
			}
			fmt.Printf("                unrecorded: event %d/%d pushed to account %d\n", d.Device, d.Seq, d.Acct)
		}
	}
	fmt.Printf("wrote           %s (%d events)\n", path, r.Events)
}

func liveReproduce(o *live.Options, scen string, scale float64, drops string, mit []string) string {
	parts := []string{"stormproof live", "--server", o.Server, "--client", o.Client, "--scenario", scen,
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
	if o.NoEBPF {
		parts = append(parts, "--no-ebpf")
	}
	return strings.Join(parts, " ")
}
