// Package render draws traces and their causal slices for people: a
// readable timeline, a Mermaid sequence diagram, a Chrome/Perfetto
// trace-event file of a whole run, and porcupine's linearizability page.
// Renderers take plain data (traces.Header, traces.Story, a trace reader,
// a LinPage), so a trace from any engine renders the same way.
package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/traces"
)

// Formats lists the renderers by name.
var Formats = []string{"timeline", "mermaid", "perfetto", "porcupine"}

// When formats a trace time: virtual time, or the step number of an
// untimed engine.
func When(h *traces.Header, t model.Time) string {
	if h != nil && h.Engine == "explore" {
		return fmt.Sprintf("step %d", t)
	}
	d := time.Duration(t)
	if d >= time.Second {
		d = d.Round(time.Microsecond)
	}
	return d.String()
}

// wrap breaks s into lines of at most n runes at spaces.
func wrap(s string, n int) []string {
	var lines []string
	var cur strings.Builder
	for _, w := range strings.Fields(s) {
		if cur.Len() > 0 && len([]rune(cur.String()))+1+len([]rune(w)) > n {
			lines = append(lines, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(w)
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}
