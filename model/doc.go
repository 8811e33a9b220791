// Package model is the specification stormproof checks: the actors of a
// camera fleet's event-delivery path as pure state machines, the design
// variants and mitigations as data, and the invariants as a monitor.
//
// Nothing here does I/O, reads a clock, starts a goroutine or draws
// randomness on its own. An actor's Step mutates only its own state value and
// reaches the world through a Ctx: send a message on a FIFO channel, set or
// cancel a timer, make a weighted choice, record an observation. The
// simulator (package sim) runs these actors at fleet scale with virtual time
// and seeded randomness; package model/statespace composes the very same Step
// functions into one transition system (FIFO channels and armed timers in
// place of time), whose every interleaving the explorer (package
// checker/explore) searches in a small configuration.
//
// The shape follows etcd's raft package: the state machine is pure and all
// effects are handed to the caller.
package model
