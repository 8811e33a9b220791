package sim

import (
	"math/bits"
	"unsafe"

	"github.com/stormproof/stormproof/internal/hugepage"
	"github.com/stormproof/stormproof/internal/prefetch"

	"github.com/stormproof/stormproof/model"
)

// item is one pending event. Messages live in the engine's slab, so an item
// is 32 bytes whatever it carries.
type item struct {
	at    model.Time
	seq   uint64
	to    model.Addr
	kind  uint8
	timer uint16
	ref   uint32 // message slab index, fault index, or timer generation
}

const (
	itemMsg uint8 = iota
	itemTimer
	itemFault
)

func (a *item) less(b *item) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

// queue is a 4-ary min-heap ordered by (time, sequence): shallower than a
// binary heap and kinder to the cache, with no interface calls.
type queue struct{ h []item }

func (q *queue) len() int { return len(q.h) }

func (q *queue) push(it item) {
	q.h = append(q.h, it)
	h := q.h
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 4
		if !h[i].less(&h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (q *queue) pop() item {
	h := q.h
	top := h[0]
	n := len(h) - 1
	last := h[n]
	q.h = h[:n]
	if n == 0 {
		return top
	}
	h = q.h
	i := 0
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		end := c + 4
		if end > n {
			end = n
		}
		for j := c + 1; j < end; j++ {
			if h[j].less(&h[m]) {
				m = j
			}
		}
		if !h[m].less(&last) {
			break
		}
		h[i] = h[m]
		i = m
	}
	h[i] = last
	return top
}

// calendar is the engine's event queue: a two-level timing wheel
// (calendar queue) in front of a 4-ary heap. Events within the wheel's
// horizon are appended to their bucket in O(1); the bucket being drained
// is split into fine buckets (also appends), and only the fine bucket being
// drained is kept as a (small, cache-resident) heap, so the order is still
// exactly (time, sequence). Events beyond the horizon wait in an overflow
// heap and move into the wheel as it turns.
//
// Two levels because one bucket width does not fit a whole run: at 10M
// cameras the storm makes 1.4M events per simulated second, so a wide
// bucket would be a heap of tens of thousands (ordering them would dominate
// the engine's time), while narrow buckets put the camera timers (minutes
// to hours away) beyond the horizon, into the overflow heap.
//
// A bucket is a list of fixed-size chunks taken from one free list, so
// memory follows the number of pending events and is reused as the wheel
// turns. (Growable per-bucket slices would either keep every burst's
// capacity in every bucket or, dropped after a burst, be reallocated on the
// next: gigabytes of garbage in a 1M-camera run.)
type calendar struct {
	wheel  []list   // per bucket
	bits   []uint64 // non-empty buckets
	cur    int64    // absolute index of the bucket being drained
	fine   []list   // per fine bucket of the current bucket
	fbits  []uint64 // non-empty fine buckets
	fcur   int64    // the fine bucket being drained (an index within cur; -1: none yet)
	blocks [][]chunk
	next   []int32 // per chunk: the next in its list (or in the free list), -1 at the end
	free   int32   // first free chunk, -1 when none
	now    queue   // the current fine bucket's events
	over   queue   // events beyond the horizon
	n      int
}

// list is a bucket: a chain of chunks, all full but the last, which holds
// n items. Its bookkeeping is here, not in the chunks, so that appending
// to a bucket only writes to its chunk (a store the processor need not
// wait for) and reads one small record: a random bucket's tail chunk is a
// cache miss at full size.
type list struct {
	head, tail int32 // first and last chunk, -1 when empty
	n          int32 // items in the last chunk
	_          int32
}

// chunkLen items per chunk: 512 bytes, eight cache lines (a block's chunks
// are line-aligned: a large allocation starts on a page), at most one
// partly filled chunk per bucket. Chunks are allocated in blocks, so the
// store grows without copying itself.
const (
	chunkLen = 16
	blockLen = 16384 // 8 MiB: whole huge pages, wherever the block starts
)

type chunk struct{ items [chunkLen]item }

// Bucket widths: fine 2^16 ns ≈ 66 µs (about a hundred events at the
// 10M-camera storm's peak), coarse 2^26 ns ≈ 67 ms; 2^17 coarse buckets
// make a horizon of ≈ 2.4 h, past most cameras' next motion event.
const (
	fineShift = 16
	calShift  = 26
	fineN     = 1 << (calShift - fineShift)
	fineMask  = fineN - 1
	calN      = 1 << 17
	calMask   = calN - 1
)

func newCalendar() *calendar {
	c := &calendar{wheel: hugepage.Make[list](calN), bits: make([]uint64, calN/64),
		fine: make([]list, fineN), fbits: make([]uint64, fineN/64), fcur: -1, free: -1}
	for i := range c.wheel {
		c.wheel[i] = list{head: -1, tail: -1}
	}
	for i := range c.fine {
		c.fine[i] = list{head: -1, tail: -1}
	}
	return c
}

func (c *calendar) len() int { return c.n }

func (c *calendar) push(it item) {
	c.n++
	b := int64(it.at) >> calShift
	switch {
	case b == c.cur:
		if f := int64(it.at) >> fineShift & fineMask; f > c.fcur {
			c.toFine(f, it)
		} else {
			c.now.push(it)
		}
	case b < c.cur:
		c.now.push(it) // before the bucket the wheel moved to (the run paused before it)
	case b < c.cur+calN:
		c.toWheel(b, it)
	default:
		c.over.push(it)
	}
}

// toWheel appends it to (absolute) bucket b of the wheel.
func (c *calendar) toWheel(b int64, it item) {
	i := b & calMask
	if c.wheel[i].head < 0 {
		c.bits[i>>6] |= 1 << (i & 63)
	}
	c.appendTo(&c.wheel[i], it)
}

// toFine appends it to fine bucket f of the current bucket.
func (c *calendar) toFine(f int64, it item) {
	if c.fine[f].head < 0 {
		c.fbits[f>>6] |= 1 << (f & 63)
	}
	c.appendTo(&c.fine[f], it)
}

func (c *calendar) appendTo(l *list, it item) {
	if l.head < 0 || l.n == chunkLen {
		k := c.newChunk()
		if l.head < 0 {
			l.head = k
		} else {
			c.next[l.tail] = k
		}
		l.tail, l.n = k, 0
	}
	c.chunk(l.tail).items[l.n] = it
	l.n++
}

func (c *calendar) chunk(k int32) *chunk { return &c.blocks[k/blockLen][k%blockLen] }

func (c *calendar) newChunk() int32 {
	k := c.free
	if k >= 0 {
		c.free = c.next[k]
	} else {
		k = int32(len(c.next))
		if k%blockLen == 0 {
			c.blocks = append(c.blocks, hugepage.Make[chunk](blockLen))
		}
		c.next = append(hugepage.Grow(c.next, blockLen), -1)
	}
	c.next[k] = -1
	return k
}

// take hands the items of list l to f, in order, frees its chunks and
// empties it.
func (c *calendar) take(l *list, f func(it *item)) {
	for k := l.head; k >= 0; {
		next := c.next[k]
		if next >= 0 {
			// Chunks are scattered, so the hardware does not see the stream
			// (10M storm: 240 s with this, 251 s without).
			prefetchChunk(c.chunk(next))
		}
		items := c.filled(l, k)
		for j := range items {
			f(&items[j])
		}
		c.next[k] = c.free
		c.free = k
		k = next
	}
	*l = list{head: -1, tail: -1}
}

// filled is the items of chunk k of list l: all of them but in the last.
func (c *calendar) filled(l *list, k int32) []item {
	if c.next[k] < 0 {
		return c.chunk(k).items[:l.n]
	}
	return c.chunk(k).items[:]
}

func prefetchChunk(ch *chunk) {
	p := unsafe.Pointer(ch)
	for off := uintptr(0); off < unsafe.Sizeof(*ch); off += 64 {
		prefetch.Line(unsafe.Add(p, off))
	}
}

// each calls f on every queued event, in no particular order.
func (c *calendar) each(f func(it *item)) {
	visit := func(l *list) {
		for k := l.head; k >= 0; k = c.next[k] {
			items := c.filled(l, k)
			for j := range items {
				f(&items[j])
			}
		}
	}
	for i := range c.wheel {
		visit(&c.wheel[i])
	}
	for i := range c.fine {
		visit(&c.fine[i])
	}
	for i := range c.now.h {
		f(&c.now.h[i])
	}
	for i := range c.over.h {
		f(&c.over.h[i])
	}
}

// peek returns the next event without removing it (nil when empty).
func (c *calendar) peek() *item {
	if c.n == 0 {
		return nil
	}
	if c.now.len() == 0 {
		c.advance()
	}
	return &c.now.h[0]
}

func (c *calendar) pop() item {
	if c.now.len() == 0 {
		c.advance()
	}
	c.n--
	return c.now.pop()
}

// advance makes the next non-empty fine bucket current, turning the wheel
// to the next non-empty bucket when the current one is drained. The queue
// must not be empty.
func (c *calendar) advance() {
	for {
		if f := nextBit(c.fbits, c.fcur+1); f >= 0 {
			c.fcur = f
			c.take(&c.fine[f], func(it *item) { c.now.push(*it) })
			c.fbits[f>>6] &^= 1 << (f & 63)
			return
		}
		c.turn()
	}
}

// turn moves the wheel to the next non-empty bucket and splits it into
// fine buckets.
func (c *calendar) turn() {
	next := c.nextBucket()
	if c.over.len() > 0 {
		if ob := int64(c.over.h[0].at) >> calShift; next < 0 || ob < next {
			next = ob
		}
	}
	c.cur, c.fcur = next, -1
	for c.over.len() > 0 && int64(c.over.h[0].at)>>calShift < c.cur+calN {
		it := c.over.pop()
		if b := int64(it.at) >> calShift; b == c.cur {
			c.toFine(int64(it.at)>>fineShift&fineMask, it)
		} else {
			c.toWheel(b, it)
		}
	}
	if n := cap(c.over.h); n > 1<<16 && len(c.over.h) < n/8 {
		// The overflow fills once (an outage queues timers past the
		// horizon) and drains; its slack would stay for the storm. Shrunk
		// to a quarter when an eighth is used, it is not reallocated back
		// and forth around one size.
		c.over.h = append(make([]item, 0, n/4), c.over.h...)
	}
	i := c.cur & calMask
	c.take(&c.wheel[i], func(it *item) { c.toFine(int64(it.at)>>fineShift&fineMask, *it) })
	c.bits[i>>6] &^= 1 << (i & 63)
}

// nextBit is the index of the first set bit at or after from in a bitmap
// (no wrap), or -1.
func nextBit(bm []uint64, from int64) int64 {
	for w := from >> 6; w < int64(len(bm)); w++ {
		word := bm[w]
		if w == from>>6 {
			word &^= 1<<(from&63) - 1
		}
		if word != 0 {
			return w<<6 + int64(bits.TrailingZeros64(word))
		}
	}
	return -1
}

// nextBucket is the absolute index of the first non-empty bucket after
// cur within the horizon, or -1.
func (c *calendar) nextBucket() int64 {
	start := (c.cur + 1) & calMask
	for scanned := int64(0); scanned < calN; {
		w := start >> 6
		word := c.bits[w] >> (start & 63)
		if word != 0 {
			off := int64(bits.TrailingZeros64(word))
			if scanned+off >= calN {
				return -1
			}
			return c.cur + 1 + scanned + off
		}
		step := 64 - (start & 63)
		scanned += step
		start = (start + step) & calMask
	}
	return -1
}
