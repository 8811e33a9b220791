package checker

import (
	"cmp"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/traces"
	"github.com/stormproof/stormproof/traces/render"
)

// LinResult is the linearizability verdict on one history (the cache's or
// the registry's), checked key by key.
type LinResult struct {
	// Ops operations on Keys keys were checked.
	Ops, Keys int
	// Unknown keys ran out of search time (neither proven nor refuted).
	Unknown int
	// Violated are the keys whose history is not linearizable, in the order
	// of their first illegal operation.
	Violated []KeyResult
	model    porcupine.Model
	name     string // "cache key" or "registry entry of device"
}

// KeyResult is one non-linearizable key.
type KeyResult struct {
	Key uint64
	Ops int
	// FirstBad is the first operation that no linearization of the key's
	// history can place.
	FirstBad LinOpRef
	// Text says it in one line.
	Text string
	ops  []porcupine.Operation
}

// LinOpRef locates an operation.
type LinOpRef struct {
	Call model.Time
	Line int
	Name string
	Desc string
}

// linOp is one operation as collected from the trace (compact; it becomes
// a porcupine.Operation only when its key is checked).
type linOp struct {
	key       uint64
	call, ret int64
	line      int32
	client    uint32 // worker<<16 | conn (registry: worker<<16 | 0xffff)
	gen, tok  uint32
	in        model.LinIn
	out       model.LinOut
}

type reqID struct {
	w    uint32
	conn uint16
	gen  uint32
	tok  uint32
}

type linCollector struct {
	cache, reg []linOp
	pending    map[reqID]int     // open cache calls → index in cache
	regPending map[[2]uint32]int // (worker, slot) → index in reg
	restarts   []int64
	invalidate bool
	ownSeen    map[model.DeviceID]bool
}

func newLinCollector(h traces.Header) *linCollector {
	lc := &linCollector{pending: map[reqID]int{}, regPending: map[[2]uint32]int{}, ownSeen: map[model.DeviceID]bool{}}
	if _, mit, ok := strings.Cut(h.Design, "+"); ok {
		// The client part may name a library (a live run's): only the
		// mitigations are read.
		var m model.Mitigations
		if m.UnmarshalText([]byte(mit)) == nil && m.Has(model.InvalidateOnTransfer) {
			lc.invalidate = true
		}
	}
	return lc
}

const unknownReturn = math.MaxInt64

func (lc *linCollector) observe(line int, t model.Time, o *model.Obs) error {
	switch o.Kind {
	case model.ObsCacheCall:
		id := reqID{o.Actor.Index, o.Conn, o.Gen, o.Token}
		if _, dup := lc.pending[id]; dup {
			return fmt.Errorf("request %s conn %d gen %d tok %d called twice", o.Actor, o.Conn, o.Gen, o.Token)
		}
		in := model.LinIn{Val: o.Val}
		switch o.Op {
		case model.OpGet:
			in.Kind = model.LinGet
		case model.OpSet:
			in.Kind = model.LinSet
		case model.OpDel:
			in.Kind = model.LinDel
		default:
			return fmt.Errorf("cache call with op %q", o.Op)
		}
		lc.pending[id] = len(lc.cache)
		lc.cache = append(lc.cache, linOp{key: uint64(o.Key), call: int64(t), ret: unknownReturn, line: int32(line),
			client: o.Actor.Index<<16 | uint32(o.Conn), gen: o.Gen, tok: o.Token, in: in,
			out: model.LinOut{Outcome: model.OutTimeout}})
	case model.ObsCacheRet:
		if o.Conn == model.NoConn {
			return nil // never sent: no operation took place
		}
		id := reqID{o.Actor.Index, o.Conn, o.Gen, o.Token}
		i, ok := lc.pending[id]
		if !ok {
			return fmt.Errorf("cache-ret of %s conn %d gen %d tok %d without its cache-call", o.Actor, o.Conn, o.Gen, o.Token)
		}
		delete(lc.pending, id)
		op := &lc.cache[i]
		op.out = model.LinOut{Outcome: o.Outcome, Val: o.Val}
		if !op.out.Unknown() {
			op.ret = int64(t)
		}
		// A timed-out or failed call keeps Return = MaxInt64: it may take
		// effect at any time after it was sent.
	case model.ObsFault:
		if o.Fault.Kind == model.FaultCacheRestart {
			lc.restarts = append(lc.restarts, int64(t))
		}
	case model.ObsOwn:
		d := o.Device
		if lc.ownSeen[d] && lc.invalidate {
			lc.cache = append(lc.cache, linOp{key: uint64(d), call: int64(t), ret: unknownReturn, line: int32(line),
				client: math.MaxUint32, in: model.LinIn{Kind: model.LinInvalidate, Val: model.CacheValue{Device: d, Version: o.Version}},
				out: model.LinOut{Outcome: model.OutStored}})
		}
		lc.ownSeen[d] = true
		lc.reg = append(lc.reg, linOp{key: uint64(d), call: int64(t), ret: int64(t), line: int32(line), client: math.MaxUint32,
			in:  model.LinIn{Kind: model.LinRegWrite, Val: model.CacheValue{Device: d, Owners: o.Owners, Version: o.Version}},
			out: model.LinOut{Outcome: model.OutStored}})
	case model.ObsRegCall:
		id := [2]uint32{o.Actor.Index, o.Slot}
		if _, dup := lc.regPending[id]; dup {
			return fmt.Errorf("registry read of %s slot %d called again before it returned", o.Actor, o.Slot)
		}
		lc.regPending[id] = len(lc.reg)
		lc.reg = append(lc.reg, linOp{key: uint64(o.Key), call: int64(t), ret: unknownReturn, line: int32(line),
			client: o.Actor.Index<<16 | 0xffff, tok: o.Slot, in: model.LinIn{Kind: model.LinRegRead},
			out: model.LinOut{Outcome: model.OutTimeout}})
	case model.ObsRegRet:
		id := [2]uint32{o.Actor.Index, o.Slot}
		i, ok := lc.regPending[id]
		if !ok {
			return fmt.Errorf("reg-ret of %s slot %d without its reg-call", o.Actor, o.Slot)
		}
		delete(lc.regPending, id)
		op := &lc.reg[i]
		op.ret = int64(t)
		op.out = model.LinOut{Outcome: model.OutHit, Val: model.CacheValue{Device: o.Key, Owners: o.Owners, Version: o.Version}}
	}
	return nil
}

// groups sorts ops by key (stable: call order within a key) and returns the
// runs of each key.
func groups(ops []linOp) [][]linOp {
	slices.SortStableFunc(ops, func(a, b linOp) int { return cmp.Compare(a.key, b.key) })
	var out [][]linOp
	for i := 0; i < len(ops); {
		j := i + 1
		for j < len(ops) && ops[j].key == ops[i].key {
			j++
		}
		out = append(out, ops[i:j:j])
		i = j
	}
	return out
}

func clientName(c uint32, registry bool) string {
	if c == math.MaxUint32 {
		if registry {
			return "registry"
		}
		return "cache server"
	}
	if registry {
		return fmt.Sprintf("worker%d", c>>16)
	}
	return fmt.Sprintf("worker%d conn %d", c>>16, c&0xffff)
}

func (op *linOp) name(registry bool) string {
	switch {
	case op.client == math.MaxUint32:
		return clientName(op.client, registry)
	case registry:
		return fmt.Sprintf("worker%d slot %d", op.client>>16, op.tok)
	}
	return fmt.Sprintf("worker%d conn %d gen %d tok %d", op.client>>16, op.client&0xffff, op.gen, op.tok)
}

// toPorcupine converts a key's ops; restarts that fall inside its history
// are added as operations of the cache server.
func toPorcupine(g []linOp, restarts []int64, registry bool) []porcupine.Operation {
	first, last := g[0].call, int64(0)
	for i := range g {
		last = max(last, g[i].ret)
	}
	ops := make([]porcupine.Operation, 0, len(g))
	for _, r := range restarts {
		if r > first && r < last {
			ops = append(ops, porcupine.Operation{Input: model.LinIn{Kind: model.LinRestart}, Call: r, Return: r,
				Output: model.LinOut{Outcome: model.OutStored}, Metadata: model.LinMeta{Key: g[0].key, Name: "cache server restart"}})
		}
	}
	for i := range g {
		op := &g[i]
		ret := op.ret
		if op.out.Unknown() && (op.in.Kind == model.LinGet || op.in.Kind == model.LinRegRead) {
			// A read whose result never came back accepts any state and
			// changes none, so every point of its interval is as good as
			// any other: searching it at its call gives the same verdict
			// and spares porcupine 2^n placements of n such reads.
			ret = op.call
		}
		ops = append(ops, porcupine.Operation{Input: op.in, Output: op.out, Call: op.call, Return: ret,
			Metadata: model.LinMeta{Key: op.key, Line: int(op.line), Name: op.name(registry), Unknown: op.out.Unknown()}})
	}
	slices.SortStableFunc(ops, func(a, b porcupine.Operation) int { return cmp.Compare(a.Call, b.Call) })
	return ops
}

// check runs porcupine on every key, on all cores; results are in key
// order whatever the scheduling.
func (lc *linCollector) check(opt Options) (*LinResult, *LinResult) {
	timeout := opt.LinTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	cache := checkHistory(lc.cache, lc.restarts, model.CacheModel(), false, timeout)
	cache.name = "cache key"
	reg := checkHistory(lc.reg, nil, model.RegistryModel(), true, timeout)
	reg.name = "registry entry of device"
	return cache, reg
}

// CheckCacheOps is the linearizability check of a cache history given as
// porcupine operations (Input model.LinIn, Output model.LinOut, Metadata
// model.LinMeta naming the key); for benchmarks and other engines.
func CheckCacheOps(ops []porcupine.Operation, timeout time.Duration) *LinResult {
	lops := make([]linOp, len(ops))
	for i, op := range ops {
		m, _ := op.Metadata.(model.LinMeta)
		in, _ := op.Input.(model.LinIn)
		out, _ := op.Output.(model.LinOut)
		lops[i] = linOp{key: m.Key, call: op.Call, ret: op.Return, line: int32(m.Line), client: uint32(op.ClientId), in: in, out: out}
	}
	return checkHistory(lops, nil, model.CacheModel(), false, timeout)
}

func checkHistory(all []linOp, restarts []int64, m porcupine.Model, registry bool, timeout time.Duration) *LinResult {
	gs := groups(all)
	res := &LinResult{Ops: len(all), Keys: len(gs), model: m}
	verdicts := make([]porcupine.CheckResult, len(gs))
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(gs) {
					return
				}
				ops := toPorcupine(gs[i], restarts, registry)
				if quickOK(ops, m) {
					verdicts[i] = porcupine.Ok
					continue
				}
				verdicts[i] = porcupine.CheckOperationsTimeout(m, ops, timeout)
			}
		}()
	}
	wg.Wait()
	for i, v := range verdicts {
		switch v {
		case porcupine.Unknown:
			res.Unknown++
		case porcupine.Illegal:
			ops := toPorcupine(gs[i], restarts, registry)
			k := KeyResult{Key: gs[i][0].key, Ops: len(ops), ops: ops}
			k.FirstBad = firstBad(m, ops, timeout)
			what := "cache key"
			if registry {
				what = "registry entry of device"
			}
			k.Text = fmt.Sprintf("%s %d: %d operations are not linearizable; the first that fits no order is %s: %s",
				what, k.Key, k.Ops, k.FirstBad.Name, k.FirstBad.Desc)
			res.Violated = append(res.Violated, k)
		}
	}
	slices.SortStableFunc(res.Violated, func(a, b KeyResult) int { return cmp.Compare(a.FirstBad.Call, b.FirstBad.Call) })
	return res
}

// quickOK is a fast path for the common key whose operations never overlap
// in time: then the only order is call order, and stepping through it
// decides the key without a search.
func quickOK(ops []porcupine.Operation, m porcupine.Model) bool {
	for i, maxRet := 1, ops[0].Return; i < len(ops); i++ {
		if ops[i].Call <= maxRet {
			return false
		}
		maxRet = max(maxRet, ops[i].Return)
	}
	s := m.Init()
	for _, op := range ops {
		ok, ns := m.Step(s, op.Input, op.Output)
		if !ok {
			return false
		}
		s = ns
	}
	return true
}

// firstBad finds the first operation no linearization can place: the
// shortest prefix (by call order) that is already illegal ends with it.
func firstBad(m porcupine.Model, ops []porcupine.Operation, timeout time.Duration) LinOpRef {
	lo, hi := 1, len(ops) // ops[:hi] is illegal
	for lo < hi {
		mid := (lo + hi) / 2
		if porcupine.CheckOperationsTimeout(m, ops[:mid], timeout) == porcupine.Illegal {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	op := ops[hi-1]
	meta, _ := op.Metadata.(model.LinMeta)
	return LinOpRef{Call: model.Time(op.Call), Line: meta.Line, Name: meta.Name, Desc: model.DescribeLinOp(op.Input, op.Output)}
}

// Page builds the porcupine page of the first violated keys: for each, a
// window of operations around its first illegal one, starting from an
// unknown state when it does not start at the beginning.
func (r *LinResult) Page(title string, maxKeys, maxOps int) *render.LinPage {
	if maxKeys <= 0 {
		maxKeys = 4
	}
	if maxOps <= 0 {
		maxOps = 60
	}
	page := &render.LinPage{Title: title}
	for i := range r.Violated {
		if i >= maxKeys {
			break
		}
		k := &r.Violated[i]
		ops, fromStart := window(r.model, k, maxOps)
		m := r.model
		if !fromStart {
			m.Init = func() any { return model.LinState{} }
		}
		res, info := porcupine.CheckOperationsVerbose(m, ops, 30*time.Second)
		part := render.LinPartition{Name: fmt.Sprintf("%s %d", r.name, k.Key), Illegal: res == porcupine.Illegal}
		if !fromStart {
			part.Name += fmt.Sprintf(" (operations %d–%d of %d, from an unknown state)", len(k.ops)-len(ops)+1, len(k.ops), len(k.ops))
		}
		for _, op := range ops {
			meta, _ := op.Metadata.(model.LinMeta)
			part.Ops = append(part.Ops, render.LinOp{Client: meta.Name, Call: op.Call, Return: op.Return,
				Desc: model.DescribeLinOp(op.Input, op.Output), Line: meta.Line, Unknown: meta.Unknown})
		}
		// Partial linearizations, in a canonical order (porcupine hands them
		// out of a map), with the state after each step.
		lins := info.PartialLinearizations()
		var ps [][]int
		if len(lins) > 0 {
			ps = lins[0]
		}
		ps = slices.Clone(ps)
		slices.SortFunc(ps, func(a, b []int) int {
			if len(a) != len(b) {
				return cmp.Compare(len(b), len(a))
			}
			return slices.Compare(a, b)
		})
		for _, p := range ps {
			var steps []render.LinStep
			s := m.Init()
			for _, id := range p {
				_, s = m.Step(s, ops[id].Input, ops[id].Output)
				steps = append(steps, render.LinStep{Op: id, State: model.DescribeLinState(s)})
			}
			part.Linearizations = append(part.Linearizations, steps)
		}
		page.Partitions = append(page.Partitions, part)
	}
	return page
}

// window cuts a key's history to about maxOps operations ending a few after
// its first illegal one; it starts earlier (from an unknown state, or from
// the beginning) until the window is illegal on its own.
func window(m porcupine.Model, k *KeyResult, maxOps int) ([]porcupine.Operation, bool) {
	ops := k.ops
	if len(ops) <= maxOps {
		return ops, true
	}
	bad := len(ops) - 1
	for i, op := range ops {
		if meta, _ := op.Metadata.(model.LinMeta); meta.Line == k.FirstBad.Line && op.Call == int64(k.FirstBad.Call) {
			bad = i
			break
		}
	}
	end := min(len(ops), bad+1+maxOps/6)
	mm := m
	mm.Init = func() any { return model.LinState{} }
	for n := maxOps; ; n *= 2 {
		start := max(0, end-n)
		if start == 0 {
			return ops[:end], true
		}
		if porcupine.CheckOperationsTimeout(mm, ops[start:end], 10*time.Second) == porcupine.Illegal {
			return ops[start:end], false
		}
	}
}
