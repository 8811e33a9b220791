package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// LinPage is the data of a porcupine page: the histories of some keys and
// the partial linearizations porcupine found for them.
type LinPage struct {
	Title      string
	Partitions []LinPartition
}

// LinPartition is one key's history (or a window of it).
type LinPartition struct {
	Name    string
	Illegal bool
	Ops     []LinOp
	// Linearizations are the longest partial linearizations, longest first:
	// indices into Ops with the state after each.
	Linearizations [][]LinStep
}

// LinOp is one operation.
type LinOp struct {
	Client       string
	Call, Return int64
	Desc         string
	Line         int
	// Unknown: the caller never learnt the result (Return is MaxInt64).
	Unknown bool
}

// LinStep is one step of a partial linearization.
type LinStep struct {
	Op    int
	State string
}

// The JSON porcupine's page script reads (porcupine's own
// visualizationData, which it does not export).
type pvHistory struct {
	ClientId      int
	Start         int
	OriginalStart string
	End           int
	OriginalEnd   string
	Description   string
	Metadata      string
}

type pvStep struct {
	Index            int
	StateDescription string
}

type pvPartition struct {
	History               []pvHistory
	PartialLinearizations [][]pvStep
	Largest               map[int]int
}

type pvData struct {
	Partitions  []pvPartition
	Annotations []struct{} // none
}

// pageTemplate returns porcupine's page with its style and script, split
// around the data: it is what porcupine.Visualize writes for an empty
// history, whose data is a fixed string.
func pageTemplate() (string, string, error) {
	var buf bytes.Buffer
	m := porcupine.Model{Init: func() any { return nil }, Step: func(s, i, o any) (bool, any) { return true, s }}
	if err := porcupine.Visualize(m, porcupine.LinearizationInfo{}, &buf); err != nil {
		return "", "", err
	}
	const empty = `{"Partitions":[],"Annotations":[]}`
	page := buf.String()
	i := bytes.Index(buf.Bytes(), []byte(empty))
	if i < 0 || bytes.Count(buf.Bytes(), []byte(empty)) != 1 {
		return "", "", fmt.Errorf("porcupine page template changed: cannot place the data")
	}
	return page[:i], page[i+len(empty):], nil
}

// Porcupine writes porcupine's interactive page for the page's keys. The
// data is computed here, in a canonical order, rather than by
// porcupine.Visualize (which orders partial linearizations by map
// iteration): the same trace gives a byte-identical page.
func Porcupine(w io.Writer, page *LinPage) error {
	head, tail, err := pageTemplate()
	if err != nil {
		return err
	}
	// Times are compressed to ranks (as porcupine does): the page shows
	// order and overlap, the tooltip the real times. Each key gets a span
	// of ranks after the previous key's, so windows do not interleave.
	base := 0
	var rank func(t int64) int
	data := pvData{Annotations: []struct{}{}}
	offset := 0 // each key gets rows of its own
	for _, p := range page.Partitions {
		clients := map[string]int{}
		var names []string
		for _, op := range p.Ops {
			if _, ok := clients[op.Client]; !ok {
				clients[op.Client] = 0
				names = append(names, op.Client)
			}
		}
		slices.Sort(names)
		for i, n := range names {
			clients[n] = offset + i
		}
		offset += len(names)
		var ts []int64
		for _, op := range p.Ops {
			ts = append(ts, op.Call, op.Return)
		}
		slices.Sort(ts)
		ts = slices.Compact(ts)
		b := base
		rank = func(t int64) int {
			i, _ := slices.BinarySearch(ts, t)
			return (b + i) * 100
		}
		base += len(ts) + 2
		pp := pvPartition{Largest: map[int]int{}}
		for _, op := range p.Ops {
			end := "unknown: the call timed out or failed"
			if !op.Unknown && op.Return != math.MaxInt64 {
				end = fmtT(op.Return)
			}
			meta := html.EscapeString(p.Name + ": " + op.Client)
			if op.Line > 0 {
				meta += fmt.Sprintf(" (trace line %d)", op.Line)
			}
			pp.History = append(pp.History, pvHistory{ClientId: clients[op.Client], Start: rank(op.Call),
				OriginalStart: fmtT(op.Call), End: rank(op.Return), OriginalEnd: end,
				Description: html.EscapeString(op.Desc), Metadata: meta})
		}
		for li, lin := range p.Linearizations {
			var steps []pvStep
			for _, st := range lin {
				steps = append(steps, pvStep{Index: st.Op, StateDescription: html.EscapeString(st.State)})
				if prev, ok := pp.Largest[st.Op]; !ok || len(p.Linearizations[prev]) < len(lin) {
					pp.Largest[st.Op] = li
				}
			}
			pp.PartialLinearizations = append(pp.PartialLinearizations, steps)
		}
		if pp.PartialLinearizations == nil {
			pp.PartialLinearizations = [][]pvStep{}
		}
		data.Partitions = append(data.Partitions, pp)
	}
	if data.Partitions == nil {
		data.Partitions = []pvPartition{}
	}
	js, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if page.Title != "" {
		head = strings.Replace(head, "<title>Porcupine</title>", "<title>"+html.EscapeString(page.Title)+"</title>", 1)
	}
	if _, err := io.WriteString(w, head); err != nil {
		return err
	}
	if _, err := w.Write(js); err != nil {
		return err
	}
	// A caption naming the keys, after porcupine's own script.
	cap := "\n<!-- " + html.EscapeString(page.Title) + " -->\n"
	_, err = io.WriteString(w, tail+cap)
	return err
}

func fmtT(t int64) string {
	if t == math.MaxInt64 {
		return "never"
	}
	return time.Duration(t).String() + " (" + strconv.FormatInt(t, 10) + " ns)"
}
