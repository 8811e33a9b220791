package commands

import (
	"strings"

	"github.com/stormproof/stormproof/model"
)

// clientNames are the registered clients' names, for help texts (a program
// built on commands.Main may have registered its own).
func clientNames() string {
	var names []string
	for _, c := range model.Clients() {
		names = append(names, c.String())
	}
	return strings.Join(names, ", ")
}

// clientFlag is an optional --client: nil until given. Its value is read by
// the model's own parser, as scenario and explorer files are.
type clientFlag struct{ v *model.ClientVariant }

func (f *clientFlag) String() string {
	if f == nil || f.v == nil {
		return ""
	}
	return f.v.String()
}

// Set implements flag.Value.
func (f *clientFlag) Set(s string) error {
	var c model.ClientVariant
	if err := c.UnmarshalText([]byte(s)); err != nil {
		return err
	}
	f.v = &c
	return nil
}

// mitigateFlag is a repeatable --mitigate whose values may also be
// comma-separated; the switches add up.
type mitigateFlag model.Mitigations

func (f *mitigateFlag) String() string {
	if f == nil {
		return ""
	}
	return model.Mitigations(*f).String()
}

// Set implements flag.Value.
func (f *mitigateFlag) Set(s string) error {
	var m model.Mitigations
	if err := m.UnmarshalText([]byte(s)); err != nil {
		return err
	}
	*f |= mitigateFlag(m)
	return nil
}

func (f mitigateFlag) set() model.Mitigations { return model.Mitigations(f) }
