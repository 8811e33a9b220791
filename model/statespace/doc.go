// Package statespace composes the model's actors into one transition
// system, the shape Stateright calls an actor model: a global state holds
// every actor's state (model.World), one FIFO channel per sender, receiver
// and cache-connection lane (model.Channels), the armed timers and what is
// left of the fault and premature-timeout budgets. A transition delivers a
// channel's head, fires a timer or injects a fault of the model's menu, and
// steps the model's own actors (World.Step, FaultTargets); both outcomes of
// a chance are successors. States are canonical byte strings: each actor
// writes its own section (AppendState, beside its type in package model),
// this package orders the sections, ranks equality-only counters and takes
// the least encoding over the world's symmetries. With Options.Reduce a
// state's successors are those of a stubborn set of its transitions
// (partial-order reduction, reduce.go), built from what the model declares
// about who may send to whom (World.MaySend, PrematureDeps).
//
// The explorer (package checker/explore) searches a System through its
// Initial and NewExpander; Replay turns the fingerprints of a path back into
// a counterexample with the real numbers and names. Like the model, this
// package does no I/O and keeps no clock.
package statespace
