package livetest

import (
	"testing"

	"github.com/stormproof/stormproof/live/cache"
)

// The naive reference declares the naive pool, which leaks in the test
// storm's simulation as the library does live (commands'
// TestLiveNaiveEndToEnd runs the live side).
func TestNaiveDeclaresTheNaivePool(t *testing.T) {
	SameAsDeclared(t, cache.Naive, Scenario(t), true)
}
