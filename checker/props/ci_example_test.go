package props_test

import (
	"testing"

	"github.com/stormproof/stormproof/checker/props"
	"github.com/stormproof/stormproof/model"
)

// The test of README.md's "Use it in your CI", as a user would copy it:
// one design (the tagged client, the cached owner invalidated on every
// transfer) in every world rapid draws — fleets and profile mixes, storms,
// cache outages, ownership transfers in half the runs, loss, boot storms.
// Cache restarts are left out: a cold restart forgets
// invalidate-on-transfer's tombstone (the explorer's finding,
// docs/explore.md), so this design does not claim them. It is judged by
// the lenient authorization rule: an event in flight across a sale may reach
// the buyer. Under the default rule (the footage belongs to the owner at
// capture) no cache design holds across a sale; stamped-media stops the push
// but the seller's event is then lost silently (docs/judge.md).
func TestIngestNeverShowsAStrangersCamera(t *testing.T) {
	props.CheckSafe(t, props.Scenario(ingestOptions()))
}

func ingestOptions() props.Options {
	faults := props.DefaultFaults()
	faults.CacheRestart = props.Site{}
	faults.Transfer.Active = 0.5
	return props.Options{
		Clients:      []model.ClientVariant{model.Tagged},
		Mitigations:  []model.Mitigation{}, // draw no other switch: exactly this design
		Always:       model.Mitigations(0).With(model.InvalidateOnTransfer),
		Faults:       &faults,
		NoRetransfer: true,
		Rule:         model.OwnerAtCaptureOrDelivery,
	}
}
