package traces

import "github.com/stormproof/stormproof/model"

// Story is a causal slice: the chain of events across actors that led to
// one violation, each step with the reason it followed from the ones
// before (in the spirit of Elle's explained anomalies). It is plain data,
// so any engine's trace, checked by any judge, renders the same way.
type Story struct {
	// Invariant is the broken invariant; Violation says how, in one line.
	Invariant string     `json:"invariant"`
	Violation string     `json:"violation"`
	T         model.Time `json:"t"`
	// Headline names the mechanism in a sentence (connection, timed-out
	// request, misread reply), when the judge recognised one.
	Headline string `json:"headline,omitempty"`
	Steps    []Step `json:"steps"`
}

// Step is one link of a story.
type Step struct {
	T model.Time `json:"t"`
	// Line is the trace line it comes from (0: none).
	Line int `json:"line,omitempty"`
	// From is the acting actor; To the actor a message goes to ("" for a
	// step local to From).
	From string `json:"from"`
	To   string `json:"to,omitempty"`
	// Kind is the trace event kind.
	Kind string `json:"kind"`
	// What happened, and Because: why it happened, from the steps before.
	What    string `json:"what"`
	Because string `json:"because,omitempty"`
	// Violation marks the step that breaks the invariant.
	Violation bool `json:"violation,omitempty"`
}
