package model

import (
	"math"
	"testing"

	"github.com/anishathalye/porcupine"
)

func TestCacheStep(t *testing.T) {
	v1 := CacheValue{Device: 1, Owners: MakeOwners(1), Version: 0}
	v2 := CacheValue{Device: 2, Owners: MakeOwners(2), Version: 0}
	empty := LinState{Known: true}
	full := LinState{Known: true, Present: true, Val: v1}
	tomb := LinState{Known: true, Tomb: 5}
	for _, tc := range []struct {
		name  string
		s     LinState
		in    LinIn
		out   LinOut
		ok    bool
		after LinState
	}{
		{"hit on the value", full, LinIn{Kind: LinGet}, LinOut{Outcome: OutHit, Val: v1}, true, full},
		{"hit on another key's value", full, LinIn{Kind: LinGet}, LinOut{Outcome: OutHit, Val: v2}, false, full},
		{"miss on a present key", full, LinIn{Kind: LinGet}, LinOut{Outcome: OutMiss}, false, full},
		{"miss on an empty key", empty, LinIn{Kind: LinGet}, LinOut{Outcome: OutMiss}, true, empty},
		{"timed-out get", full, LinIn{Kind: LinGet}, LinOut{Outcome: OutTimeout}, true, full},
		{"set stored", empty, LinIn{Kind: LinSet, Val: v1}, LinOut{Outcome: OutStored}, true, full},
		{"timed-out set applies", empty, LinIn{Kind: LinSet, Val: v1}, LinOut{Outcome: OutTimeout}, true, full},
		{"set below the tombstone stored", tomb, LinIn{Kind: LinSet, Val: v1}, LinOut{Outcome: OutStored}, false, tomb},
		{"set below the tombstone refused", tomb, LinIn{Kind: LinSet, Val: v1}, LinOut{Outcome: OutNotStored}, true, tomb},
		{"set refused without a tombstone", empty, LinIn{Kind: LinSet, Val: v1}, LinOut{Outcome: OutNotStored}, false, empty},
		{"restart empties", LinState{Known: true, Present: true, Val: v1, Tomb: 5}, LinIn{Kind: LinRestart}, LinOut{}, true, empty},
		{"unknown state learns from a hit", LinState{}, LinIn{Kind: LinGet}, LinOut{Outcome: OutHit, Val: v2},
			true, LinState{Known: true, Present: true, Val: v2, Loose: true}},
	} {
		ok, after := CacheStep(tc.s, tc.in, tc.out)
		if ok != tc.ok || (ok && after != tc.after) {
			t.Errorf("%s: got %v %+v, want %v %+v", tc.name, ok, after, tc.ok, tc.after)
		}
	}
	// The hash must tell apart states that differ in any one field (a field
	// left out of it would make porcupine's cache merge distinct states).
	base := LinState{Known: true, Present: true, Val: CacheValue{Device: 1, Owners: MakeOwners(1, 2), Version: 3}, Tomb: 2}
	variants := []LinState{base}
	for _, f := range []func(*LinState){
		func(s *LinState) { s.Known = false },
		func(s *LinState) { s.Present = false },
		func(s *LinState) { s.Loose = true },
		func(s *LinState) { s.Val.Device = 2 },
		func(s *LinState) { s.Val.Version = 4 },
		func(s *LinState) { s.Tomb = 3 },
		func(s *LinState) { s.Val.Owners = MakeOwners(1) },
		func(s *LinState) { s.Val.Owners = MakeOwners(1, 3) },
	} {
		v := base
		f(&v)
		variants = append(variants, v)
	}
	seen := map[uint64]int{}
	for i, v := range variants {
		h := HashLinState(v)
		if j, dup := seen[h]; dup {
			t.Errorf("states %+v and %+v hash alike", variants[j], v)
		}
		seen[h] = i
	}
	// Foreign types are an illegal step, never a panic.
	if ok, _ := CacheStep(42, "x", nil); ok {
		t.Error("CacheStep accepted foreign types")
	}
	if ok, _ := RegistryStep(LinState{}, 1, 2); ok {
		t.Error("RegistryStep accepted foreign types")
	}
}

func TestCacheModelWithPorcupine(t *testing.T) {
	v1 := CacheValue{Device: 1, Owners: MakeOwners(1)}
	v9 := CacheValue{Device: 9, Owners: MakeOwners(9)}
	meta := LinMeta{Key: 1}
	set := porcupine.Operation{ClientId: 0, Input: LinIn{Kind: LinSet, Val: v1}, Output: LinOut{Outcome: OutStored}, Call: 0, Return: 10, Metadata: meta}
	hit := func(v CacheValue, call, ret int64) porcupine.Operation {
		return porcupine.Operation{ClientId: 1, Input: LinIn{Kind: LinGet}, Output: LinOut{Outcome: OutHit, Val: v}, Call: call, Return: ret, Metadata: meta}
	}
	m := CacheModel()
	if !porcupine.CheckOperations(m, []porcupine.Operation{set, hit(v1, 20, 30)}) {
		t.Error("set then hit of the same value rejected")
	}
	// The naive pool's misread: key 1 returns key 9's value.
	if porcupine.CheckOperations(m, []porcupine.Operation{set, hit(v9, 20, 30)}) {
		t.Error("a hit with another device's value accepted")
	}
	// A timed-out SET (Return = MaxInt64) may take effect late: a hit of its
	// value long after is fine, and so is a miss (it never applied).
	late := porcupine.Operation{ClientId: 2, Input: LinIn{Kind: LinSet, Val: v1}, Output: LinOut{Outcome: OutTimeout}, Call: 0, Return: math.MaxInt64, Metadata: meta}
	miss := porcupine.Operation{ClientId: 1, Input: LinIn{Kind: LinGet}, Output: LinOut{Outcome: OutMiss}, Call: 5, Return: 6, Metadata: meta}
	if !porcupine.CheckOperations(m, []porcupine.Operation{late, miss, hit(v1, 100, 110)}) {
		t.Error("late timed-out set rejected")
	}
	// Partitioning by key: key 2's operations do not disturb key 1's.
	other := hit(v9, 20, 30)
	other.Metadata = LinMeta{Key: 2}
	if porcupine.CheckOperations(m, []porcupine.Operation{set, hit(v1, 20, 30), other}) {
		t.Error("key 2 read a value nobody wrote and was accepted")
	}
	if got := len(linPartition([]porcupine.Operation{set, other, hit(v1, 20, 30)})); got != 2 {
		t.Errorf("%d partitions, want 2", got)
	}
}
