package hugepage

import "testing"

// The hint changes nothing a program sees: Make is zeroed memory of the
// asked length, Clone an equal copy that does not share s's memory, for
// sizes below, at and beyond the huge page size.
func TestMakeAndCloneAreOrdinarySlices(t *testing.T) {
	for _, n := range []int{0, 1, 1000, Size / 8, 3 * Size / 8, 5*Size/8 + 3} {
		s := Make[uint64](n)
		if len(s) != n {
			t.Fatalf("Make(%d): length %d", n, len(s))
		}
		for i := range s {
			if s[i] != 0 {
				t.Fatalf("Make(%d)[%d] = %d, want 0", n, i, s[i])
			}
			s[i] = uint64(i) * 7
		}
		c := Clone(s)
		if len(c) != n {
			t.Fatalf("Clone of %d: length %d", n, len(c))
		}
		for i := range c {
			if c[i] != uint64(i)*7 {
				t.Fatalf("Clone(%d)[%d] = %d, want %d", n, i, c[i], i*7)
			}
		}
		if n > 0 {
			c[0] = 1
			if s[0] != 0 {
				t.Fatalf("Clone(%d) shares memory with its source", n)
			}
		}
	}
}
