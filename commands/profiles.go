package commands

import (
	"flag"
	"fmt"
	"os"

	"github.com/stormproof/stormproof/hwprofiles"
	"github.com/stormproof/stormproof/internal/cli"
)

func init() {
	register(command{"profiles", "list and validate camera hardware profiles", cmdProfiles})
}

func cmdProfiles(args []string) error {
	fs := flag.NewFlagSet("profiles", flag.ContinueOnError)
	files, err := cli.Parse(fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			cli.Usage(os.Stdout, fs, "stormproof profiles [FILE...]  (lists the builtin profiles and validates the given files)")
		}
		return err
	}
	set, err := hwprofiles.NewSet(files...)
	if err != nil {
		return cli.Bad(err)
	}
	for _, n := range set.Names() {
		p := set[n]
		fmt.Printf("%s  %s\n", p.Summary(), p.File)
	}
	if len(files) > 0 {
		fmt.Printf("%d file(s) valid\n", len(files))
	}
	return nil
}
