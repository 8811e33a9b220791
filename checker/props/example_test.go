package props_test

import (
	"fmt"

	"github.com/stormproof/stormproof/checker/props"
	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/sim"
)

// A drawn scenario is an ordinary scenario: it runs in the simulator and
// is written out as a file a person reads and `stormproof run` runs. In a
// test the value comes from Draw on a *rapid.T (see CheckSafe); Example
// draws one outside a test, from a fixed seed.
func ExampleScenario() {
	gen := props.Scenario(props.Options{
		Clients:     []model.ClientVariant{model.NaivePool},
		Mitigations: []model.Mitigation{},
		Storm:       true,
		MaxCameras:  50,
	})
	s := gen.Example(20)
	out, err := props.Run(s)
	if err != nil {
		panic(err)
	}
	fmt.Println(out.Failures(model.NoForeignDelivery.String()))
	// Output:
	// design naive-pool in scenario rapid (seed 0): 12 cameras, 3 accounts, capture 28m0s of 58m0s, start connected, gateway down 13m0s–14m0s; cloud 2 worker(s) × 4 connection(s), cache timeout 50ms, cache op exp(mean 100ms):
	//   NoForeignDelivery VIOLATED 1 time(s), first at 20m21.440194384s: NoForeignDelivery: thumbnail of event 8/1 (device of accounts [0]) pushed to account 2
}

// What a design is expected to hold, and why: stamped-media keeps
// strangers out, but an owner whose lookup went wrong never gets the event
// and nothing records the loss.
func ExampleExpect() {
	s, err := sim.Load("wyze-2024-02")
	if err != nil {
		panic(err)
	}
	s, err = s.Apply(sim.Override{Mitigations: model.MitigationSet(model.StampedMedia)})
	if err != nil {
		panic(err)
	}
	for _, e := range props.Expect(s) {
		holds := "not claimed"
		if e.Holds {
			holds = "holds"
		}
		fmt.Printf("%-21s %s\n", e.Check, holds)
	}
	// Output:
	// NoForeignDelivery     holds
	// NoForeignView         holds
	// NoSilentLoss          not claimed
	// AtMostOnce            holds
	// NoForeignStream       holds
	// NoForeignRead         holds
	// CacheLinearizable     not claimed
	// RegistryLinearizable  holds
}
