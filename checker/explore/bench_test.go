package explore

import (
	"testing"

	"github.com/stormproof/stormproof/model"
)

// BenchmarkExplore reports distinct states per second on the default
// configuration with the discard-on-timeout client (bounded at 500,000
// states, so one iteration takes a few seconds).
func BenchmarkExplore(b *testing.B) {
	cfg, err := Load(DefaultConfig)
	if err != nil {
		b.Fatal(err)
	}
	discard := model.DiscardOnTimeout
	if cfg, err = cfg.Override(&discard, 0); err != nil {
		b.Fatal(err)
	}
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
