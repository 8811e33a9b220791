package render

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/stormproof/stormproof/traces"
)

// Mermaid writes a story as a Mermaid sequence diagram (it renders in any
// Markdown viewer that knows Mermaid): one participant per actor, one
// arrow per message, a note for each step's reason, the violating step
// drawn as a cross. Each step carries the number the timeline gives it
// (arrows and notes alike, so the two can be read side by side), and the
// camera's real owners are participants, named as owners, with a note at
// the violating step.
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
	camera, owners := storyOwners(s.Violation)
	for _, st := range s.Steps {
		for _, a := range []string{st.From, st.To} {
			see(a)
			if a == camera {
				for _, o := range owners {
					see(o) // the owners beside their camera
				}
			}
		}
	}
	for _, o := range owners {
		see(o)
	}
	isOwner := map[string]bool{}
	for _, o := range owners {
		isOwner[o] = true
	}
	for _, a := range order {
		if isOwner[a] {
			p("    participant %s as %s (owner of %s)\n", mmID(a), a, camera)
		} else {
			p("    participant %s\n", mmID(a))
		}
	}
	for n, st := range s.Steps {
		what := fmt.Sprintf("%d. %s: %s", n+1, When(h, st.T), st.What)
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
		if st.Violation && len(owners) > 0 {
			p("    Note over %s: %s\n", mmID(owners[0]), mmText(fmt.Sprintf("%s's owner: %s", camera, strings.Join(owners, ", "))))
		}
	}
	return bw.Flush()
}

// ownedBy finds, in a violation's text, the device and its owner set
// (model.Violation's "event D/S (device of accounts [A B])", or "camera D
// (device of accounts [...])").
var ownedBy = regexp.MustCompile(`(?:event (\d+)/\d+|camera (\d+)) \(device of accounts \[([\d ]*)\]\)`)

// storyOwners returns the violated device's camera and its owners' account
// actors, as the story names them ("cam5", "acct5"); none if the violation
// does not say.
func storyOwners(violation string) (camera string, owners []string) {
	m := ownedBy.FindStringSubmatch(violation)
	if m == nil {
		return "", nil
	}
	camera = "cam" + m[1] + m[2]
	for _, a := range strings.Fields(m[3]) {
		owners = append(owners, "acct"+a)
	}
	return camera, owners
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
