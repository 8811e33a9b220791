package livetest

import (
	"testing"

	"github.com/stormproof/stormproof/checker"
	"github.com/stormproof/stormproof/live"
	"github.com/stormproof/stormproof/live/cache"
)

// Every adapter registered in live/cache (the naive reference) does a real
// round trip: miss, set, hit, and an expired deadline is an error, never a
// result. The library adapters do the same in their modules' tests.
func TestAdaptersRoundTrip(t *testing.T) {
	for _, a := range cache.All() {
		t.Run(a.Name, func(t *testing.T) { RoundTrip(t, a, true) })
	}
}

// The naive reference declares the naive pool, which leaks in the test
// storm's simulation as the library does live (below).
func TestNaiveDeclaresTheNaivePool(t *testing.T) {
	SameAsDeclared(t, cache.Naive, Scenario(t), true)
}

// Under the default outage schedule the naive pooled client pushes events
// to strangers and its cache history is not linearizable (a GET answered
// with another key's value), and the witness agrees with the record. The
// client libraries hold under the same schedule: each adapter module's
// test (live/adapters/*, Holds).
func TestNaiveFailsUnderTheOutage(t *testing.T) {
	NeedLive(t, "redis")
	res, rep, path := Run(t, live.Options{Server: "redis", Client: "naive"})
	if res.PacketsDropped == 0 {
		t.Fatalf("the drop schedule %s dropped nothing", res.Drops)
	}
	if res.Stats.Timeouts == 0 {
		t.Fatal("no cache call timed out: the outage did not reach the client")
	}
	if v := rep.Verdict("NoForeignDelivery"); v == nil || !v.Judged || v.Count == 0 {
		t.Fatalf("naive: NoForeignDelivery %+v, want violated", v)
	}
	if v := rep.Verdict(checker.CacheLinearizable); v == nil || !v.Judged || v.Count == 0 {
		t.Fatalf("naive: cache history %+v, want not linearizable", v)
	}
	if n := ForeignHits(t, path); n == 0 {
		t.Fatal("naive: no GET in the trace returned another key's value")
	}
	if !res.Witness.Agree() || res.Witness.Seen == 0 {
		t.Fatalf("naive: witness %+v should agree with the record", res.Witness)
	}
	if ok, why := res.Exercised(); !ok {
		t.Fatalf("naive: not exercised: %s", why)
	}
}
