package model

import (
	"strings"
	"testing"
)

// A registered behaviour is a variant like the built-in ones: named,
// parsed, listed, and its fields are what the worker reads.
func TestRegisterClient(t *testing.T) {
	v, err := RegisterClient(ClientBehaviour{Name: "test-skipper", Mismatch: SkipMismatch, OwnReply: true})
	if err != nil {
		t.Fatal(err)
	}
	if v < 3 || v.String() != "test-skipper" || v.Behaviour().Mismatch != SkipMismatch || !v.Behaviour().OwnReply {
		t.Fatalf("registered %d: %q %+v", v, v, v.Behaviour())
	}
	var back ClientVariant
	if err := back.UnmarshalText([]byte("test-skipper")); err != nil || back != v {
		t.Errorf("parse: %v %v", back, err)
	}
	if cs := Clients(); cs[len(cs)-1] != v || cs[0] != NaivePool {
		t.Errorf("Clients() = %v", cs)
	}
	if err := (&Params{Design: Design{Client: v}}).Validate(); err != nil && strings.Contains(err.Error(), "client") {
		t.Errorf("a registered client is refused: %v", err)
	}
	for _, b := range []ClientBehaviour{{Name: "naive-pool"}, {Name: "test-skipper"}, {Name: "Bad_Name"}, {Name: ""}, {Name: "ok-name", Mismatch: 9}} {
		if _, err := RegisterClient(b); err == nil {
			t.Errorf("registered %+v", b)
		}
	}
	// The built-in three keep their behaviour.
	if b := NaivePool.Behaviour(); b.CloseOnTimeout || b.Mismatch != ReadAnyway || b.OwnReply {
		t.Errorf("naive-pool: %+v", b)
	}
	if b := DiscardOnTimeout.Behaviour(); !b.CloseOnTimeout || !b.OwnReply {
		t.Errorf("discard-on-timeout: %+v", b)
	}
	if b := Tagged.Behaviour(); b.CloseOnTimeout || b.Mismatch != CloseOnMismatch || !b.OwnReply {
		t.Errorf("tagged: %+v", b)
	}
}

// A registered mitigation switches on and off in a set like a built-in
// one, and only its rule refuses cached values.
func TestRegisterMitigation(t *testing.T) {
	m, err := RegisterMitigation(MitigationRule{Name: "test-odd-device", GuardsLookup: true,
		RejectCached: func(ev EventRef, v CacheValue) bool { return v.Device%2 == 1 }})
	if err != nil {
		t.Fatal(err)
	}
	var s Mitigations
	if err := s.UnmarshalText([]byte("key-in-value,test-odd-device")); err != nil || !s.Has(m) || !s.Has(KeyInValue) {
		t.Fatalf("parse: %v %v", s, err)
	}
	if !MitigationSet(m).GuardsLookup() || MitigationSet(VerifyOnView).GuardsLookup() || !MitigationSet(KeyInValue).GuardsLookup() {
		t.Error("GuardsLookup")
	}
	if !s.rejectsCached(EventRef{Device: 2}, CacheValue{Device: 3}) || s.rejectsCached(EventRef{Device: 2}, CacheValue{Device: 4}) ||
		MitigationSet(KeyInValue).rejectsCached(EventRef{Device: 2}, CacheValue{Device: 3}) {
		t.Error("rejectsCached")
	}
	never := func(EventRef, CacheValue) bool { return false }
	for _, r := range []MitigationRule{{Name: "key-in-value", RejectCached: never}, {Name: "events-tab-off", RejectCached: never},
		{Name: "no-hook"}, {Name: "Bad Name", RejectCached: never}} {
		if _, err := RegisterMitigation(r); err == nil {
			t.Errorf("registered %+v", r)
		}
	}
}

// A registry holds at most max entries; the list a reader holds does not
// change under it when one is added.
func TestRegistryBound(t *testing.T) {
	r := &registry[string]{kind: "thing", max: 2, name: func(s string) string { return s }}
	r.items.Store(&[]string{"a"})
	before := r.all()
	if _, err := r.add("b"); err != nil {
		t.Fatal(err)
	}
	if len(before) != 1 {
		t.Errorf("a reader's list changed: %v", before)
	}
	if _, err := r.add("c"); err == nil || !strings.Contains(err.Error(), "at most 2") {
		t.Errorf("third of two: %v", err)
	}
}
