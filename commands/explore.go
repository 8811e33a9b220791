package commands

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/stormproof/stormproof/checker"
	"github.com/stormproof/stormproof/checker/explore"
	"github.com/stormproof/stormproof/internal/cli"
	"github.com/stormproof/stormproof/internal/membudget"
	"github.com/stormproof/stormproof/internal/version"
	"github.com/stormproof/stormproof/model"
)

func init() {
	register(command{"explore", "explore every interleaving of a small configuration (model checking)", cmdExplore})
}

const exploreSynopsis = "stormproof explore [CONFIG|FILE] [--client V] [--mitigate a,b] [--max-states N] [--max-depth D] [--max-mem SIZE] [--out DIR] [--no-symmetry] [--reduce] [--ignore INV,...] [--rule capture|capture-or-delivery] [--list]"

func cmdExplore(args []string) error {
	fs := flag.NewFlagSet("explore", flag.ContinueOnError)
	var client clientFlag
	fs.Var(&client, "client", "cache client `V`: "+clientNames()+" (default: the configuration's)")
	var mitigate mitigateFlag
	fs.Var(&mitigate, "mitigate", "mitigations `a,b` to switch on (comma-separated, repeatable)")
	maxStates := fs.Uint64("max-states", 0, "stop after `N` distinct states (0: no bound)")
	maxDepth := fs.Int("max-depth", 0, "do not explore beyond depth `D` (0: no bound)")
	maxMem := fs.String("max-mem", "6GiB", "stop when the state store and frontier would pass `SIZE` (estimated from the counts)")
	out := fs.String("out", defaultOutRoot, "output root: the search writes explore.json and, on a violation, counterexample.jsonl into its own directory `DIR`/CONFIG-explore-DESIGN, and points DIR/latest at it")
	noSym := fs.Bool("no-symmetry", false, "turn symmetry reduction off (to measure its factor)")
	reduce := fs.Bool("reduce", false, "partial-order reduction: store fewer states, same verdict and shortest counterexample")
	list := fs.Bool("list", false, "list the embedded configurations")
	var ignore cli.StringList
	fs.Var(&ignore, "ignore", "comma-separated invariants whose violations do not stop the search (to ask whether the others hold)")
	ruleName := ruleFlag(fs)
	pos, err := cli.Parse(fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			cli.Usage(os.Stdout, fs, exploreSynopsis)
		}
		return err
	}
	if *list {
		for _, n := range explore.Embedded() {
			c, err := explore.Load(n)
			if err != nil {
				return err
			}
			fmt.Printf("%-12s %s\n", n, c.Description)
		}
		return nil
	}
	if len(pos) > 1 {
		return cli.Badf("explore: one configuration at a time (got %d)", len(pos))
	}
	if *maxDepth < 0 {
		return cli.Badf("--max-depth: must be ≥ 0, got %d", *maxDepth)
	}
	mem, err := parseSize(*maxMem)
	if err != nil {
		return cli.Badf("--max-mem: %v", err)
	}
	ignored, err := model.ParseInvariants(strings.Join(ignore, ","))
	if err != nil {
		return cli.Badf("--ignore: %v", err)
	}
	rule, err := parseRule(*ruleName)
	if err != nil {
		return err
	}
	name := explore.DefaultConfig
	if len(pos) == 1 {
		name = pos[0]
	}
	cfg, err := explore.Load(name)
	if err != nil {
		return cli.Bad(err)
	}
	if cfg, err = cfg.Override(client.v, mitigate.set()); err != nil {
		return cli.Bad(err)
	}
	// The directory is named from what decides the search: the
	// configuration, its design, and every bound or option set.
	dirName := runName(scenarioPart(name), "explore", cfg.Design().String(),
		bound("max-states", *maxStates), bound("max-depth", uint64(*maxDepth)),
		when(*maxMem != "6GiB", "max-mem"+*maxMem), when(*noSym, "no-symmetry"), when(*reduce, "reduce"),
		when(len(ignore) > 0, "ignore-"+strings.Join(ignore, "+")), when(*ruleName != "", rule.String()))
	ro, err := openRunOut(*out, dirName, true)
	if err != nil {
		return err
	}
	defer ro.abort()
	opt := explore.Options{NoSymmetry: *noSym, Reduce: *reduce, Ignore: ignored, Rule: rule, Search: explore.SearchOptions{MaxStates: *maxStates, MaxDepth: *maxDepth, MaxMem: mem}}
	start := time.Now()
	if cli.IsTerminal(os.Stderr) {
		opt.Search.Progress = func(p explore.Progress) {
			fmt.Fprintf(os.Stderr, "\rexploring %s: depth %d, %d distinct states, frontier %d   ", cfg.Name, p.Depth, p.Distinct, p.Frontier)
		}
	}
	res, err := explore.Run(cfg, opt)
	if opt.Search.Progress != nil {
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	repro := exploreReproduce(name, client, mitigate, *maxStates, *maxDepth, *maxMem, *noSym, *reduce)
	if len(ignore) > 0 {
		repro += " --ignore " + strings.Join(ignore, ",")
	}
	if *ruleName != "" {
		repro += " --rule " + rule.String()
	}
	sum := exploreSummary(res, repro)
	b, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return err
	}
	cePath := ro.path("counterexample.jsonl")
	if res.Counterexample != nil {
		f, err := ro.create("counterexample.jsonl")
		if err != nil {
			return cli.Badf("--out %s: %v", *out, unwrap(err))
		}
		defer f.Close()
		if err := res.WriteTrace(f, version.Version, repro); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	if err := os.WriteFile(ro.tmp("explore.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	// The directory is replaced whole: a counterexample of an earlier
	// search of this configuration does not pass for this one's.
	if err := ro.commit(); err != nil {
		return err
	}
	printExplore(os.Stdout, res, elapsed)
	fmt.Printf("wrote              %s", ro.path("explore.json"))
	if res.Counterexample != nil {
		fmt.Printf(", %s\n", cePath)
		fmt.Printf("reproduce          %s\n", repro)
		fmt.Printf("explain            stormproof check %s\n", cePath)
		fmt.Printf("draw               stormproof render %s --format timeline   (or mermaid)\n", cePath)
	} else {
		fmt.Println()
	}
	return cli.Exit(decideExplore(res).Exit)
}

// decideExplore applies the verdict policy to a search: a counterexample
// violates its invariant; a search stopped at a bound without one is
// incomplete (no violation found, not a proof).
func decideExplore(res *explore.Result) checker.Decision {
	var counts [model.NumInvariants]uint64
	if ce := res.Counterexample; ce != nil {
		counts[ce.Violation.Inv] = 1
	}
	sr := res.Search
	return checker.Decide(checker.VerdictsOf(counts, true), sr.Complete(),
		fmt.Sprintf("the search stopped at its bound (%s) at depth %d", sr.Bound, sr.Depth), checker.Policy{})
}

// exploreJSON is explore.json: only deterministic figures (no timing).
type exploreJSON struct {
	Config      string   `json:"config"`
	Design      string   `json:"design"`
	Verdict     string   `json:"verdict"`
	Complete    bool     `json:"complete"`
	Bound       string   `json:"bound,omitempty"`
	Generated   uint64   `json:"states_generated"`
	Distinct    uint64   `json:"distinct_states"`
	Unreduced   uint64   `json:"states_without_symmetry"`
	Symmetry    int      `json:"symmetry_group_order"`
	Depth       int      `json:"depth"`
	Quiescent   uint64   `json:"quiescent_states"`
	Stuck       uint64   `json:"stuck_states"`
	Violation   string   `json:"violation,omitempty"`
	Steps       []string `json:"counterexample,omitempty"`
	Reproduce   string   `json:"reproduce"`
	Fingerprint string   `json:"fingerprint_collision_bound"`
	Ignored     []string `json:"ignored_invariants,omitempty"`
	// Rule is the authorization rule the search judged by.
	Rule string `json:"rule"`
	// Reduced: the search took stubborn sets only (--reduce); the figures
	// above are its own. ShortestStates: what the plain search that found
	// the shortest counterexample stored, after a reduced one found one.
	Reduced        bool   `json:"partial_order_reduction,omitempty"`
	ShortestStates uint64 `json:"shortest_search_states,omitempty"`
}

func exploreSummary(res *explore.Result, repro string) *exploreJSON {
	sr := res.Search
	s := &exploreJSON{Config: res.Config.Name, Design: res.Config.Design().String(), Verdict: exploreVerdict(res),
		Complete: sr.Complete(), Bound: string(sr.Bound), Generated: sr.Generated, Distinct: sr.Distinct,
		Unreduced: sr.Full, Symmetry: res.Group, Depth: sr.Depth, Quiescent: sr.Classes[1] + sr.Classes[2],
		Stuck: sr.Classes[3], Reproduce: repro, Rule: res.Rule.String(), Reduced: res.Reduced,
		Fingerprint: fmt.Sprintf("%.1e", float64(sr.Distinct)*float64(sr.Distinct)/(1<<65))}
	for _, inv := range res.Ignored {
		s.Ignored = append(s.Ignored, inv.String())
	}
	if res.Shortest != nil {
		s.ShortestStates = res.Shortest.Distinct
	}
	if ce := res.Counterexample; ce != nil {
		s.Violation = ce.Violation.String()
		for _, st := range ce.Steps {
			s.Steps = append(s.Steps, st.What)
		}
	}
	return s
}

func exploreVerdict(res *explore.Result) string {
	sr := res.Search
	switch {
	case res.Counterexample != nil:
		return fmt.Sprintf("violated: %v (shortest counterexample: %d steps)", res.Counterexample.Violation, len(res.Counterexample.Steps))
	case sr.Bound != explore.NotBounded:
		return fmt.Sprintf("bounded at depth %d, %d states (%s): no violation found, not a proof", sr.Depth, sr.Distinct, sr.Bound)
	}
	if len(res.Ignored) > 0 {
		var names []string
		for _, inv := range res.Ignored {
			names = append(names, inv.String())
		}
		return fmt.Sprintf("complete: no violation in %d states (not judged: %s)", sr.Distinct, strings.Join(names, ", "))
	}
	return fmt.Sprintf("complete: no violation in %d states", sr.Distinct)
}

func printExplore(w io.Writer, res *explore.Result, elapsed time.Duration) {
	sr := res.Search
	cfg := res.Config
	fmt.Fprintf(w, "config             %s (%s): %d accounts, %d cameras, %d worker(s) × %d connection(s)\n",
		cfg.Name, cfg.Design(), cfg.Accounts, len(cfg.Cameras), cfg.Cloud.Workers, cfg.Cloud.PoolSize)
	fmt.Fprintf(w, "authorized         %s\n", ruleText(res.Rule))
	fmt.Fprintf(w, "states generated   %d\n", sr.Generated)
	fmt.Fprintf(w, "distinct states    %d", sr.Distinct)
	if res.Group > 1 {
		fmt.Fprintf(w, " (symmetry group of order %d: %d states without it, reduction ×%.2f)", res.Group, sr.Full, float64(sr.Full)/float64(sr.Distinct))
	}
	fmt.Fprintln(w)
	if res.Reduced {
		fmt.Fprintf(w, "reduction          partial-order (stubborn sets)")
		if res.Shortest != nil {
			fmt.Fprintf(w, "; the plain search to the counterexample's length stored %d states", res.Shortest.Distinct)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "depth              %d\n", sr.Depth)
	fmt.Fprintf(w, "quiescent / stuck  %d / %d\n", sr.Classes[1]+sr.Classes[2], sr.Classes[3])
	fmt.Fprintf(w, "time               %.2f s (%.0f distinct states/s)\n", elapsed.Seconds(), float64(sr.Distinct)/elapsed.Seconds())
	fmt.Fprintf(w, "verdict            %s\n", exploreVerdict(res))
	if ce := res.Counterexample; ce != nil {
		for i, st := range ce.Steps {
			fmt.Fprintf(w, "  %3d  %s\n", i+1, st.What)
		}
	}
}

func exploreReproduce(name string, client clientFlag, mit mitigateFlag, maxStates uint64, maxDepth int, maxMem string, noSym, reduce bool) string {
	parts := []string{"stormproof explore", name}
	if client.v != nil {
		parts = append(parts, "--client", client.String())
	}
	if mit != 0 {
		parts = append(parts, "--mitigate", mit.String())
	}
	if maxStates > 0 {
		parts = append(parts, "--max-states", strconv.FormatUint(maxStates, 10))
	}
	if maxDepth > 0 {
		parts = append(parts, "--max-depth", strconv.Itoa(maxDepth))
	}
	if maxMem != "" && maxMem != "6GiB" {
		parts = append(parts, "--max-mem", maxMem)
	}
	if noSym {
		parts = append(parts, "--no-symmetry")
	}
	if reduce {
		parts = append(parts, "--reduce")
	}
	return strings.Join(parts, " ")
}

// parseSize reads "512MiB", "4GiB", "100MB", "1e9" ("" is no bound).
func parseSize(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	return membudget.ParseSize(s)
}

// bound names a search bound in a directory name ("" when unset).
func bound(name string, n uint64) string {
	if n == 0 {
		return ""
	}
	return name + strconv.FormatUint(n, 10)
}

// when is s if cond holds, else "".
func when(cond bool, s string) string {
	if cond {
		return s
	}
	return ""
}
