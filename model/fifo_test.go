package model

import "testing"

// Interleaved pushes and pops come out in order whether the queue is short
// (shifted down) or long (sliced), and a queue that stays short keeps its
// array.
func TestFIFOOrderAndReuse(t *testing.T) {
	var q []int
	next, want := 0, 0
	pop := func() {
		var x int
		x, q = popFront(q)
		if x != want {
			t.Fatalf("popped %d, want %d", x, want)
		}
		want++
	}
	for round := 0; round < 200; round++ {
		for range round % 7 * 13 { // up to 78 queued: past fifoShift
			q = pushBack(q, next)
			next++
		}
		for len(q) > round%5 {
			pop()
		}
	}
	for len(q) > 0 {
		pop()
	}
	if want != next {
		t.Fatalf("popped %d of %d", want, next)
	}
	q = pushBack(q[:0], 0)
	base := &q[:1][0]
	for i := 1; i < 1000; i++ {
		q = pushBack(q, i)
		_, q = popFront(q)
	}
	if &q[:1][0] != base {
		t.Error("a queue of one reallocated")
	}
}
