// Package commands is stormproof's command-line tool: Main runs it. It
// only wires packages together; see the README for the commands. The
// command (cmd/stormproof) is Main with the client-library adapters of
// live; a program of one's own can call Main after registering its own
// cache clients and mitigations (docs/owndesign.md) or with its own
// adapters (docs/live.md).
package commands

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/stormproof/stormproof/internal/cli"
	"github.com/stormproof/stormproof/internal/version"
	"github.com/stormproof/stormproof/live/cache"
)

type command struct {
	name, synopsis string
	run            func(args []string) error
}

var commands []command

func register(c command) { commands = append(commands, c) }

func usage(w io.Writer) {
	fmt.Fprintf(w, "%s\n\nusage: stormproof COMMAND [ARGS]\n\ncommands:\n", version.Version)
	sort.Slice(commands, func(i, j int) bool { return commands[i].name < commands[j].name })
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.synopsis)
	}
	fmt.Fprintf(w, "  %-10s %s\n", "help", "stormproof help COMMAND: the command's usage and flags")
	fmt.Fprintf(w, "  %-10s %s\n", "version", "print the version")
	fmt.Fprintf(w, "\nexit status: 0 every promise holds, 1 one is violated, 2 bad input, 3 incomplete (a trace cut short,\n"+
		"a bounded search), 4 not exercised (live: the fault never bit), 130 and 143 interrupted by SIGINT and SIGTERM\n"+
		"(outputs of an interrupted run are not written)\n")
}

// adapters are the live client adapters Main was given.
var adapters []cache.Adapter

// Main runs the command line args (without the program's name) and
// returns the exit status; `stormproof live` drives the adapters given.
func Main(args []string, liveAdapters ...cache.Adapter) int {
	adapters = liveAdapters
	return run(args)
}

func run(args []string) int {
	switch {
	case len(args) == 0:
		usage(os.Stderr)
		return cli.ExitBadInput
	case args[0] == "help" && len(args) > 1:
		// stormproof help CMD is CMD --help: its usage on stdout, exit 0.
		args = []string{args[1], "--help"}
	case args[0] == "-h" || args[0] == "--help" || args[0] == "help":
		usage(os.Stdout)
		return cli.ExitOK
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Println(version.Version)
		return cli.ExitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return cli.Status(c.run(args[1:]))
		}
	}
	fmt.Fprintf(os.Stderr, "stormproof: unknown command %q%s (run stormproof help)\n", args[0], suggestCommand(args[0]))
	return cli.ExitBadInput
}

// suggestCommand names the command closest to name, if one is near.
func suggestCommand(name string) string {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	for _, c := range commands {
		fs.Bool(c.name, false, "")
	}
	if near := cli.Nearest(fs, name); near != "" {
		return fmt.Sprintf(": did you mean %s?", near)
	}
	return ""
}
