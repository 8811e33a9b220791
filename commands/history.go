package commands

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stormproof/stormproof/checker"
	"github.com/stormproof/stormproof/checker/history"
	"github.com/stormproof/stormproof/internal/atomicfile"
	"github.com/stormproof/stormproof/internal/cli"
)

// prefixShown bounds the operations of the longest linearizable prefix
// printed (its last ones, before the operation that does not fit).
const prefixShown = 8

// checkHistory judges a history for linearizability (docs/history.md):
// exit 0 linearizable, 1 not, 2 bad input, 3 the search ran out of time.
func checkHistoryFile(path, modelName, out string, timeout, explain time.Duration) error {
	var h *history.History
	var err error
	name := path
	if path == "-" {
		name = "stdin"
		h, err = history.Read(os.Stdin, name)
	} else {
		f, ferr := os.Open(path)
		if ferr != nil {
			return badTrace(ferr)
		}
		defer f.Close()
		h, err = history.Read(f, path)
	}
	if err != nil {
		return badTrace(err)
	}
	if modelName == "" {
		modelName = h.Model
	}
	if modelName == "" {
		modelName = map[history.Format]string{history.Jepsen: "cas-register", history.EDN: "kv"}[h.Format]
	}
	if modelName == "" {
		return cli.Badf("%s:1: the header names no model; give --model %s", name, strings.Join(history.ModelNames(), "|"))
	}
	b, ok := history.Lookup(modelName)
	if !ok {
		return cli.Badf("--model: unknown model %q (want %s)", modelName, strings.Join(history.ModelNames(), ", "))
	}
	if err := h.Conform(b); err != nil {
		return badTrace(err)
	}
	r := history.CheckWith(h, b.Model, history.Options{Timeout: timeout, Explain: explain})
	failed := ""
	if h.Failed > 0 {
		failed = fmt.Sprintf(" (and %d that failed, left out)", h.Failed)
	}
	fmt.Printf("history         %s: %s format, model %s, %d operations%s on %d key(s), %d process(es)\n",
		name, h.Format, b.Name, r.Ops, failed, r.Keys, len(h.Processes))
	v := checker.Verdict{Name: "Linearizable", Judged: r.Verdict != porcupine.Unknown}
	if r.Verdict == porcupine.Illegal {
		v.Count = 1
	}
	dec := checker.Decide([]checker.Verdict{v}, r.Verdict != porcupine.Unknown,
		fmt.Sprintf("the search ran out of time (--timeout %v) without a verdict", timeout), checker.Policy{})
	switch r.Verdict {
	case porcupine.Ok:
		fmt.Printf("linearizable    yes (%s)\n", r.Elapsed.Round(time.Millisecond))
	case porcupine.Unknown:
		fmt.Printf("linearizable    unknown: the search ran out of time (%v)\n", timeout)
	case porcupine.Illegal:
		fmt.Printf("linearizable    NO: %d key(s) found not linearizable", len(r.Illegal))
		if r.Undecided > 0 {
			fmt.Printf(", %d undecided within --explain-timeout", r.Undecided)
		}
		fmt.Println()
		for i := range r.Illegal {
			if i >= history.PageKeys {
				fmt.Printf("                … and %d more key(s)\n", len(r.Illegal)-i)
				break
			}
			printPartition(name, r, &r.Illegal[i])
		}
	}
	fmt.Printf("verdict         %s\n", historyVerdictLine(dec, r))
	if r.Verdict != porcupine.Illegal || len(r.Illegal) == 0 {
		return cli.Exit(dec.Exit)
	}
	dir := out
	if dir == "" {
		dir = "check"
		if path != "-" {
			dir = filepath.Join(filepath.Dir(path), "check")
		}
	}
	if err := writePage(r, dir); err != nil {
		fmt.Fprintf(os.Stderr, "stormproof: page not written: %v (the verdict above stands)\n", unwrap(err))
	}
	return cli.Exit(dec.Exit)
}

func historyVerdictLine(dec checker.Decision, r *history.Result) string {
	switch r.Verdict {
	case porcupine.Illegal:
		return "VIOLATED: the history is not linearizable"
	case porcupine.Unknown:
		return "INCOMPLETE: " + dec.Why
	}
	return "held: the history is linearizable"
}

func printPartition(name string, r *history.Result, p *history.Partition) {
	fmt.Printf("key %-11q the longest linearizable prefix has %d of its %d operations", p.Key, len(p.Prefix), p.Ops)
	start := 0
	if len(p.Prefix) > prefixShown {
		start = len(p.Prefix) - prefixShown
		fmt.Printf(" (its last %d, in linearization order)", prefixShown)
	} else if len(p.Prefix) > 0 {
		fmt.Printf(" (in linearization order)")
	}
	fmt.Println(":")
	for i := start; i < len(p.Prefix); i++ {
		fmt.Printf("    %3d %s\n", i+1, opLine(name, r, p.Prefix[i]))
	}
	if p.Bad != nil {
		fmt.Printf("      ✗ %s   ← the first that does not fit\n", opLine(name, r, p.Bad))
	}
}

func opLine(name string, r *history.Result, op *history.Op) string {
	ret := "unknown"
	if op.Ret != history.Unknown {
		ret = fmt.Sprint(op.Ret)
	}
	return fmt.Sprintf("%s:%d  process %s  %s  [call %d, return %s]", name, op.Line, op.Process, r.Describe(op), op.Call, ret)
}

// writePage writes porcupine's page to dir/porcupine.html: to a temporary
// file, renamed into place, so nothing is half-written.
func writePage(r *history.Result, dir string) error {
	if err := atomicfile.CheckDir(dir); err != nil {
		return cli.Badf("--out %s: cannot write there: %v", dir, unwrap(err))
	}
	p := filepath.Join(dir, "porcupine.html")
	f, err := atomicfile.Create(p)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := r.Visualize(f); err != nil {
		return err
	}
	if err := f.Commit(); err != nil {
		return err
	}
	fmt.Printf("wrote           %s\n", p)
	return nil
}
