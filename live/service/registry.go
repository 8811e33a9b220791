package service

import (
	"sync"

	"github.com/stormproof/stormproof/model"
)

// Registry is the source of truth: device → owner set, versioned. Writes
// are recorded as `own` lines with their time taken under the lock, so the
// history of reads and writes is linearizable by construction.
type Registry struct {
	mu       sync.RWMutex
	owners   []model.Owners
	versions []uint32
	rec      *Recorder
}

// NewRegistry holds the initial ownership of every device and records it.
func NewRegistry(initial []model.Owners, rec *Recorder) *Registry {
	r := &Registry{owners: append([]model.Owners(nil), initial...), versions: make([]uint32, len(initial)), rec: rec}
	for d, o := range r.owners {
		rec.Add(0, model.Obs{Kind: model.ObsOwn, Actor: model.RegistryAddr, Device: model.DeviceID(d), Owners: o})
	}
	return r
}

// Devices is the fleet size.
func (r *Registry) Devices() int { return len(r.owners) }

// Read returns d's owners and version.
func (r *Registry) Read(d model.DeviceID) (model.Owners, uint32) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.owners[d], r.versions[d]
}

// Transfer gives d to new owners (a new version) and records it.
func (r *Registry) Transfer(d model.DeviceID, o model.Owners) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.versions[d]++
	r.owners[d] = o
	r.rec.Record(model.Obs{Kind: model.ObsOwn, Actor: model.RegistryAddr, Device: d, Owners: o, Version: r.versions[d]})
}
