// Package faults breaks the network between the service and its cache the
// way the 2024 outage did, reproducibly: an eBPF program on the loopback
// interface (TCX ingress) drops packets to the cache server's port during
// the windows of a schedule held in a BPF map. Outage windows drop every
// packet; loss bursts drop each packet with a probability. TCP retransmits
// what was dropped, so a request sent in a window reaches the server late
// and its reply arrives after the client's deadline: the late reply a
// naive pooled client hands to the wrong request.
package faults

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Window is a span of the run, as offsets from its start, during which
// packets to the server port are dropped with probability P (1: all).
type Window struct {
	From, To time.Duration
	P        float64
}

// Schedule is a sorted list of windows that do not overlap.
type Schedule []Window

// MaxWindows is how many windows the BPF map holds.
const MaxWindows = 64

// String is the form ParseSchedule reads: "FROM-TO[@P],...", or "none".
func (s Schedule) String() string {
	if len(s) == 0 {
		return "none"
	}
	parts := make([]string, len(s))
	for i, w := range s {
		parts[i] = w.From.String() + "-" + w.To.String()
		if w.P != 1 {
			parts[i] += "@" + strconv.FormatFloat(w.P, 'g', -1, 64)
		}
	}
	return strings.Join(parts, ",")
}

// ParseSchedule reads "FROM-TO[@P],..." (Go durations from the run's
// start; P the drop probability, default 1) or "none".
func ParseSchedule(text string) (Schedule, error) {
	text = strings.TrimSpace(text)
	if text == "none" || text == "" {
		return nil, nil
	}
	var s Schedule
	for i, part := range strings.Split(text, ",") {
		part = strings.TrimSpace(part)
		w := Window{P: 1}
		span, p, hasP := strings.Cut(part, "@")
		if hasP {
			v, err := strconv.ParseFloat(p, 64)
			if err != nil {
				return nil, fmt.Errorf("window %d %q: drop probability %q is not a number", i+1, part, p)
			}
			w.P = v
		}
		from, to, ok := strings.Cut(span, "-")
		if !ok {
			return nil, fmt.Errorf("window %d %q: want FROM-TO[@P], e.g. 40s-40.3s or 41s-43s@0.2", i+1, part)
		}
		var err error
		if w.From, err = time.ParseDuration(from); err != nil {
			return nil, fmt.Errorf("window %d %q: %v", i+1, part, err)
		}
		if w.To, err = time.ParseDuration(to); err != nil {
			return nil, fmt.Errorf("window %d %q: %v", i+1, part, err)
		}
		s = append(s, w)
	}
	return s, s.Validate()
}

// Validate checks that windows are sorted, disjoint, non-empty and few
// enough for the map, with probabilities in (0, 1].
func (s Schedule) Validate() error {
	if len(s) > MaxWindows {
		return fmt.Errorf("%d windows: at most %d", len(s), MaxWindows)
	}
	for i, w := range s {
		switch {
		case w.From < 0 || w.To <= w.From:
			return fmt.Errorf("window %d (%v-%v): need 0 ≤ from < to", i+1, w.From, w.To)
		case !(w.P > 0 && w.P <= 1):
			return fmt.Errorf("window %d (%v-%v): drop probability %g not in (0, 1]", i+1, w.From, w.To, w.P)
		case i > 0 && w.From < s[i-1].To:
			return fmt.Errorf("window %d (%v-%v) starts before window %d ends (%v): windows must be sorted and disjoint",
				i+1, w.From, w.To, i, s[i-1].To)
		}
	}
	return nil
}

// Storm is the default schedule around a reconnect storm that starts at
// offset at: in the first half of span, short outages (each longer than a
// 100 ms client deadline, spaced so TCP's retransmissions get through
// between them); in the second half, a 10% loss burst, which stalls
// connections one lost segment at a time. It is the same for every client
// so runs compare.
func Storm(at, span time.Duration) Schedule {
	// assumed: 250 ms outages every 700 ms (at most 8), then 10% loss —
	// chosen to straddle a 100 ms deadline and Linux's 200 ms minimum RTO.
	const outage, every, lossP = 250 * time.Millisecond, 700 * time.Millisecond, 0.1
	var s Schedule
	t := at
	for len(s) < 8 && t+outage <= at+span/2 {
		s = append(s, Window{From: t, To: t + outage, P: 1})
		t += every
	}
	if from := max(t, at+span/2); at+span-from >= 200*time.Millisecond {
		s = append(s, Window{From: from, To: at + span, P: lossP})
	}
	return s
}

// entry is one window as the BPF program reads it: CLOCK_MONOTONIC
// nanoseconds and a threshold for bpf_get_prandom_u32 (drop when below).
type entry struct {
	From, To, Thresh uint64
}

func (s Schedule) entries(base uint64) []entry {
	out := make([]entry, len(s))
	for i, w := range s {
		out[i] = entry{From: base + uint64(w.From), To: base + uint64(w.To), Thresh: uint64(w.P * (1 << 32))}
	}
	return out
}
