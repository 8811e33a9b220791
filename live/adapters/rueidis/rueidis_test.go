package rueidis_test

import (
	"testing"

	"github.com/stormproof/stormproof/live/adapters/rueidis"
	"github.com/stormproof/stormproof/live/livetest"
)

func TestRoundTrip(t *testing.T) { livetest.RoundTrip(t, rueidis.Adapter, true) }

// Under the test scenario's storm and the default drop schedule the
// library delivers only to owners, calls time out (the run is exercised),
// and the witness agrees.
func TestHoldsUnderTheStorm(t *testing.T) { livetest.Holds(t, rueidis.Adapter) }

// The variant the adapter declares holds in the test storm's simulation,
// as the library must live (TestHoldsUnderTheStorm runs both).
func TestDeclaredVariantHolds(t *testing.T) {
	livetest.SameAsDeclared(t, rueidis.Adapter, livetest.Scenario(t), false)
}
