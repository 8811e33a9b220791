package sim

import "github.com/stormproof/stormproof/model"

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
