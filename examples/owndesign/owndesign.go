// Package owndesign models a design stormproof does not ship, from outside
// the model: a cache client and a mitigation of its own, registered
// through model's public API and then explored, simulated and checked
// like the built-in ones (docs/owndesign.md).
package owndesign

import "github.com/stormproof/stormproof/model"

// PipelinedReuse is a pipelining client that matches replies to requests by
// request id, but after a timeout puts the connection back in the pool
// without draining it: the late reply is still on its way and the next call
// on that connection reads it first. Matching by id, the client drops a
// reply that is not its own and reads on. (Assumed: the shape of clients
// that tag requests, such as memcached's meta protocol with opaque tokens,
// combined with a pool that does not close timed-out connections.)
var PipelinedReuse = must(model.RegisterClient(model.ClientBehaviour{
	Name:     "pipelined-reuse",
	About:    "matches replies by request id, reuses a timed-out connection without draining it (assumed)",
	Mismatch: model.SkipMismatch,
	OwnReply: true,
}))

// OwnersInStamp refuses a cached owner set naming an account the camera
// did not stamp into the event when it captured it (the accounts it was
// bound to then): the worker asks the registry instead. (Assumed: a check
// a service can make when media carry their camera's bindings, as Wyze's
// VerifiedView does for views.)
var OwnersInStamp = must(model.RegisterMitigation(model.MitigationRule{
	Name:         "owners-in-stamp",
	About:        "a cached owner set must be within the event's stamp (assumed)",
	RejectCached: ownersInStamp,
	GuardsLookup: true,
}))

// ownersInStamp is true when v names an account outside ev's stamp.
func ownersInStamp(ev model.EventRef, v model.CacheValue) bool {
	for _, a := range v.Owners.Slice() {
		if !ev.Stamp.Has(a) {
			return true
		}
	}
	return false
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
