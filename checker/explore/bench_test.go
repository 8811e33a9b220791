package explore

import "testing"

// BenchmarkExploreSmall reports distinct states per second on the default
// configuration (bounded, so one iteration takes a few seconds).
func BenchmarkExploreSmall(b *testing.B) {
	cfg, err := Load("small")
	if err != nil {
		b.Fatal(err)
	}
	var distinct uint64
	for i := 0; i < b.N; i++ {
		res, err := Run(cfg, Options{Search: SearchOptions{MaxStates: 300_000}})
		if err != nil {
			b.Fatal(err)
		}
		distinct += res.Search.Distinct
	}
	b.ReportMetric(float64(distinct)/b.Elapsed().Seconds(), "states/s")
}
