package sim

import (
	"math/bits"

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

// calendar is the engine's event queue: a timing wheel of buckets
// (calendar queue) in front of a 4-ary heap. Events within the wheel's
// horizon are appended to their bucket in O(1); only the bucket being
// drained is kept as a (small, cache-resident) heap, so the order is still
// exactly (time, sequence). Events beyond the horizon wait in an overflow
// heap and move into the wheel as it turns.
type calendar struct {
	buckets [][]item
	bits    []uint64 // non-empty buckets
	cur     int64    // absolute index of the bucket being drained
	now     queue    // the current bucket's events
	over    queue    // events beyond the horizon
	n       int
}

// bucketKeep is the largest bucket capacity kept for reuse after a bucket
// is drained. Every bucket keeps what it keeps, so this bounds the queue's
// idle memory at calN × bucketKeep items (16 MB); with 512 a 1M-camera run
// held 0.9 GB of empty bucket capacity.
const bucketKeep = 8

const (
	calShift = 24      // bucket width 2^24 ns ≈ 16.8 ms
	calN     = 1 << 16 // buckets: a horizon of ≈ 18 min
	calMask  = calN - 1
)

func newCalendar() *calendar {
	return &calendar{buckets: make([][]item, calN), bits: make([]uint64, calN/64)}
}

func (c *calendar) len() int { return c.n }

func (c *calendar) push(it item) {
	c.n++
	b := int64(it.at) >> calShift
	switch {
	case b <= c.cur:
		c.now.push(it)
	case b < c.cur+calN:
		i := b & calMask
		c.buckets[i] = append(c.buckets[i], it)
		c.bits[i>>6] |= 1 << (i & 63)
	default:
		c.over.push(it)
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

// advance makes the next non-empty bucket current.
func (c *calendar) advance() {
	next := c.nextBucket()
	if c.over.len() > 0 {
		if ob := int64(c.over.h[0].at) >> calShift; next < 0 || ob < next {
			next = ob
		}
	}
	c.cur = next
	for c.over.len() > 0 && int64(c.over.h[0].at)>>calShift < c.cur+calN {
		it := c.over.pop()
		if b := int64(it.at) >> calShift; b == c.cur {
			c.now.push(it)
		} else {
			i := b & calMask
			c.buckets[i] = append(c.buckets[i], it)
			c.bits[i>>6] |= 1 << (i & 63)
		}
	}
	i := c.cur & calMask
	for _, it := range c.buckets[i] {
		c.now.push(it)
	}
	if cap(c.buckets[i]) > bucketKeep {
		c.buckets[i] = nil // a burst's bucket: give the memory back
	} else {
		c.buckets[i] = c.buckets[i][:0]
	}
	c.bits[i>>6] &^= 1 << (i & 63)
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
