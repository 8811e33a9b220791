package history

import (
	"cmp"
	"errors"
	"fmt"
	"html"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"
)

// Operations are the history's operations as porcupine operations: Input
// is a *Input, Output a *Output (pointers into h.Ops), Metadata a Meta
// naming the line, ClientId the process's index. An operation whose
// outcome is unknown returns at Unknown (math.MaxInt64): porcupine may
// place it anywhere after its call, and placing it last is "never".
func (h *History) Operations() []porcupine.Operation {
	ops := make([]porcupine.Operation, len(h.Ops))
	for i := range h.Ops {
		op := &h.Ops[i]
		ops[i] = porcupine.Operation{ClientId: op.Client, Input: &op.In, Call: op.Call, Output: &op.Out, Return: op.Ret, Metadata: Meta{Line: op.Line}}
	}
	return ops
}

// Result is the verdict on a history.
type Result struct {
	// Verdict is porcupine's: Ok (linearizable), Illegal (not), Unknown
	// (the search ran out of time without a verdict).
	Verdict porcupine.CheckResult
	// Ops and Keys count the operations and partitions checked.
	Ops, Keys int
	// Illegal are the partitions found not linearizable when explaining an
	// Illegal verdict, in partition order (built-in models: key order).
	Illegal []Partition
	// Undecided counts the partitions whose explaining search ran out of
	// its time (they may be linearizable or not).
	Undecided int
	Elapsed   time.Duration

	h     *History
	model porcupine.Model
	page  *porcupine.LinearizationInfo
}

// Partition is one partition (for the built-in models, one key) that is
// not linearizable.
type Partition struct {
	Key string // its operations' key ("" when they have several)
	Ops int
	// Prefix is the longest linearizable prefix porcupine found: the
	// operations in the order of that linearization.
	Prefix []*Op
	// Bad is the first operation that does not fit: of the operations not
	// in Prefix, the one that returned first (ties: called first, then file
	// order). Every linearization must place it before any operation
	// called after it returned, and it fits no state Prefix leaves (nor
	// does any other operation that could come before it).
	Bad *Op

	ops []porcupine.Operation
}

// PageKeys bounds the partitions drawn on the page of an Illegal verdict.
const PageKeys = 4

// ExplainTimeout bounds the search of each partition when explaining an
// Illegal verdict (and the timeout, when that is shorter).
const ExplainTimeout = 10 * time.Second

// Check checks h against model m (m receives *Input and *Output values;
// its Partition, nil for none, decides the partitions). The verdict is
// porcupine's own search, porcupine.CheckOperationsTimeout, bounded by
// timeout (0: no bound): it stops at the first partition that is not
// linearizable. An Illegal verdict is then explained: each partition is
// searched again with porcupine.CheckOperationsVerbose (at most
// ExplainTimeout each, on all cores) for its longest linearizable prefix
// and first operation that does not fit, and the first PageKeys illegal
// partitions are kept for Visualize.
func Check(h *History, m porcupine.Model, timeout time.Duration) *Result {
	return CheckWith(h, m, Options{Timeout: timeout})
}

// Options bound a check: Timeout the verdict's search (0: none), Explain
// each partition's search when explaining an Illegal verdict (0:
// ExplainTimeout, or Timeout when that is shorter).
type Options struct {
	Timeout, Explain time.Duration
}

// CheckWith is Check with both bounds.
func CheckWith(h *History, m porcupine.Model, opt Options) *Result {
	timeout := opt.Timeout
	start := time.Now()
	ops := h.Operations()
	if m.DescribeOperationMetadata == nil {
		file := h.File
		m.DescribeOperationMetadata = func(info any) string {
			if meta, ok := info.(Meta); ok {
				// porcupine's page shows it as HTML: escaped.
				return html.EscapeString(fmt.Sprintf("%s:%d", file, meta.Line))
			}
			return ""
		}
	}
	parts := [][]porcupine.Operation{ops}
	if m.Partition != nil {
		parts = m.Partition(ops)
	}
	// porcupine partitions each call's history with the model's Partition;
	// handing it the partitions already made keeps them the same ones.
	single := m
	single.Partition = nil
	r := &Result{Ops: len(ops), Keys: len(parts), h: h, model: single}
	r.Verdict = porcupine.CheckOperationsTimeout(withParts(single, parts), ops, timeout)
	if r.Verdict == porcupine.Illegal {
		bound := opt.Explain
		if bound <= 0 {
			bound = ExplainTimeout
			if timeout > 0 && timeout < bound {
				bound = timeout
			}
		}
		r.explain(parts, bound)
	}
	r.Elapsed = time.Since(start)
	return r
}

// withParts is m partitioned into parts, whatever history it is given.
func withParts(m porcupine.Model, parts [][]porcupine.Operation) porcupine.Model {
	m.Partition = func([]porcupine.Operation) [][]porcupine.Operation { return parts }
	return m
}

func (r *Result) explain(parts [][]porcupine.Operation, bound time.Duration) {
	byLine := make(map[int]*Op, len(r.h.Ops))
	for i := range r.h.Ops {
		byLine[r.h.Ops[i].Line] = &r.h.Ops[i]
	}
	found := make([]*Partition, len(parts))
	undecided := make([]bool, len(parts))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, min(runtime.GOMAXPROCS(0), len(parts))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				p := int(next.Add(1) - 1)
				if p >= len(parts) {
					return
				}
				res, info := porcupine.CheckOperationsVerbose(r.model, parts[p], bound)
				switch res {
				case porcupine.Unknown:
					undecided[p] = true
				case porcupine.Illegal:
					found[p] = partitionOf(parts[p], info, byLine)
				}
			}
		}()
	}
	wg.Wait()
	var draw [][]porcupine.Operation
	for p := range parts {
		if undecided[p] {
			r.Undecided++
		}
		if found[p] != nil {
			r.Illegal = append(r.Illegal, *found[p])
			if len(draw) < PageKeys {
				draw = append(draw, parts[p])
			}
		}
	}
	if len(draw) == 0 {
		return
	}
	_, info := porcupine.CheckOperationsVerbose(withParts(r.model, draw), nil, 0)
	canonical(info)
	r.page = &info
}

// canonical sorts each partition's partial linearizations, longest first,
// then by their operations. porcupine gathers them from a map, so their
// order (and the page Visualize writes) would change from run to run;
// PartialLinearizations returns porcupine's own slices, so sorting them in
// place fixes the order Visualize draws.
func canonical(info porcupine.LinearizationInfo) {
	lins := info.PartialLinearizations()
	for p := range lins {
		slices.SortFunc(lins[p], func(a, b []int) int {
			if len(a) != len(b) {
				return cmp.Compare(len(b), len(a))
			}
			return slices.Compare(a, b)
		})
	}
}

func partitionOf(part []porcupine.Operation, info porcupine.LinearizationInfo, byLine map[int]*Op) *Partition {
	canonical(info)
	var longest []int
	if lins := info.PartialLinearizations(); len(lins) > 0 && len(lins[0]) > 0 {
		longest = lins[0][0]
	}
	ip := &Partition{Ops: len(part), ops: part}
	in := make([]bool, len(part))
	for _, id := range longest {
		in[id] = true
		ip.Prefix = append(ip.Prefix, byLine[part[id].Metadata.(Meta).Line])
	}
	for id, op := range part {
		if in[id] {
			continue
		}
		o := byLine[op.Metadata.(Meta).Line]
		if ip.Bad == nil || o.Ret < ip.Bad.Ret || (o.Ret == ip.Bad.Ret && (o.Call < ip.Bad.Call || (o.Call == ip.Bad.Call && o.Line < ip.Bad.Line))) {
			ip.Bad = o
		}
	}
	ip.Key = part[0].Input.(*Input).Key
	for _, op := range part {
		if op.Input.(*Input).Key != ip.Key {
			ip.Key = ""
			break
		}
	}
	return ip
}

// Visualize writes porcupine's HTML page (porcupine.Visualize)
// of the first PageKeys partitions that are not linearizable, with their
// partial linearizations in a canonical order. Nothing to draw (a verdict
// other than Illegal) is an error.
func (r *Result) Visualize(w io.Writer) error {
	if r.page == nil {
		return errors.New("no page: the history was not found illegal")
	}
	return porcupine.Visualize(r.model, *r.page, w)
}

// Describe is an operation as the model describes it.
func (r *Result) Describe(op *Op) string {
	return r.model.DescribeOperation(&op.In, &op.Out)
}
