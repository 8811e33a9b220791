package explore

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// System is a transition system the search core explores: anything whose
// states are canonical byte strings. The camera-fleet model is one; the
// tests validate the core on tiny systems whose state counts are known.
type System interface {
	// Initial returns the canonical encoding of the initial state and the
	// size of its symmetry orbit (1 without symmetry reduction).
	Initial() (state []byte, orbit uint32, err error)
	// NewExpander returns an expander for one goroutine.
	NewExpander() Expander
}

// Expander computes successors. One is used by one goroutine at a time.
type Expander interface {
	// Expand calls emit for every successor of state in a fixed order (the
	// order may depend only on state's bytes). next is valid only during the
	// call; orbit is the size of its symmetry orbit; bad marks a successor
	// reached by a transition that violates the property. Expand returns the
	// class of state (0..NumClasses-1, e.g. quiescent or stuck) for the
	// statistics, or an error if state is malformed.
	Expand(state []byte, emit func(next []byte, orbit uint32, bad bool)) (class int, err error)
}

// NumClasses is how many state classes Expand may report.
const NumClasses = 4

// SearchOptions bound a search.
type SearchOptions struct {
	// MaxStates stops the search when this many distinct states are stored (0: no bound).
	MaxStates uint64
	// MaxDepth bounds the runs explored to this many steps (0: no bound).
	MaxDepth int
	// MaxMem stops the search when the estimated memory of the state store
	// and frontier passes this many bytes (0: no bound). The estimate is
	// computed from the counts, not measured, so it is deterministic.
	MaxMem uint64
	// Workers is the number of goroutines expanding a level (0: GOMAXPROCS).
	// The result does not depend on it.
	Workers int
	// Progress, if set, is called after each level.
	Progress func(p Progress)
}

// Progress is the state of a search after a level.
type Progress struct {
	Depth     int
	Distinct  uint64
	Generated uint64
	Frontier  int
}

// Bound says why a search stopped before it was complete.
type Bound string

const (
	NotBounded    Bound = ""
	BoundedStates Bound = "max-states"
	BoundedDepth  Bound = "max-depth"
	BoundedMem    Bound = "max-mem"
)

// SearchResult is what a search found. Every field is deterministic: it
// depends on the system and the options, never on Workers or timing.
type SearchResult struct {
	// Generated counts successors computed (duplicates included).
	Generated uint64
	// Distinct counts distinct states stored (canonical forms).
	Distinct uint64
	// Full is the number of states without symmetry reduction: the sum of
	// the orbit sizes of the distinct states.
	Full uint64
	// Depth is the deepest level stored.
	Depth int
	// Bound is why the search stopped early ("" when complete or violated).
	Bound Bound
	// Classes counts expanded states by the class Expand reported.
	Classes [NumClasses]uint64
	// Violation is the shortest path to a bad transition, if one was found.
	Violation *Path
}

// Complete reports whether every reachable state was explored without a violation.
func (r *SearchResult) Complete() bool { return r.Violation == nil && r.Bound == NotBounded }

// Path is a shortest path to a violation: the fingerprints of the states
// from the initial one to the state the bad transition leaves, and the
// fingerprint of the state it reaches.
type Path struct {
	States []uint64
	Bad    uint64
}

// chunkSize is how many frontier states one task expands. It is fixed so
// that the chunks, and with them every result, are the same for any number
// of workers.
const chunkSize = 256

type cand struct {
	fp     uint64
	parent uint32 // index in the level
	off    uint32 // into the chunk's arena
	n      uint32
	orbit  uint32
}

type chunkOut struct {
	// recent is a direct-mapped filter of fingerprints already kept in this
	// chunk: diamonds in the state graph make many successors coincide.
	recent    [1024]uint64
	arena     []byte
	cands     []cand
	generated uint64
	classes   [NumClasses]uint64
	bad       bool
	badParent uint32
	badFP     uint64
	err       error
}

// Search explores sys breadth first and returns the first violation in BFS
// order (so a shortest one) or the statistics of a complete or bounded
// exploration.
func Search(sys System, opt SearchOptions) (*SearchResult, error) {
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	init, orbit, err := sys.Initial()
	if err != nil {
		return nil, err
	}
	res := &SearchResult{}
	set := newFPSet(1 << 16)
	fps := []uint64{Fingerprint(init)}
	parents := []uint32{0}
	set.insert(fps[0])
	res.Distinct, res.Full = 1, uint64(orbit)

	cur := level{arenas: [][]byte{init}, refs: []ref{{0, 0, uint32(len(init))}}}
	var next level
	levelStart := uint32(0)
	exps := make([]Expander, workers)
	for i := range exps {
		exps[i] = sys.NewExpander()
	}
	var outs []*chunkOut
	// Chunk outputs of level d hold the bytes of frontier d+1, so two pools
	// alternate: a level's outputs live until the next level is expanded.
	var pools [2][]*chunkOut
	sl := &slab{}
	defer func() {
		sl.free()
		freeSlice(set.slots)
		freeSlice(fps)
		freeSlice(parents)
		freeSlice(cur.refs)
		freeSlice(next.refs)
	}()
	for depth := 0; ; depth++ {
		res.Depth = depth
		n := cur.len()
		if n == 0 {
			res.Depth = depth - 1 // the last level had no new successors
			return res, nil
		}
		nchunks := (n + chunkSize - 1) / chunkSize
		pool := &pools[depth%2]
		for len(*pool) < nchunks {
			*pool = append(*pool, &chunkOut{})
		}
		outs = (*pool)[:nchunks]
		// Size hints from the previous level spare the chunks' regrowth.
		hintBytes, hintCands := 0, 0
		if prev := &pools[(depth+1)%2]; len(*prev) > 0 {
			for _, o := range *prev {
				hintBytes = max(hintBytes, len(o.arena))
				hintCands = max(hintCands, len(o.cands))
			}
			hintBytes += hintBytes / 2
			hintCands += hintCands / 2
		}
		// At the depth bound the level is expanded only to learn whether
		// anything lies beyond it (runs longer than the bound are not judged).
		probe := opt.MaxDepth > 0 && depth >= opt.MaxDepth
		var nextChunk atomic.Int64
		var minBad atomic.Int64
		minBad.Store(int64(nchunks))
		var wg sync.WaitGroup
		for w := 0; w < workers && w < nchunks; w++ {
			wg.Add(1)
			go func(ex Expander) {
				defer wg.Done()
				for {
					c := int(nextChunk.Add(1) - 1)
					if c >= nchunks || int64(c) > minBad.Load() {
						return
					}
					o := outs[c]
					o.arena = slabGrow(sl, o.arena[:0], hintBytes)
					o.cands = slabGrow(sl, o.cands[:0], hintCands)
					expandChunk(ex, &cur, c, set, o, probe, sl)
					if o.bad || o.err != nil {
						for {
							m := minBad.Load()
							if int64(c) >= m || minBad.CompareAndSwap(m, int64(c)) {
								break
							}
						}
					}
				}
			}(exps[w])
		}
		wg.Wait()
		last := int(minBad.Load())
		if last < nchunks {
			o := outs[last]
			for c := 0; c <= last; c++ {
				res.Generated += outs[c].generated
				for k := range res.Classes {
					res.Classes[k] += outs[c].classes[k]
				}
			}
			if o.err != nil {
				return nil, o.err
			}
			// The path: ancestors of the bad transition's source state.
			src := levelStart + uint32(last*chunkSize) + o.badParent
			var path []uint64
			for id := src; ; id = parents[id] {
				path = append(path, fps[id])
				if id == 0 {
					break
				}
			}
			for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
				path[i], path[j] = path[j], path[i]
			}
			res.Violation = &Path{States: path, Bad: o.badFP}
			res.Depth = depth + 1
			return res, nil
		}
		for _, o := range outs {
			res.Generated += o.generated
			for k := range res.Classes {
				res.Classes[k] += o.classes[k]
			}
		}
		if opt.MaxDepth > 0 && depth >= opt.MaxDepth {
			for _, o := range outs {
				if len(o.cands) > 0 {
					// Is any candidate really new (not a duplicate within the level)?
					for _, c := range o.cands {
						if !set.has(c.fp) {
							res.Bound = BoundedDepth
							return res, nil
						}
					}
				}
			}
			return res, nil
		}
		// Merge in chunk order: ids are assigned as a sequential BFS would.
		next.arenas = next.arenas[:0]
		next.refs = next.refs[:0]
		nc := 0
		for _, o := range outs {
			nc += len(o.cands)
			next.arenas = append(next.arenas, o.arena)
		}
		next.refs = growBig(next.refs, nc)
		fps = growBig(fps, nc)
		parents = growBig(parents, nc)
		set.reserve(set.n + nc)
		nextStart := uint32(len(fps))
		for c, o := range outs {
			for _, cd := range o.cands {
				if !set.insert(cd.fp) {
					continue
				}
				fps = append(fps, cd.fp)
				parents = append(parents, levelStart+uint32(c*chunkSize)+cd.parent)
				next.refs = append(next.refs, ref{uint32(c), cd.off, cd.n})
				res.Distinct++
				res.Full += uint64(cd.orbit)
				if opt.MaxStates > 0 && res.Distinct >= opt.MaxStates {
					res.Bound = BoundedStates
					res.Depth = depth + 1
					return res, nil
				}
			}
			if opt.MaxMem > 0 && memEstimate(set, len(fps), &cur, &next, sl) > opt.MaxMem {
				res.Bound = BoundedMem
				res.Depth = depth + 1
				return res, nil
			}
		}
		if opt.Progress != nil {
			opt.Progress(Progress{Depth: depth + 1, Distinct: res.Distinct, Generated: res.Generated, Frontier: next.len()})
		}
		levelStart = nextStart
		cur, next = next, cur
	}
}

// MemPerState is the estimated store cost of one state beyond its frontier
// bytes: fingerprint table slot (at most 2/3 full), fingerprint, parent.
const MemPerState = 8*3/2 + 8 + 4

func memEstimate(set *fpSet, n int, cur, next *level, sl *slab) uint64 {
	m := uint64(len(set.slots))*8 + uint64(n)*12
	m += uint64(cap(cur.refs)+cap(next.refs)) * 12
	return m + sl.size
}

func expandChunk(ex Expander, cur *level, c int, set *fpSet, o *chunkOut, probe bool, sl *slab) {
	o.arena = o.arena[:0]
	o.cands = o.cands[:0]
	o.generated = 0
	o.classes = [NumClasses]uint64{}
	o.bad = false
	o.err = nil
	clear(o.recent[:])
	lo := c * chunkSize
	hi := min(lo+chunkSize, cur.len())
	// One closure per chunk (not per state: it escapes into the interface call).
	var parent uint32
	emit := func(next []byte, orbit uint32, bad bool) {
		if o.bad {
			return
		}
		o.generated++
		fp := Fingerprint(next)
		if fp == 0 {
			fp = 1 // 0 marks an empty slot (the set stores 0 as 1 too)
		}
		if bad && !probe {
			o.bad, o.badParent, o.badFP = true, parent, fp
			return
		}
		slot := &o.recent[fp&(uint64(len(o.recent))-1)]
		if *slot == fp || set.has(fp) {
			return
		}
		*slot = fp
		o.cands = slabGrow(sl, o.cands, 1)
		o.arena = slabGrow(sl, o.arena, len(next))
		o.cands = append(o.cands, cand{fp: fp, parent: parent, off: uint32(len(o.arena)), n: uint32(len(next)), orbit: orbit})
		o.arena = append(o.arena, next...)
	}
	for i := lo; i < hi && !o.bad; i++ {
		parent = uint32(i - lo)
		class, err := ex.Expand(cur.get(i), emit)
		if err != nil {
			o.err = err
			return
		}
		o.classes[class]++
	}
}

// level is a BFS frontier: references into the arenas of the previous
// level's chunk outputs (no copy).
type level struct {
	arenas [][]byte
	refs   []ref
}

type ref struct{ arena, off, n uint32 }

func (l *level) len() int { return len(l.refs) }
func (l *level) get(i int) []byte {
	r := l.refs[i]
	return l.arenas[r.arena][r.off : r.off+r.n]
}
