package membudget

import "testing"

func TestParseSize(t *testing.T) {
	good := map[string]uint64{"512MiB": 512 << 20, "4GiB": 4 << 30, "100MB": 100e6, "1e9": 1e9, "1.5G": 3 << 29, "1B": 1}
	for s, want := range good {
		if got, err := ParseSize(s); err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "NaN", "nanGiB", "InfGiB", "-1GiB", "0", "0.1B", "2PiB", "1e300", "many"} {
		if got, err := ParseSize(s); err == nil {
			t.Errorf("%q accepted as %d", s, got)
		}
	}
}

// The default budget is a share of some memory, never nothing.
func TestDefaultIsSomething(t *testing.T) {
	if d := Default(); d < 64<<20 {
		t.Errorf("default budget %d bytes", d)
	}
}
