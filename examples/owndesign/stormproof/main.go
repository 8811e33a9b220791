// Command stormproof here is the stormproof command with this example's
// design registered: every command (run, explore, check, matrix, sweep …)
// knows pipelined-reuse and owners-in-stamp.
//
//	go run ./examples/owndesign/stormproof run examples/owndesign/storm.yaml
//	go run ./examples/owndesign/stormproof explore transfer --client pipelined-reuse --mitigate owners-in-stamp
package main

import (
	"os"

	"github.com/stormproof/stormproof/commands"
	_ "github.com/stormproof/stormproof/examples/owndesign" // registers the design
)

func main() { os.Exit(commands.Main(os.Args[1:])) }
