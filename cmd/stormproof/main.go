// Command stormproof checks whether a camera-fleet design can ever show one
// customer's event to someone who does not own the camera (README.md). It
// is package commands with the client libraries `stormproof live` tests;
// it is a module of its own so that the library requires none of them
// (cmd/stormproof/go.mod).
package main

import (
	"os"

	"github.com/stormproof/stormproof/commands"
	"github.com/stormproof/stormproof/live/adapters/gomemcache"
	"github.com/stormproof/stormproof/live/adapters/goredis"
	"github.com/stormproof/stormproof/live/adapters/rueidis"
)

func main() {
	os.Exit(commands.Main(os.Args[1:], goredis.Adapter, rueidis.Adapter, gomemcache.Adapter))
}
