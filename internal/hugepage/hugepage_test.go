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

// Grow keeps the elements and makes room for one more, in place while
// there is room.
func TestGrowKeepsTheElements(t *testing.T) {
	var s []int32
	for i := range 3 * Size / 4 {
		s = append(Grow(s, 1024), int32(i))
		if cap(s) < 1024 {
			t.Fatalf("after %d appends: capacity %d, want at least 1024", i+1, cap(s))
		}
	}
	for i := range s {
		if s[i] != int32(i) {
			t.Fatalf("s[%d] = %d after growing", i, s[i])
		}
	}
	if g := Grow(s[:1:2], 4); cap(g) != 2 {
		t.Fatalf("Grow moved a slice with room: capacity %d, want 2", cap(g))
	}
}

// The advised run is whole huge pages, inside the slice, and as long as
// the slice allows.
func TestInnerStaysInside(t *testing.T) {
	for _, p := range []uintptr{0, 1, Size - 1, Size, Size + 4096, 7*Size + 123} {
		for _, n := range []uintptr{0, Size - 1, Size, 2*Size - 1, 2 * Size, 5*Size + 77} {
			off, length := inner(p, n)
			if length == 0 {
				// Nothing fits: no aligned huge page lies wholly inside.
				first := (p + Size - 1) &^ (Size - 1)
				if first+Size <= p+n {
					t.Errorf("inner(%#x, %#x): none, but [%#x, %#x) fits", p, n, first, first+Size)
				}
				continue
			}
			start := p + off
			if start%Size != 0 || length%Size != 0 || start < p || start+length > p+n {
				t.Errorf("inner(%#x, %#x) = %#x+%#x: not whole pages inside the slice", p, n, off, length)
			}
			if start+length+Size <= p+n || off >= Size {
				t.Errorf("inner(%#x, %#x) = %#x+%#x: another whole page fits", p, n, off, length)
			}
		}
	}
}
