package gomemcache_test

import (
	"testing"

	"github.com/stormproof/stormproof/live/adapters/gomemcache"
	"github.com/stormproof/stormproof/live/livetest"
)

func TestRoundTrip(t *testing.T) { livetest.RoundTrip(t, gomemcache.Adapter, false) }

// Under the test scenario's storm and the default drop schedule the
// library delivers only to owners, calls time out (the run is exercised),
// and the witness agrees.
func TestHoldsUnderTheStorm(t *testing.T) { livetest.Holds(t, gomemcache.Adapter) }
