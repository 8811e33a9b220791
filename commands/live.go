package commands

import (
	"github.com/stormproof/stormproof/live"
)

func init() {
	register(command{"live", "replay a scenario's storm against a real cache server and client library, and judge it", cmdLive})
}

// cmdLive is live.Command, the entry a program of its own reaches through
// live.Main: the subcommand and such a program cannot drift apart.
func cmdLive(args []string) error {
	return live.Command("stormproof live", args, adapters...)
}
