// Package membudget is the memory a command may plan to use: the default
// budget (a share of the machine's memory), sizes as people write them
// ("512MiB", "4GiB"), and a refusal that names what would need more.
//
// Every command that allocates by a number read from its input estimates
// the memory first and refuses, before allocating anything, what exceeds the
// budget (--max-mem).
package membudget

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// Share is the part of the machine's memory (or of the cgroup's limit,
// when lower) a command may plan to use by default: the rest is left to the
// operating system, the other programs and the estimate's error.
const Share = 0.75

// Default is the budget when --max-mem is not given.
func Default() uint64 {
	total := physical()
	if l := cgroupLimit(); l > 0 && l < total {
		total = l
	}
	if total == 0 {
		return 4 << 30 // neither figure readable: assumed
	}
	return uint64(float64(total) * Share)
}

// physical is MemTotal from /proc/meminfo, or 0.
func physical() uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseUint(fields[1], 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// cgroupLimit is the cgroup v2 memory.max of this process, or 0.
func cgroupLimit() uint64 {
	b, err := os.ReadFile("/sys/fs/cgroup/memory.max")
	if err != nil {
		return 0
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0 // "max": no limit
	}
	return v
}

// MaxSize is the largest size ParseSize accepts (1 PiB).
const MaxSize = 1 << 50

// ParseSize reads "512MiB", "4GiB", "100MB", "1e9" (bytes).
func ParseSize(s string) (uint64, error) {
	units := []struct {
		suffix string
		mult   float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"B", 1}}
	mult := 1.0
	num := strings.TrimSpace(s)
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSuffix(num, u.suffix), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 || v*mult < 1 || v*mult > MaxSize {
		return 0, fmt.Errorf("want a size from 1B to 1PiB such as 512MiB or 4GiB, got %q", s)
	}
	return uint64(v * mult), nil
}

// Format writes a byte count for a person: "6.9 GB".
func Format(b float64) string {
	switch {
	case b >= 1e12:
		return fmt.Sprintf("%.1f TB", b/1e12)
	case b >= 1e9:
		return fmt.Sprintf("%.1f GB", b/1e9)
	case b >= 1e6:
		return fmt.Sprintf("%.0f MB", b/1e6)
	case b >= 1e3:
		return fmt.Sprintf("%.1f kB", b/1e3)
	}
	return fmt.Sprintf("%.0f B", b)
}

// Value is a --max-mem flag: a size, the default budget until set.
type Value struct {
	Bytes uint64
	set   bool
}

// NewValue returns a flag value holding the default budget.
func NewValue() *Value { return &Value{Bytes: Default()} }

func (v *Value) String() string {
	if v == nil {
		return ""
	}
	return Format(float64(v.Bytes))
}

// Set implements flag.Value.
func (v *Value) Set(s string) error {
	b, err := ParseSize(s)
	if err != nil {
		return err
	}
	v.Bytes, v.set = b, true
	return nil
}

// IsSet reports whether the flag was given.
func (v *Value) IsSet() bool { return v.set }
