package explore

import (
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"
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
	// reached by a transition that violates the property. emit returns
	// whether next was stored at a level before the successors' (a
	// reduction's cycle proviso needs it; the answer depends only on the
	// levels, never on the workers). Expand returns the class of state
	// (0..NumClasses-1, e.g. quiescent or stuck) for the statistics, or an
	// error if state is malformed.
	Expand(state []byte, emit func(next []byte, orbit uint32, bad bool) (old bool)) (class int, err error)
}

// NumClasses is how many state classes Expand may report.
const NumClasses = 4

// SearchOptions bound a search.
type SearchOptions struct {
	// MaxStates stops the search when this many distinct states are stored (0: no bound).
	MaxStates uint64
	// MaxDepth bounds the runs explored to this many steps (0: no bound).
	MaxDepth int
	// MaxMem stops the search before a level whose memory is estimated to
	// pass this many bytes (0: no bound). The estimate is computed from the
	// counts, not measured, so where a search stops is deterministic.
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

// initialSlots is the fingerprint table's first size.
const initialSlots = 1 << 16

// chunkSize is how many frontier states one task expands. It is fixed so
// that the chunks, and with them every result, are the same for any number
// of workers.
const chunkSize = 256

type cand struct {
	fp     uint64
	parent uint32 // index in the level
	off    uint32 // into segment seg of its worker's arena
	seg    uint16
	n      uint16
	orbit  uint32
}

// segSize is the size of a worker's arena segments once a level outgrows
// the first (which doubles up to it): full segments are never copied, so a
// level's bytes take their own size plus less than a segment per worker
// (a variable for a test).
var segSize = 4 << 20

type chunkOut struct {
	// The chunk's candidates are cands[lo:hi] of the buffer of the worker
	// that expanded it.
	worker, lo, hi int
	generated      uint64
	classes        [NumClasses]uint64
	bad            bool
	badParent      uint32
	badFP          uint64
	err            error
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
	set := newFPSet(initialSlots)
	fps := []uint64{Fingerprint(init)}
	parents := []uint32{0}
	set.insert(fps[0])
	res.Distinct, res.Full = 1, uint64(orbit)

	cur := level{arenas: [][]byte{init}, refs: []ref{{0, 0, uint32(len(init))}}}
	curBytes, nextBytes := uint64(len(init)), uint64(0) // the frontiers' states' bytes
	var next level
	levelStart := uint32(0)
	exps := make([]Expander, workers)
	for i := range exps {
		exps[i] = sys.NewExpander()
	}
	var outs []*chunkOut
	var pool []*chunkOut
	// The workers' buffers of level d hold the bytes of frontier d+1, so two
	// sets alternate: a level's buffers live until the next level is
	// expanded, then are reused, so memory follows the largest frontier
	// (buffers per chunk, each grown to the largest chunk's size, would
	// hold several times that).
	var bufs [2][]workerBuf
	for i := range bufs {
		bufs[i] = make([]workerBuf, workers)
	}
	for w := 0; w < workers; w++ {
		f := new([recentSize]uint64) // one per worker, for both sets of buffers
		bufs[0][w].recent, bufs[1][w].recent = f, f
	}
	segBase := make([]uint32, workers) // a level's first arena of each worker's segments
	defer func() {
		freeSlice(set.slots)
		freeSlice(fps)
		freeSlice(parents)
		freeSlice(cur.refs)
		freeSlice(next.refs)
		for _, wbs := range bufs {
			for i := range wbs {
				wbs[i].free()
			}
		}
	}()
	prevN := 1 // the size of the level before cur, for the growth ratio
	// The store's capacities as the counts of distinct states would grow
	// them: the real ones grow by the candidates a level kept, which depend
	// on the workers, and the bound must not.
	virt := storeCaps{fps: 1, parents: 1, curRefs: 1, slots: initialSlots}
	for depth := 0; ; depth++ {
		res.Depth = depth
		n := cur.len()
		if n == 0 {
			res.Depth = depth - 1 // the last level had no new successors
			return res, nil
		}
		nchunks := (n + chunkSize - 1) / chunkSize
		memStop := false // the level is expanded only in part: the bound stops the search after it
		if opt.MaxMem > 0 && !(opt.MaxDepth > 0 && depth >= opt.MaxDepth) {
			// Only the first chunks of a level that would pass the bound are
			// expanded: the level is predicted to grow by the ratio of the
			// last one, its states as large as cur's.
			perChunk := float64(n) / float64(prevN) * chunkSize
			perByte := float64(curBytes) / float64(n)
			fits := func(k int) bool {
				predN := int(math.Ceil(float64(k) * perChunk))
				return memPeak(len(fps), virt, n, predN, curBytes, uint64(float64(predN)*perByte)) <= opt.MaxMem
			}
			if !fits(nchunks) {
				k := sort.Search(nchunks+1, func(k int) bool { return !fits(k) }) - 1 // the most chunks that fit
				if k <= 0 {
					res.Bound = BoundedMem
					return res, nil
				}
				nchunks, memStop = k, true
			}
		}
		for len(pool) < nchunks {
			pool = append(pool, &chunkOut{})
		}
		outs = pool[:nchunks]
		wbs := bufs[depth%2]
		for i := range wbs {
			wbs[i].reset()
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
			go func(ex Expander, wb *workerBuf, w int) {
				defer wg.Done()
				for {
					c := int(nextChunk.Add(1) - 1)
					if c >= nchunks || int64(c) > minBad.Load() {
						return
					}
					o := outs[c]
					o.worker = w
					expandChunk(ex, &cur, c, set, o, wb, probe)
					if o.bad || o.err != nil {
						for {
							m := minBad.Load()
							if int64(c) >= m || minBad.CompareAndSwap(m, int64(c)) {
								break
							}
						}
					}
				}
			}(exps[w], &wbs[w], w)
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
				// Is any candidate really new (not a duplicate within the level)?
				for _, c := range wbs[o.worker].cands[o.lo:o.hi] {
					if !set.has(c.fp) {
						res.Bound = BoundedDepth
						return res, nil
					}
				}
			}
			return res, nil
		}
		// Merge in chunk order: ids are assigned as a sequential BFS would.
		next.arenas = next.arenas[:0]
		next.refs = next.refs[:0]
		for i := range wbs {
			segBase[i] = uint32(len(next.arenas))
			next.arenas = append(next.arenas, wbs[i].segs...)
		}
		nc := 0
		for _, o := range outs {
			nc += o.hi - o.lo
		}
		nfps := len(fps)
		next.refs = growBig(next.refs, nc)
		fps = growBig(fps, nc)
		parents = growBig(parents, nc)
		set.reserve(set.n + nc)
		nextStart := uint32(len(fps))
		for c, o := range outs {
			for _, cd := range wbs[o.worker].cands[o.lo:o.hi] {
				if !set.insert(cd.fp) {
					continue
				}
				fps = append(fps, cd.fp)
				parents = append(parents, levelStart+uint32(c*chunkSize)+cd.parent)
				next.refs = append(next.refs, ref{segBase[o.worker] + uint32(cd.seg), cd.off, uint32(cd.n)})
				nextBytes += uint64(cd.n)
				res.Distinct++
				res.Full += uint64(cd.orbit)
				if opt.MaxStates > 0 && res.Distinct >= opt.MaxStates {
					res.Bound = BoundedStates
					res.Depth = depth + 1
					return res, nil
				}
			}
			if opt.MaxMem > 0 && memPeak(nfps, virt, cur.len(), next.len(), curBytes, nextBytes) > opt.MaxMem {
				res.Bound = BoundedMem
				res.Depth = depth + 1
				return res, nil
			}
		}
		if memStop {
			res.Bound = BoundedMem
			res.Depth = depth + 1
			return res, nil
		}
		if opt.Progress != nil {
			opt.Progress(Progress{Depth: depth + 1, Distinct: res.Distinct, Generated: res.Generated, Frontier: next.len()})
		}
		levelStart = nextStart
		prevN = n
		nNew := next.len()
		virt.fps = grown(nfps, virt.fps, nNew)
		virt.parents = grown(nfps, virt.parents, nNew)
		virt.curRefs, virt.nextRefs = grown(0, virt.nextRefs, nNew), virt.curRefs
		for len(fps)*3 > virt.slots*2 {
			virt.slots *= 2
		}
		cur, next = next, cur
		curBytes, nextBytes = nextBytes, 0
	}
}

// MemPerState is the estimated store cost of one state beyond its frontier
// bytes: fingerprint table slot (at most 2/3 full), fingerprint, parent.
const MemPerState = 8*3/2 + 8 + 4

// memBase is the memory of the program and the Go runtime: 23 MB before
// the search holds anything (peak RSS of `stormproof explore --max-states
// 2`) and the collector's headroom over it (about 5 MB at a 64 MiB bound).
const memBase = 28 << 20

// bufFactor bounds the workers' buffers by what they hold: two sets (the
// frontier's states and the next level's candidates), each grown by
// doubling and holding a level's duplicates too. Measured on the small
// configuration: 2.1 times the two levels' state bytes and candidate records.
const bufFactor = 2.25

// storeCaps are the capacities of the store's arrays before a level's merge.
type storeCaps struct{ fps, parents, curRefs, nextRefs, slots int }

// grown is the capacity growBig leaves to a slice of the given length and
// capacity after extra more values.
func grown(length, capacity, extra int) int {
	if length+extra <= capacity {
		return capacity
	}
	return 2 * (length + extra)
}

// memPeak bounds the memory a level holds at its peak when the nfps states
// stored so far are joined by nextN new ones, from counts that do not depend
// on which worker expanded which chunk: the fingerprint table, fingerprints,
// parents and both frontiers' references at the capacities growBig and
// reserve give them, the largest array that grows counted twice (it is
// copied), and the workers' buffers.
func memPeak(nfps int, c storeCaps, curN, nextN int, curBytes, nextBytes uint64) uint64 {
	fpsCap := grown(nfps, c.fps, nextN)
	parCap := grown(nfps, c.parents, nextN)
	refCap := grown(0, c.nextRefs, nextN)
	slots := c.slots
	for (nfps+nextN)*3 > slots*2 {
		slots *= 2
	}
	m := uint64(slots)*8 + uint64(fpsCap)*8 + uint64(parCap)*4 + uint64(c.curRefs+refCap)*uint64(unsafe.Sizeof(ref{}))
	var copied uint64
	if slots != c.slots {
		copied = max(copied, uint64(c.slots)*8)
	}
	if fpsCap != c.fps {
		copied = max(copied, uint64(c.fps)*8)
	}
	if refCap != c.nextRefs {
		copied = max(copied, uint64(c.nextRefs)*uint64(unsafe.Sizeof(ref{})))
	}
	held := curBytes + nextBytes + uint64(curN+nextN)*uint64(unsafe.Sizeof(cand{}))
	return memBase + m + copied + uint64(bufFactor*float64(held))
}

// workerBuf holds the candidates one worker kept during a level, and their
// bytes in segments.
type workerBuf struct {
	segs  [][]byte
	cands []cand
	// recent is a direct-mapped filter of fingerprints this worker kept
	// in this level: diamonds in the state graph make many successors
	// coincide. A worker takes chunks in increasing order, so a successor
	// it drops was kept by an earlier chunk, and the merge would have
	// dropped it too: the results do not depend on which worker had which
	// chunk. It is cleared with each level, so what it holds is in no
	// earlier level.
	recent *[recentSize]uint64
}

const recentSize = 1 << 15

// reset empties the buffer and gives its storage back: which worker takes
// how many chunks varies from level to level, and storage kept at each
// worker's largest share would add up to more than a level needs, beyond
// what the memory bound counts.
func (wb *workerBuf) reset() {
	for _, s := range wb.segs {
		freeSlice(s)
	}
	freeSlice(wb.cands)
	wb.segs = [][]byte{nil}
	wb.cands = nil
	clear(wb.recent[:])
}

func (wb *workerBuf) free() {
	for _, s := range wb.segs {
		freeSlice(s)
	}
	freeSlice(wb.cands)
	*wb = workerBuf{}
}

func expandChunk(ex Expander, cur *level, c int, set *fpSet, o *chunkOut, wb *workerBuf, probe bool) {
	o.lo = len(wb.cands)
	defer func() { o.hi = len(wb.cands) }()
	o.generated = 0
	o.classes = [NumClasses]uint64{}
	o.bad = false
	o.err = nil
	lo := c * chunkSize
	hi := min(lo+chunkSize, cur.len())
	// One closure per chunk (not per state: it escapes into the interface call).
	var parent uint32
	emit := func(next []byte, orbit uint32, bad bool) bool {
		if o.bad {
			return false
		}
		o.generated++
		fp := Fingerprint(next)
		if fp == 0 {
			fp = 1 // 0 marks an empty slot (the set stores 0 as 1 too)
		}
		if bad && !probe {
			o.bad, o.badParent, o.badFP = true, parent, fp
			return false
		}
		// The set holds the levels up to the one expanded (the next is
		// merged after it); recent, only this level's successors.
		slot := &wb.recent[fp&(recentSize-1)]
		if *slot == fp {
			return false
		}
		if set.has(fp) {
			return true
		}
		*slot = fp
		if len(next) > math.MaxUint16 {
			o.err = fmt.Errorf("explore: a state's encoding has %d bytes, more than %d", len(next), math.MaxUint16)
			o.bad = true
			return false
		}
		seg := &wb.segs[len(wb.segs)-1]
		if len(*seg)+len(next) > cap(*seg) {
			if cap(*seg) < segSize {
				*seg = growBig(*seg, len(next)) // small levels stay small
			} else {
				if len(wb.segs) > math.MaxUint16 {
					o.err = fmt.Errorf("explore: a worker's level passed %d segments of %d bytes", math.MaxUint16, segSize)
					o.bad = true
					return false
				}
				wb.segs = append(wb.segs, bigSlice[byte](segSize)[:0])
				seg = &wb.segs[len(wb.segs)-1]
			}
		}
		wb.cands = growBig(wb.cands, 1)
		wb.cands = append(wb.cands, cand{fp: fp, parent: parent, off: uint32(len(*seg)), seg: uint16(len(wb.segs) - 1),
			n: uint16(len(next)), orbit: orbit})
		*seg = append(*seg, next...)
		return false
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
