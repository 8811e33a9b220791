package commands

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/stormproof/stormproof/checker"
	"github.com/stormproof/stormproof/internal/cli"
	"github.com/stormproof/stormproof/internal/membudget"
	"github.com/stormproof/stormproof/internal/version"
	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/sim"
	"github.com/stormproof/stormproof/traces"
	"github.com/stormproof/stormproof/traces/render"
)

func init() {
	register(command{"replay", "re-run a simulator trace: check it is byte-identical, or retell its story under a fix", cmdReplay})
}

const replaySynopsis = "stormproof replay TRACE [--client V] [--mitigate a,b] [--max-mem SIZE]"

func cmdReplay(args []string) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	var client clientFlag
	fs.Var(&client, "client", "re-run with cache client `V`: "+clientNames())
	var mitigate mitigateFlag
	fs.Var(&mitigate, "mitigate", "re-run with mitigations `a,b` switched on (comma-separated, repeatable)")
	maxMem := membudget.NewValue()
	fs.Var(maxMem, "max-mem", "refuse a re-run estimated to need more than `SIZE` (default: "+
		strconv.Itoa(int(membudget.Share*100))+" % of the machine's memory)")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			cli.Usage(os.Stdout, fs, replaySynopsis)
		}
		return err
	}
	if len(pos) != 1 {
		return cli.Badf("replay: want one trace file (usage: %s)", replaySynopsis)
	}
	path := pos[0]
	h, err := readHeader(path)
	if err != nil {
		return err
	}
	if h.Engine != "sim" {
		return cli.Badf("%s: replay re-runs simulator traces; this one is from the %q engine", path, h.Engine)
	}
	s, err := sim.FromJSON(h.Options)
	if err != nil {
		return cli.Badf("%s:1: %v", path, err)
	}
	if err := s.CheckMemory(maxMem.Bytes); err != nil {
		return cli.Badf("%s:1: %v", path, err)
	}
	if client.v == nil && mitigate == 0 {
		return replayIdentical(path, h, s)
	}
	return replayOverride(path, h, s, sim.Override{Client: client.v, Mitigations: mitigate.set()}, maxMem.Bytes)
}

func readHeader(path string) (*traces.Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, badTrace(err)
	}
	defer f.Close()
	tr, err := traces.NewReader(f, path)
	if err != nil {
		return nil, badTrace(err)
	}
	return &tr.Header, nil
}

// replayIdentical re-runs the trace's scenario and compares the new trace
// with the file byte for byte, as it is written (no second copy on disk).
func replayIdentical(path string, h *traces.Header, s *sim.Scenario) error {
	f, err := os.Open(path)
	if err != nil {
		return badTrace(err)
	}
	defer f.Close()
	if h.Tool != version.Version {
		fmt.Printf("note            the trace was written by %q, this is %q: a difference may come from the version\n", h.Tool, version.Version)
	}
	cmp := &lineCompare{want: bufio.NewReaderSize(f, 1<<20)}
	bar := newSimBar("replaying " + s.Name)
	_, err = sim.Run(s, sim.RunOptions{Detail: h.Detail, Trace: cmp, Tool: h.Tool, Reproduce: h.Reproduce, Progress: bar.callback()})
	bar.done()
	if err != nil && !errors.Is(err, errDiffer) {
		return err
	}
	if cmp.diff == "" {
		if rest, _ := cmp.want.Peek(1); len(rest) > 0 {
			cmp.diff = fmt.Sprintf("line %d: the file goes on after the re-run ends", cmp.line+1)
		}
	}
	if cmp.diff != "" {
		// A file that is not a trace is bad input, not a different run.
		if err := readWhole(path); err != nil {
			return err
		}
	}
	fmt.Printf("replayed        %s (scenario %s, seed %d, design %s)\n", path, h.Scenario, h.Seed, h.Design)
	if cmp.diff != "" {
		fmt.Printf("verdict         DIFFERENT: %s\n", cmp.diff)
		return cli.Violated
	}
	fmt.Printf("verdict         byte-identical (%d lines)\n", cmp.line)
	return nil
}

var errDiffer = errors.New("the re-run differs from the trace")

// readWhole reads every line of a trace file, returning its first fault as
// bad input naming the file and line.
func readWhole(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return badTrace(err)
	}
	defer f.Close()
	tr, err := traces.NewReader(bufio.NewReaderSize(f, 1<<20), path)
	if err != nil {
		return badTrace(err)
	}
	var ev traces.Event
	for {
		switch err := tr.Next(&ev); {
		case err == io.EOF:
			return nil
		case err != nil:
			return badTrace(err)
		}
	}
}

// lineCompare is an io.Writer that compares what is written with want and
// remembers the first line that differs.
type lineCompare struct {
	want    *bufio.Reader
	partial []byte
	line    int
	diff    string
}

func (c *lineCompare) Write(p []byte) (int, error) {
	if c.diff != "" {
		return 0, errDiffer
	}
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			c.partial = append(c.partial, p...)
			break
		}
		got := p[:i+1]
		if len(c.partial) > 0 {
			got = append(c.partial, got...)
			c.partial = c.partial[:0]
		}
		p = p[i+1:]
		c.line++
		want, err := c.want.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			want = append([]byte(nil), want...)
			for err == bufio.ErrBufferFull {
				var more []byte
				more, err = c.want.ReadSlice('\n')
				want = append(want, more...)
			}
		}
		if !bytes.Equal(got, want) {
			if len(want) == 0 {
				c.diff = fmt.Sprintf("line %d: the re-run goes on after the file ends", c.line)
			} else {
				at := 0
				for at < len(got) && at < len(want) && got[at] == want[at] {
					at++
				}
				c.diff = fmt.Sprintf("line %d, byte %d: the file has …%s, the re-run …%s", c.line, at+1, clip(want, at), clip(got, at))
			}
			return n, errDiffer
		}
	}
	return n, nil
}

// clip shows b around byte at.
func clip(b []byte, at int) string {
	from := max(0, at-40)
	to := min(len(b), at+60)
	return strings.TrimRight(string(b[from:to]), "\n") + "…"
}

// replayOverride re-runs the scenario with a fix and retells what became of
// the original's first violation. The re-run writes a slice trace that
// keeps that event whole, and is judged as run judges a run, from the
// simulation itself: it costs what a run with --trace slice costs, whatever
// the size of the fleet, never a full trace.
func replayOverride(path string, h *traces.Header, s *sim.Scenario, o sim.Override, maxMem uint64) error {
	orig, err := checkTrace(path, checker.Options{NoLinearizability: true})
	if err != nil {
		return err
	}
	ns, err := s.Apply(o)
	if err != nil {
		return cli.Bad(err)
	}
	if err := ns.CheckMemory(maxMem); err != nil {
		return cli.Badf("%s:1: %v", path, err)
	}
	var follow []model.EventRef
	var story *traces.Story
	if len(orig.Stories) > 0 {
		story = &orig.Stories[0]
		if v := firstModelViolation(orig); v != nil {
			follow = []model.EventRef{{Device: v.Device, Seq: v.Seq}}
		}
	}
	var slice bytes.Buffer
	bar := newSimBar("re-running " + ns.Name + " as " + ns.Design().String())
	res, err := sim.Run(ns, sim.RunOptions{Detail: "slice", Trace: &slice, Tool: version.Version, Follow: follow, Progress: bar.callback()})
	bar.done()
	if err != nil {
		return err
	}
	rep, err := checker.Check(&slice, "re-run", checker.Options{Follow: follow, NoLinearizability: true})
	if err != nil {
		return err
	}
	sum := &res.Summary
	fmt.Printf("original        %s: design %s: %s\n", path, h.Design, verdictLine(orig))
	if story != nil {
		fmt.Printf("story           %s\n", story.Violation)
	}
	dec := decideRun(sum)
	fmt.Printf("re-run          design %s (same scenario, seed %d): %s\n", sum.Design, ns.Seed, summaryLine(sum))
	for _, e := range follow {
		steps := rep.Followed[e]
		fmt.Printf("event %d/%d under %s:\n", e.Device, e.Seq, sum.Design)
		if len(steps) == 0 {
			fmt.Printf("  never captured in the re-run\n")
		}
		foreign := false
		for _, st := range steps {
			mark := " "
			if st.Violation {
				mark, foreign = "✗", true
			}
			fmt.Printf("  %s %-16s %-18s %s\n", mark, render.When(&rep.Header, st.T), st.From, st.What)
		}
		if foreign {
			fmt.Printf("the same story still ends in a violation\n")
		} else if len(steps) > 0 {
			fmt.Printf("the same story no longer ends in a violation\n")
		}
	}
	fmt.Printf("verdict         the re-run: %s\n", dec.Line())
	return cli.Exit(dec.Exit)
}

// summaryLine is a simulated run's verdict in verdictLine's words.
func summaryLine(sum *sim.Summary) string {
	var parts []string
	for _, v := range summaryVerdicts(sum) {
		if v.Judged && v.Count > 0 {
			parts = append(parts, fmt.Sprintf("%s ×%d", v.Name, v.Count))
		}
	}
	if len(parts) == 0 {
		return "every promise holds"
	}
	return "VIOLATED " + strings.Join(parts, ", ")
}

func verdictLine(r *checker.Report) string {
	if r.Held() {
		return "every promise holds"
	}
	var parts []string
	for _, name := range r.Violated() {
		if !checker.IsDiagnosis(name) {
			parts = append(parts, fmt.Sprintf("%s ×%d", name, r.Verdict(name).Count))
		}
	}
	return "VIOLATED " + strings.Join(parts, ", ")
}

// firstModelViolation is the earliest foreign delivery or view.
func firstModelViolation(r *checker.Report) *model.Violation {
	var best *model.Violation
	for _, inv := range []model.Invariant{model.NoForeignDelivery, model.NoForeignView, model.AtMostOnce, model.NoSilentLoss} {
		v := r.Verdict(inv.String())
		if v == nil || len(v.First) == 0 || v.First[0].Violation == nil {
			continue
		}
		if c := v.First[0].Violation; best == nil || c.T < best.T {
			best = c
		}
	}
	return best
}
