package props

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

// SoakEnv names the environment variable that turns the quick budget into
// a long soak: "1" (or "true") soaks for DefaultSoak, a duration ("30m",
// "2h") for that long; unset, "" or "0" is the quick budget.
const SoakEnv = "STORMPROOF_SOAK"

// DefaultSoak is how long STORMPROOF_SOAK=1 soaks each property.
const DefaultSoak = 10 * time.Minute

// Budget bounds what the generators draw and how long a property runs.
type Budget struct {
	// Soak: run rounds of rapid checks until this much time is spent
	// (0: one round, the quick budget).
	Soak time.Duration
	// MaxCameras bounds the drawn fleet; MaxCapture the drawn capture
	// window (the run is that plus a drain to quiet).
	MaxCameras int
	MaxCapture time.Duration
}

// Quick is the default budget: runs of at most 200 cameras and an hour of
// capture, a few to a few tens of milliseconds each, so a property's 100
// checks take seconds.
var Quick = Budget{MaxCameras: 200, MaxCapture: time.Hour}

// soakBounds are the bounds of a soak: bigger fleets and longer runs.
var soakBounds = Budget{MaxCameras: 2000, MaxCapture: 4 * time.Hour}

// CurrentBudget is the budget the environment asks for (see SoakEnv).
func CurrentBudget() (Budget, error) {
	v := strings.TrimSpace(os.Getenv(SoakEnv))
	switch strings.ToLower(v) {
	case "", "0", "false":
		return Quick, nil
	case "1", "true":
		b := soakBounds
		b.Soak = DefaultSoak
		return b, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return Quick, fmt.Errorf("%s=%q: want 1 or a positive duration such as 30m", SoakEnv, v)
	}
	b := soakBounds
	b.Soak = d
	return b, nil
}

// fixedSeed reports whether -rapid.seed (or RAPID_SEED) pins the seed: a
// soak then runs one round, since every round would draw the same cases.
func fixedSeed() bool {
	f := flag.Lookup("rapid.seed")
	return f != nil && f.Value.String() != "0"
}
