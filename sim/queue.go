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
//
// A bucket is a list of fixed-size chunks taken from one free list, so
// memory follows the number of pending events and is reused as the wheel
// turns. (Growable per-bucket slices either kept every burst's capacity in
// every bucket — 0.9 GB at 1M cameras — or, dropped after a burst, were
// reallocated on the next: 15 GB of garbage in a 1M-camera run.)
type calendar struct {
	head   []int32   // per bucket: first chunk, -1 when empty
	tail   []int32   // per bucket: last chunk
	blocks [][]chunk // chunk k is blocks[k/blockLen][k%blockLen]
	nchunk int32
	free   int32    // first free chunk, -1 when none
	bits   []uint64 // non-empty buckets
	cur    int64    // absolute index of the bucket being drained
	now    queue    // the current bucket's events
	over   queue    // events beyond the horizon
	n      int
}

// chunkLen items per chunk: 512 bytes, and at most one partly filled
// chunk per bucket (32 MiB if every bucket of the wheel had one). Chunks
// are allocated in blocks, so the store grows without copying itself.
const (
	chunkLen = 16
	blockLen = 4096
)

type chunk struct {
	items [chunkLen]item
	n     int32
	next  int32
}

const (
	calShift = 24      // bucket width 2^24 ns ≈ 16.8 ms
	calN     = 1 << 16 // buckets: a horizon of ≈ 18 min
	calMask  = calN - 1
)

func newCalendar() *calendar {
	c := &calendar{head: make([]int32, calN), tail: make([]int32, calN), bits: make([]uint64, calN/64), free: -1}
	for i := range c.head {
		c.head[i] = -1
	}
	return c
}

func (c *calendar) len() int { return c.n }

func (c *calendar) push(it item) {
	c.n++
	b := int64(it.at) >> calShift
	switch {
	case b <= c.cur:
		c.now.push(it)
	case b < c.cur+calN:
		c.bucket(b&calMask, it)
	default:
		c.over.push(it)
	}
}

// bucket appends it to bucket i.
func (c *calendar) bucket(i int64, it item) {
	t := c.tail[i]
	if c.head[i] < 0 || c.chunk(t).n == chunkLen {
		k := c.newChunk()
		if c.head[i] < 0 {
			c.head[i] = k
			c.bits[i>>6] |= 1 << (i & 63)
		} else {
			c.chunk(t).next = k
		}
		c.tail[i], t = k, k
	}
	ch := c.chunk(t)
	ch.items[ch.n] = it
	ch.n++
}

func (c *calendar) chunk(k int32) *chunk { return &c.blocks[k/blockLen][k%blockLen] }

func (c *calendar) newChunk() int32 {
	k := c.free
	if k >= 0 {
		c.free = c.chunk(k).next
	} else {
		if c.nchunk%blockLen == 0 {
			c.blocks = append(c.blocks, make([]chunk, blockLen))
		}
		k = c.nchunk
		c.nchunk++
	}
	ch := c.chunk(k)
	ch.n, ch.next = 0, -1
	return k
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
			c.bucket(b&calMask, it)
		}
	}
	if n := cap(c.over.h); n > 1<<16 && len(c.over.h) < n/4 {
		// The overflow fills once (an outage queues every camera's timers
		// past the horizon) and drains; its slack would stay for the storm.
		c.over.h = append(make([]item, 0, n/2), c.over.h...)
	}
	i := c.cur & calMask
	for k := c.head[i]; k >= 0; {
		ch := c.chunk(k)
		for j := int32(0); j < ch.n; j++ {
			c.now.push(ch.items[j])
		}
		next := ch.next
		ch.next = c.free
		c.free = k
		k = next
	}
	c.head[i] = -1
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
