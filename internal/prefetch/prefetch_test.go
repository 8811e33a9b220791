package prefetch

import (
	"testing"
	"unsafe"
)

// A prefetch never faults and never changes memory.
func TestLineIsOnlyAHint(t *testing.T) {
	b := []uint64{1, 2, 3}
	Line(nil)
	Line(unsafe.Pointer(&b[1]))
	if b[0] != 1 || b[1] != 2 || b[2] != 3 {
		t.Fatalf("memory changed: %v", b)
	}
}

// BenchmarkRandomLine reads one random cache line of a 1 GiB table per
// iteration and does a little work with it, as an engine step does with an
// actor's entry: "none" waits for each line, "ahead" asks for the line
// 16 iterations early. The difference is what a hint can win on this
// machine; "none" alone is what one random read costs here.
func BenchmarkRandomLine(b *testing.B) {
	tab := make([]uint64, 1<<30/8)
	for i := range tab {
		tab[i] = uint64(i)
	}
	at := func(i int) int { return int(uint64(i) * 0x9e3779b97f4a7c15 >> 34 % uint64(len(tab))) }
	for _, ahead := range []int{0, 16} {
		name := "none"
		if ahead > 0 {
			name = "ahead"
		}
		b.Run(name, func(b *testing.B) {
			var sum uint64
			for i := 0; i < b.N; i++ {
				if ahead > 0 {
					Line(unsafe.Pointer(&tab[at(i+ahead)]))
				}
				v := tab[at(i)]
				for k := 0; k < 8; k++ {
					sum = sum*31 + v
				}
			}
			if sum == 1 {
				b.Log(sum)
			}
		})
	}
}
