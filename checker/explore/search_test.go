package explore

import (
	"fmt"
	"slices"
	"testing"
)

// The search core is validated on tiny systems whose reachable states are
// counted independently, by a plain map-based enumerator written here.

// tinySys is a system of n processes with local states 0..k-1 and a shared
// variable x. Process i may move from s to s+1 (mod k) when x == 0 or s > 0;
// moving to 1 takes the shared variable (x = i+1), moving back to 0 frees
// it (mutual exclusion around local state 1..k-1). With sym, processes are
// interchangeable and a state is encoded sorted (the canonical form of its
// orbit). A transition into a state where every process is at k-1 is "bad"
// when badAll is set (it never is, under the mutex, unless k == 2... so the
// tests choose k to make it reachable or not).
type tinySys struct {
	n, k   int
	sym    bool
	badAll bool
}

type tinyState struct {
	s []int
	x int
}

func (t *tinySys) enc(st tinyState) ([]byte, uint32) {
	s := append([]int(nil), st.s...)
	x := st.x
	orbit := uint32(1)
	if t.sym {
		// The holder of x is named by its local state in the canonical form.
		holder := -1
		if x > 0 {
			holder = s[x-1]
		}
		slices.Sort(s)
		x = 0
		if holder >= 0 {
			x = holder + 1
		}
		orbit = uint32(multinomial(s))
	}
	b := []byte{byte(x)}
	for _, v := range s {
		b = append(b, byte(v))
	}
	return b, orbit
}

func multinomial(s []int) int {
	f := func(n int) int {
		r := 1
		for i := 2; i <= n; i++ {
			r *= i
		}
		return r
	}
	r := f(len(s))
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] == s[i] {
			j++
		}
		r /= f(j - i)
		i = j
	}
	return r
}

func (t *tinySys) dec(b []byte) tinyState {
	st := tinyState{x: int(b[0])}
	for _, v := range b[1:] {
		st.s = append(st.s, int(v))
	}
	if t.sym && st.x > 0 {
		// Name the holder: the first process in the holder's local state.
		for i, v := range st.s {
			if v == st.x-1 {
				st.x = i + 1
				break
			}
		}
	}
	return st
}

func (t *tinySys) succ(st tinyState, fn func(tinyState, bool)) {
	for i := range st.s {
		v := st.s[i]
		nv := (v + 1) % t.k
		switch {
		case v == 0 && st.x != 0:
			continue
		case v == 0:
			ns := tinyState{s: slices.Clone(st.s), x: i + 1}
			ns.s[i] = nv
			fn(ns, t.isBad(ns))
		case nv == 0:
			ns := tinyState{s: slices.Clone(st.s), x: 0}
			ns.s[i] = nv
			fn(ns, t.isBad(ns))
		default:
			ns := tinyState{s: slices.Clone(st.s), x: st.x}
			ns.s[i] = nv
			fn(ns, t.isBad(ns))
		}
	}
}

func (t *tinySys) isBad(st tinyState) bool {
	if !t.badAll {
		return false
	}
	n := 0
	for _, v := range st.s {
		if v != 0 {
			n++
		}
	}
	return n == len(st.s)
}

func (t *tinySys) Initial() ([]byte, uint32, error) {
	b, o := t.enc(tinyState{s: make([]int, t.n)})
	return b, o, nil
}

func (t *tinySys) NewExpander() Expander { return tinyExp{t} }

type tinyExp struct{ t *tinySys }

func (e tinyExp) Expand(state []byte, emit func([]byte, uint32, bool) bool) (int, error) {
	e.t.succ(e.t.dec(state), func(ns tinyState, bad bool) {
		b, o := e.t.enc(ns)
		emit(b, o, bad)
	})
	return 0, nil
}

// brute enumerates the concrete (unreduced) reachable states and the BFS
// distance of the first bad transition.
func brute(t *tinySys) (states int, orbits int, badDepth int) {
	plain := *t
	plain.sym = false
	key := func(st tinyState) string { return fmt.Sprint(st.x, st.s) }
	init := tinyState{s: make([]int, t.n)}
	seen := map[string]bool{key(init): true}
	canon := map[string]bool{}
	c0, _ := t.enc(init)
	canon[string(c0)] = true
	frontier := []tinyState{init}
	badDepth = -1
	for depth := 0; len(frontier) > 0; depth++ {
		var next []tinyState
		for _, st := range frontier {
			plain.succ(st, func(ns tinyState, bad bool) {
				if bad && badDepth < 0 {
					badDepth = depth + 1
				}
				if !seen[key(ns)] {
					seen[key(ns)] = true
					c, _ := t.enc(ns)
					canon[string(c)] = true
					next = append(next, ns)
				}
			})
		}
		frontier = next
	}
	return len(seen), len(canon), badDepth
}

func TestSearchCountsMatchBruteForce(t *testing.T) {
	for _, tc := range []struct{ n, k int }{{1, 3}, {2, 3}, {3, 4}, {4, 3}, {5, 5}} {
		sys := &tinySys{n: tc.n, k: tc.k}
		want, _, _ := brute(sys)
		res, err := Search(sys, SearchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Complete() || res.Distinct != uint64(want) || res.Full != uint64(want) {
			t.Errorf("n=%d k=%d: got %d distinct (complete %v), brute force %d", tc.n, tc.k, res.Distinct, res.Complete(), want)
		}
	}
}

// TestSearchKnownCount checks counts known in closed form: with the mutex
// at most one process is away from 0, so n processes with k local states
// reach n·(k−1)+1 states.
func TestSearchKnownCount(t *testing.T) {
	for n := 1; n <= 6; n++ {
		for k := 2; k <= 5; k++ {
			res, err := Search(&tinySys{n: n, k: k}, SearchOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if want := uint64(n*(k-1) + 1); res.Distinct != want {
				t.Errorf("n=%d k=%d: %d states, want %d", n, k, res.Distinct, want)
			}
		}
	}
}

// TestSearchFreeCount: n free counters mod k reach all k^n states.
func TestSearchFreeCount(t *testing.T) {
	for _, tc := range []struct{ n, k int }{{1, 5}, {3, 3}, {5, 4}, {6, 5}} {
		res, err := Search(&freeSys{n: tc.n, k: tc.k, noBad: true}, SearchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := uint64(1)
		for i := 0; i < tc.n; i++ {
			want *= uint64(tc.k)
		}
		if !res.Complete() || res.Distinct != want || res.Depth != tc.n*(tc.k-1) {
			t.Errorf("n=%d k=%d: %+v, want %d states to depth %d", tc.n, tc.k, res, want, tc.n*(tc.k-1))
		}
	}
}

func TestSearchSymmetryCountsOrbits(t *testing.T) {
	sys := &tinySys{n: 5, k: 4, sym: true}
	states, orbits, _ := brute(sys)
	res, err := Search(sys, SearchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Distinct != uint64(orbits) || res.Full != uint64(states) {
		t.Errorf("symmetry: %d distinct / %d full, brute force %d orbits / %d states", res.Distinct, res.Full, orbits, states)
	}
	if res.Distinct >= res.Full {
		t.Errorf("no reduction: %d of %d", res.Distinct, res.Full)
	}
}

func TestSearchShortestViolation(t *testing.T) {
	sys := &tinySys{n: 3, k: 3, badAll: true}
	// With the mutex all three can never be away from 0: no violation.
	res, err := Search(sys, SearchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Violation != nil {
		t.Fatalf("violation in a correct system: %+v", res.Violation)
	}
	// Without the mutex (k large, x ignored), brute force gives the depth.
	free := &freeSys{n: 3, k: 3}
	_, _, depth := bruteFree(free)
	res, err = Search(free, SearchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Violation == nil || len(res.Violation.States) != depth {
		t.Fatalf("violation %+v, want a path of %d states then the bad one", res.Violation, depth)
	}
	// The path is a chain of transitions from the initial state.
	init, _, _ := free.Initial()
	if res.Violation.States[0] != Fingerprint(init) {
		t.Fatal("path does not start at the initial state")
	}
	cur := free.dec(init)
	path := append(append([]uint64(nil), res.Violation.States[1:]...), res.Violation.Bad)
	for i, fp := range path {
		found := false
		free.succ(cur, func(ns tinyState, bad bool) {
			b, _ := free.enc(ns)
			if !found && Fingerprint(b) == fp {
				found, cur = true, ns
				if bad != (i == len(path)-1) {
					t.Errorf("step %d: bad=%v", i, bad)
				}
			}
		})
		if !found {
			t.Fatalf("step %d of the path is not a successor", i)
		}
	}
}

// freeSys: processes cycle 0→1→…→k-1→0 freely; bad is all of them at k-1.
type freeSys struct {
	n, k  int
	noBad bool
}

func (f *freeSys) enc(st tinyState) ([]byte, uint32) {
	b := []byte{0}
	for _, v := range st.s {
		b = append(b, byte(v))
	}
	return b, 1
}
func (f *freeSys) dec(b []byte) tinyState {
	st := tinyState{}
	for _, v := range b[1:] {
		st.s = append(st.s, int(v))
	}
	return st
}
func (f *freeSys) succ(st tinyState, fn func(tinyState, bool)) {
	for i := range st.s {
		ns := tinyState{s: slices.Clone(st.s)}
		ns.s[i] = (ns.s[i] + 1) % f.k
		all := true
		for _, v := range ns.s {
			all = all && v == f.k-1
		}
		fn(ns, all && !f.noBad)
	}
}
func (f *freeSys) Initial() ([]byte, uint32, error) {
	b, o := f.enc(tinyState{s: make([]int, f.n)})
	return b, o, nil
}
func (f *freeSys) NewExpander() Expander { return freeExp{f} }

type freeExp struct{ f *freeSys }

func (e freeExp) Expand(state []byte, emit func([]byte, uint32, bool) bool) (int, error) {
	e.f.succ(e.f.dec(state), func(ns tinyState, bad bool) {
		b, o := e.f.enc(ns)
		emit(b, o, bad)
	})
	return 0, nil
}

func bruteFree(f *freeSys) (int, int, int) {
	key := func(st tinyState) string { return fmt.Sprint(st.s) }
	init := tinyState{s: make([]int, f.n)}
	seen := map[string]bool{key(init): true}
	frontier := []tinyState{init}
	for depth := 0; len(frontier) > 0; depth++ {
		var next []tinyState
		bad := false
		for _, st := range frontier {
			f.succ(st, func(ns tinyState, b bool) {
				bad = bad || b
				if !seen[key(ns)] {
					seen[key(ns)] = true
					next = append(next, ns)
				}
			})
		}
		if bad {
			return len(seen), 0, depth + 1
		}
		frontier = next
	}
	return len(seen), 0, -1
}

func TestSearchDeterministicAcrossWorkers(t *testing.T) {
	sys := &freeSys{n: 6, k: 4, noBad: true}
	var first *SearchResult
	for _, w := range []int{1, 2, 3, 8} {
		res, err := Search(sys, SearchOptions{Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		if res.Distinct < 10*chunkSize {
			t.Fatalf("system too small to span chunks: %d states", res.Distinct)
		}
		if first == nil {
			first = res
			continue
		}
		if fmt.Sprint(*res) != fmt.Sprint(*first) {
			t.Errorf("workers=%d: %+v, workers=1: %+v", w, res, first)
		}
	}
	free := &freeSys{n: 5, k: 4}
	var path []uint64
	for _, w := range []int{1, 2, 5} {
		res, err := Search(free, SearchOptions{Workers: w})
		if err != nil || res.Violation == nil {
			t.Fatal(err, res)
		}
		p := append(append([]uint64(nil), res.Violation.States...), res.Violation.Bad)
		if path != nil && !slices.Equal(p, path) {
			t.Errorf("workers=%d: another counterexample", w)
		}
		path = p
	}
}

func TestSearchBounds(t *testing.T) {
	sys := &freeSys{n: 4, k: 4, noBad: true}
	full, err := Search(sys, SearchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Search(sys, SearchOptions{MaxStates: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Bound != BoundedStates || res.Complete() || res.Distinct != 50 {
		t.Errorf("max-states: %+v", res)
	}
	res, err = Search(sys, SearchOptions{MaxDepth: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Bound != BoundedDepth || res.Complete() || res.Depth != 3 {
		t.Errorf("max-depth 3: %+v", res)
	}
	// A depth bound at the last level is no bound at all.
	res, err = Search(sys, SearchOptions{MaxDepth: full.Depth})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete() || res.Distinct != full.Distinct {
		t.Errorf("max-depth %d (the full depth): %+v, full %+v", full.Depth, res, full)
	}
	res, err = Search(sys, SearchOptions{MaxMem: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Bound != BoundedMem || res.Complete() {
		t.Errorf("max-mem: %+v", res)
	}
}

func TestFingerprintSpreads(t *testing.T) {
	seen := map[uint64]bool{}
	b := make([]byte, 0, 64)
	for i := 0; i < 200_000; i++ {
		b = b[:0]
		for v := i; ; v >>= 7 {
			b = append(b, byte(v&0x7f))
			if v < 0x80 {
				break
			}
		}
		b = append(b, make([]byte, i%37)...)
		fp := Fingerprint(b)
		if seen[fp] {
			t.Fatalf("collision at %d", i)
		}
		seen[fp] = true
	}
	if Fingerprint([]byte{1}) == Fingerprint([]byte{1, 0}) {
		t.Error("length is not part of the fingerprint")
	}
}

// A level's bytes split over many arena segments (as they are past 1 GiB
// per worker) give the same search: states decode from the right segment.
func TestSearchSegments(t *testing.T) {
	cfg := load(t, DefaultConfig, "discard-on-timeout")
	run := func() string {
		res, err := Run(cfg, Options{Search: SearchOptions{MaxStates: 60_000, Workers: 2}})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%+v", *res.Search)
	}
	want := run()
	defer func(m int) { segSize = m }(segSize)
	segSize = 4096
	if got := run(); got != want {
		t.Errorf("4 KiB segments: %s, 4 MiB: %s", got, want)
	}
}

// The memory bound is an estimate from deterministic counts: a search it
// stops stops at the same state whatever the number of workers.
func TestSearchMemBoundDeterministic(t *testing.T) {
	cfg := load(t, DefaultConfig, "tagged")
	var first string
	workers := []int{1, 2, 3, 2}
	if testing.Short() {
		workers = []int{1, 3}
	}
	for _, w := range workers {
		res, err := Run(cfg, Options{Search: SearchOptions{MaxMem: 48 << 20, Workers: w}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Search.Bound != BoundedMem {
			t.Fatalf("workers=%d: not bounded by memory: %+v", w, *res.Search)
		}
		got := fmt.Sprintf("%+v", *res.Search)
		if first == "" {
			first = got
		} else if got != first {
			t.Errorf("workers=%d: %s, workers=1: %s", w, got, first)
		}
	}
}
