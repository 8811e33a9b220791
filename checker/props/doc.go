// Package props holds stormproof's rapid generators and properties for
// users' CI: scenarios drawn from rapid (pgregory.net/rapid), and the
// assertions that judge a drawn scenario with the simulator and the
// checker.
//
//	func TestMyDesignIsSafe(t *testing.T) {
//		props.CheckSafe(t, props.Scenario(props.Options{
//			Clients: []model.ClientVariant{model.Tagged},
//		}))
//	}
//
// Every draw comes from rapid on the test's goroutine, so a failing
// scenario shrinks to a small one (few cameras and accounts, a short run,
// few faults), and a fail file (testdata/rapid/<Test>/) replays it exactly:
// a drawn scenario is a deterministic function of the draws, and the
// simulator a deterministic function of the scenario.
//
// It is a package of its own, not part of checker, because importing
// rapid registers its -rapid.* flags on the global flag set; the
// stormproof binary, which imports checker, should not carry them.
//
// What each design is expected to hold, and why, is the table in
// expect.go (Expect); docs/rapid.md explains it with the properties.
package props
