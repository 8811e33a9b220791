package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/stormproof/stormproof/traces"
)

// Mermaid writes a story as a Mermaid sequence diagram (it renders in any
// Markdown viewer that knows Mermaid): one participant per actor, one
// arrow per message, a note for each step's reason, the violating step
// drawn as a cross.
func Mermaid(w io.Writer, h *traces.Header, s *traces.Story) error {
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	p("sequenceDiagram\n")
	if s == nil {
		p("    participant stormproof\n    Note over stormproof: no violation, nothing to explain\n")
		return bw.Flush()
	}
	p("    %%%% %s\n", strings.ReplaceAll(s.Violation, "\n", " "))
	var order []string
	seen := map[string]bool{}
	see := func(a string) {
		if a != "" && !seen[a] {
			seen[a] = true
			order = append(order, a)
		}
	}
	for _, st := range s.Steps {
		see(st.From)
		see(st.To)
	}
	for _, a := range order {
		p("    participant %s\n", mmID(a))
	}
	p("    autonumber\n")
	for _, st := range s.Steps {
		what := fmt.Sprintf("%s: %s", When(h, st.T), st.What)
		switch {
		case st.To != "" && st.To != st.From:
			arrow := "->>"
			if st.Violation {
				arrow = "-x"
			}
			p("    %s%s%s: %s\n", mmID(st.From), arrow, mmID(st.To), mmText(what))
		default:
			p("    Note over %s: %s\n", mmID(st.From), mmText(what))
		}
		if st.Because != "" {
			prefix := "because "
			if st.Violation {
				prefix = "VIOLATION: "
			}
			p("    Note right of %s: %s\n", mmID(st.From), mmText(prefix+st.Because))
		}
	}
	return bw.Flush()
}

// mmID makes an actor name a safe participant id.
func mmID(a string) string {
	var b strings.Builder
	for _, r := range a {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// mmText escapes text for a message or note: Mermaid reads ';' and '#' as
// syntax, and long lines are wrapped with <br/>.
func mmText(s string) string {
	r := strings.NewReplacer(";", ",", "#", "no.", "\n", " ", "%%", "%")
	return strings.Join(wrap(r.Replace(s), 60), "<br/>")
}
