// Package traces is stormproof's one trace format: a JSONL file whose first
// line is a header and whose other lines are events, from any engine. The
// schema is written down in SCHEMA.md beside this file.
package traces

import (
	"encoding/json"
	"fmt"

	"github.com/stormproof/stormproof/model"
)

// Schema and version of the format this package reads and writes. Readers
// accept any minor version of their major version (minor versions only add
// fields, which readers ignore) and reject other majors.
const (
	SchemaName   = "stormproof-trace"
	VersionMajor = 1
	VersionMinor = 4
)

// Version is the version string written into headers.
var Version = fmt.Sprintf("%d.%d", VersionMajor, VersionMinor)

// Header is the first line of a trace: everything needed to reproduce it.
type Header struct {
	Schema   string `json:"schema"`
	Version  string `json:"version"`
	Engine   string `json:"engine"` // sim | explore | live
	Scenario string `json:"scenario"`
	Seed     uint64 `json:"seed"`
	// Design is the cache client and mitigations ("naive-pool", "tagged+verify-on-view").
	Design   string `json:"design"`
	Devices  int    `json:"devices"`
	Accounts int    `json:"accounts"`
	// Detail is "full" (every event of the run) or "slice" (only the events
	// around violations; NoSilentLoss cannot be judged from it).
	Detail string `json:"detail"`
	// Authorized is the authorization rule the trace is judged by
	// ("capture", "capture-or-delivery"; "" or absent: "capture"), see
	// model.AuthRule.
	Authorized string `json:"authorized,omitempty"`
	// Options is the engine's whole configuration, expanded (for the
	// simulator: the resolved scenario with its profiles).
	Options json.RawMessage `json:"options,omitempty"`
	// Tool is the stormproof version that wrote the trace.
	Tool string `json:"tool"`
	// Reproduce is the command that writes this trace again.
	Reproduce string `json:"reproduce,omitempty"`
}

// Event is one line after the header: an observation at virtual time T
// (nanoseconds since the start of the run).
type Event struct {
	T   model.Time
	Obs model.Obs
}

// Error is a malformed trace: it names the line.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.File != "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}
