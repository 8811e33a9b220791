package sim

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stormproof/stormproof/model"
)

// BenchmarkEngine runs the engine (actors, network, timers, no observers)
// and reports events per second and the mean number of pending events, so
// BenchmarkContainerHeapHold can be run with the same pending count:
//
//	go test ./sim -run '^$' -bench 'Engine|Hold' -benchmem
//
// "default" is the whole default scenario (10k cameras); "1m-10min" is the
// first ten simulated minutes of the one-million-camera scenario (about
// 1.9M pending events).
func BenchmarkEngine(b *testing.B) {
	for _, c := range []struct {
		name, scenario string
		until          time.Duration
	}{{"default", DefaultScenario, 0}, {"1m-10min", "wyze-2024-02-1m", 10 * time.Minute}} {
		b.Run(c.name, func(b *testing.B) {
			s, err := Load(c.scenario)
			if err != nil {
				b.Fatal(err)
			}
			plan, err := s.Build()
			if err != nil {
				b.Fatal(err)
			}
			until := model.Time(c.until)
			if until == 0 {
				until = model.Time(plan.Duration)
			}
			var events, pending uint64
			var samples int
			var busy time.Duration
			for b.Loop() {
				b.StopTimer()
				e, err := NewEngine(plan, s.Seed)
				if err != nil {
					b.Fatal(err)
				}
				e.FastForward = true
				e.Start()
				b.StartTimer()
				start := time.Now()
				for t := model.Time(0); t < until; {
					t = min(t+model.Time(time.Minute), until)
					e.Run(t)
					pending += uint64(e.Pending())
					samples++
				}
				busy += time.Since(start)
				events += e.Processed
			}
			b.ReportMetric(float64(events)/busy.Seconds(), "events/s")
			b.ReportMetric(float64(pending)/float64(samples), "pending")
		})
	}
}

// The hold benchmarks keep `pending` events queued and pop one, push one
// (the classic hold model) with exponential increments.
func holdIncrements(n int) []model.Time {
	r := rand.New(rand.NewPCG(1, 2))
	inc := make([]model.Time, n)
	for i := range inc {
		inc[i] = model.Time(r.ExpFloat64() * 1e9)
	}
	return inc
}

var holdSizes = []int{30_000, 1_900_000}

func BenchmarkCalendarHold(b *testing.B) {
	for _, n := range holdSizes {
		b.Run(fmt.Sprintf("pending=%d", n), func(b *testing.B) {
			inc := holdIncrements(1 << 16)
			q := newCalendar()
			var seq uint64
			for i := 0; i < n; i++ {
				seq++
				q.push(item{at: inc[i%len(inc)], seq: seq})
			}
			i := 0
			for b.Loop() {
				it := q.pop()
				seq++
				q.push(item{at: it.at + inc[i&(len(inc)-1)], seq: seq, to: it.to})
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// heapItem has the engine's item size (32 bytes), so the comparison moves
// as many bytes.
type heapItem struct {
	at  model.Time
	seq uint64
	to  model.Addr
	_   uint32
}
type bareHeap []heapItem

func (h bareHeap) Len() int { return len(h) }
func (h bareHeap) Less(i, j int) bool {
	return h[i].at < h[j].at || (h[i].at == h[j].at && h[i].seq < h[j].seq)
}
func (h bareHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *bareHeap) Push(x any)   { *h = append(*h, x.(heapItem)) }
func (h *bareHeap) Pop() any {
	old := *h
	n := len(old)
	x := old[n-1]
	*h = old[:n-1]
	return x
}

// BenchmarkContainerHeapHold is the baseline: a bare container/heap loop
// doing nothing but queueing.
func BenchmarkContainerHeapHold(b *testing.B) {
	for _, n := range holdSizes {
		b.Run(fmt.Sprintf("pending=%d", n), func(b *testing.B) {
			inc := holdIncrements(1 << 16)
			h := &bareHeap{}
			var seq uint64
			for i := 0; i < n; i++ {
				seq++
				heap.Push(h, heapItem{at: inc[i%len(inc)], seq: seq})
			}
			i := 0
			for b.Loop() {
				it := heap.Pop(h).(heapItem)
				seq++
				heap.Push(h, heapItem{at: it.at + inc[i&(len(inc)-1)], seq: seq, to: it.to})
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
