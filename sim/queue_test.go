package sim

import (
	"math/rand/v2"
	"testing"

	"github.com/stormproof/stormproof/model"
)

// The calendar pops in exactly (time, sequence) order, whatever mix of
// events in the current fine bucket, the current bucket, within the wheel and beyond its horizon,
// with equal times, and interleaved pushes and pops: the same order as the
// plain 4-ary heap.
func TestCalendarOrderIsTheHeapOrder(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		c, h := newCalendar(), &queue{}
		var seq uint64
		var now model.Time
		push := func() {
			var d model.Time
			switch r.IntN(6) {
			case 0: // the current fine bucket, equal times included
				d = model.Time(r.IntN(3))
			case 5: // the current bucket's fine buckets
				d = model.Time(r.Int64N(1 << calShift))
			case 1: // within a few buckets
				d = model.Time(r.Int64N(int64(50 << calShift)))
			case 2: // anywhere in the wheel
				d = model.Time(r.Int64N(int64(calN << calShift)))
			case 3: // beyond the horizon
				d = model.Time(calN<<calShift) + model.Time(r.Int64N(int64(3*calN<<calShift)))
			case 4: // a burst at one instant
				d = 1000
			}
			seq++
			it := item{at: now + d, seq: seq, ref: uint32(seq)}
			c.push(it)
			h.push(it)
		}
		for i := 0; i < 3000; i++ {
			push()
		}
		for c.len() > 0 {
			if c.len() != h.len() {
				t.Fatalf("seed %d: calendar holds %d, heap %d", seed, c.len(), h.len())
			}
			if p := c.peek(); p.seq != h.h[0].seq {
				t.Fatalf("seed %d: peek gives seq %d, heap %d", seed, p.seq, h.h[0].seq)
			}
			if c.len()%499 == 0 { // each visits exactly what is queued
				want := map[uint64]bool{}
				for _, it := range h.h {
					want[it.seq] = true
				}
				n := 0
				c.each(func(it *item) {
					n++
					if !want[it.seq] {
						t.Fatalf("seed %d: each visits seq %d, not queued or twice", seed, it.seq)
					}
					delete(want, it.seq)
				})
				if n != c.len() || len(want) != 0 {
					t.Fatalf("seed %d: each visits %d of %d queued", seed, n, c.len())
				}
			}
			a, b := c.pop(), h.pop()
			if a != b {
				t.Fatalf("seed %d: calendar popped %+v, heap %+v", seed, a, b)
			}
			now = a.at
			if seq < 20000 {
				for n := r.IntN(3); n > 0; n-- {
					push()
				}
			}
		}
		if h.len() != 0 || c.peek() != nil {
			t.Fatalf("seed %d: calendar empty, heap holds %d", seed, h.len())
		}
	}
}

// A drained bucket's chunks are reused: holding a steady number of pending
// events while the wheel turns many times does not grow the chunk store.
func TestCalendarReusesChunks(t *testing.T) {
	c := newCalendar()
	var seq uint64
	const pending = 20_000
	step := model.Time(1 << calShift) // one event per bucket, 20k buckets ahead
	for i := 0; i < pending; i++ {
		seq++
		c.push(item{at: model.Time(i+1) * step, seq: seq})
	}
	after := len(c.next)
	for i := 0; i < 10*calN; i++ { // the wheel turns ten times
		it := c.pop()
		seq++
		c.push(item{at: it.at + pending*step, seq: seq})
	}
	if len(c.next) > after+1 {
		t.Fatalf("chunk store grew from %d to %d chunks with %d events pending", after, len(c.next), pending)
	}
}
