package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/stormproof/stormproof/traces"
)

// Timeline writes the stories as numbered steps, each with its time, actor,
// trace line and the reason it followed from the steps before.
func Timeline(w io.Writer, h *traces.Header, stories []traces.Story) error {
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	p("trace     %s engine, scenario %s, seed %d, design %s (%d cameras, %d accounts, detail %s)\n",
		h.Engine, h.Scenario, h.Seed, h.Design, h.Devices, h.Accounts, h.Detail)
	if h.Reproduce != "" {
		p("reproduce %s\n", h.Reproduce)
	}
	if len(stories) == 0 {
		p("\nno violation: nothing to explain\n")
		return bw.Flush()
	}
	for i, s := range stories {
		p("\n")
		if len(stories) > 1 {
			p("[%d of %d] ", i+1, len(stories))
		}
		p("%s VIOLATED at %s\n  %s\n", s.Invariant, When(h, s.T), s.Violation)
		if s.Headline != "" {
			for _, l := range wrap(s.Headline, 96) {
				p("  %s\n", l)
			}
		}
		p("\n")
		tw := 0
		aw := 0
		for _, st := range s.Steps {
			tw = max(tw, len(When(h, st.T)))
			aw = max(aw, len(actors(&st)))
		}
		for n, st := range s.Steps {
			mark := "  "
			if st.Violation {
				mark = "✗ "
			}
			line := ""
			if st.Line > 0 {
				line = fmt.Sprintf("  [line %d]", st.Line)
			}
			p("%s%2d  %-*s  %-*s  %s%s\n", mark, n+1, tw, When(h, st.T), aw, actors(&st), st.What, line)
			if st.Because != "" {
				indent := strings.Repeat(" ", 10+tw+aw)
				for j, l := range wrap(st.Because, 100-len(indent)) {
					if j == 0 {
						p("%sbecause %s\n", indent, l)
					} else {
						p("%s        %s\n", indent, l)
					}
				}
			}
		}
	}
	return bw.Flush()
}

func actors(st *traces.Step) string {
	if st.To != "" && st.To != st.From {
		return st.From + " → " + st.To
	}
	return st.From
}
