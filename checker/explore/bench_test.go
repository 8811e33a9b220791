package explore

import (
	"testing"

	"github.com/stormproof/stormproof/model"
)

// BenchmarkExplore reports distinct states per second on the default
// configuration with the discard-on-timeout client (bounded at 500,000
// states, so one iteration takes a few seconds).
func BenchmarkExplore(b *testing.B) {
	cfg := defaultWith(b, model.DiscardOnTimeout)
	var distinct uint64
	for i := 0; i < b.N; i++ {
		res, err := Run(cfg, Options{Search: SearchOptions{MaxStates: 500_000}})
		if err != nil {
			b.Fatal(err)
		}
		distinct += res.Search.Distinct
	}
	b.ReportMetric(float64(distinct)/b.Elapsed().Seconds(), "states/s")
}

// BenchmarkProveTagged is the whole proof of the tagged client in the
// default world, plain and with partial-order reduction: what --reduce
// pays where it is meant to be used (run with -benchmem; "states" is what
// each search stored).
func BenchmarkProveTagged(b *testing.B) {
	cfg := defaultWith(b, model.Tagged)
	for _, reduce := range []bool{false, true} {
		name := "plain"
		if reduce {
			name = "reduce"
		}
		b.Run(name, func(b *testing.B) {
			var states uint64
			for i := 0; i < b.N; i++ {
				res, err := Run(cfg, Options{Reduce: reduce})
				if err != nil {
					b.Fatal(err)
				}
				if !res.Search.Complete() {
					b.Fatalf("not complete: %+v", res.Search)
				}
				states = res.Search.Distinct
			}
			b.ReportMetric(float64(states), "states")
		})
	}
}

// defaultWith is the default configuration with client v.
func defaultWith(b *testing.B, v model.ClientVariant) *Config {
	cfg, err := Load(DefaultConfig)
	if err == nil {
		cfg, err = cfg.Override(&v, 0)
	}
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}
