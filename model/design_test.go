package model

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// A design value has one spelling in every form it is read or written in:
// flag text, JSON (trace headers) and the YAML of scenario and explorer
// files (decoded through the same methods; see internal/spec's tests).
func TestDesignTextForms(t *testing.T) {
	c := Cloud{Client: Tagged, Mitigations: MitigationSet(KeyInValue, BypassCacheOwnership), Workers: 2, PoolSize: 1}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"client":"tagged","mitigations":["bypass-cache-ownership","key-in-value"],"workers":2,"pool_size":1,"max_waiting":0,"admission_burst":0}`
	if string(b) != want {
		t.Errorf("JSON %s, want %s", b, want)
	}
	var back Cloud
	if err := json.Unmarshal(b, &back); err != nil || back != c {
		t.Errorf("JSON round trip %+v, %v", back, err)
	}
	// The empty set is written as a list, and null reads as the empty set.
	if b, _ := json.Marshal(Mitigations(0)); string(b) != "[]" {
		t.Errorf("empty set as JSON: %s", b)
	}
	var m Mitigations = 7
	if err := json.Unmarshal([]byte("null"), &m); err != nil || m != 0 {
		t.Errorf("null: %v, %v", m, err)
	}
	// The flag form: a comma-separated list, blanks ignored, the old
	// spelling of the kill switch accepted.
	if err := m.UnmarshalText([]byte(" key-in-value , events-tab-off")); err != nil || m != MitigationSet(KeyInValue, EventsTabOff) {
		t.Errorf("text: %v, %v", m, err)
	}
	if err := m.UnmarshalText(nil); err != nil || m != 0 {
		t.Errorf("empty text: %v, %v", m, err)
	}
	if txt, _ := MitigationSet(StampedMedia, VerifyOnView).MarshalText(); string(txt) != "verify-on-view,stamped-media" {
		t.Errorf("text form %q", txt)
	}
}

// A name that is none of a kind's is refused with the name and what there
// is; a value outside the kind cannot be written.
func TestDesignBadNames(t *testing.T) {
	var c ClientVariant
	err := c.UnmarshalText([]byte("naive"))
	var ne *NameError
	if !errors.As(err, &ne) || ne.BadText() != "naive" || !strings.Contains(err.Error(), "naive-pool, discard-on-timeout, tagged") {
		t.Errorf("bad client: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"client":"nope"}`), &Cloud{}); !errors.As(err, &ne) || ne.Name != "nope" {
		t.Errorf("bad client in JSON: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"mitigations":["key-in-value","prayer"]}`), &Cloud{}); !errors.As(err, &ne) || ne.Kind != "mitigation" {
		t.Errorf("bad mitigation in JSON: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"mitigations":"key-in-value"}`), &Cloud{}); err == nil {
		t.Error("a mitigation list given as a string was accepted")
	}
	if _, err := ClientVariant(200).MarshalText(); err == nil {
		t.Error("a client outside the kind was written")
	}
	if _, err := json.Marshal(Cloud{Client: 9}); err == nil {
		t.Error("a cloud with client 9 was written")
	}
}

// Check holds a cloud to an engine's limits; a zero limit is no bound.
func TestCloudCheck(t *testing.T) {
	ok := Cloud{Workers: 1, PoolSize: 1}
	lim := CloudLimits{Workers: 4, PoolSize: 4, MaxWaiting: 16, AdmissionBurst: 16}
	for _, tc := range []struct {
		c     Cloud
		lim   CloudLimits
		field string
	}{
		{ok, lim, ""},
		{Cloud{Workers: 5, PoolSize: 1}, lim, "cloud.workers"},
		{Cloud{Workers: 5000, PoolSize: 1}, CloudLimits{}, ""},
		{Cloud{Workers: 0, PoolSize: 1}, CloudLimits{}, "cloud.workers"},
		{Cloud{Workers: 1, PoolSize: 5}, lim, "cloud.pool_size"},
		{Cloud{Workers: 1, PoolSize: 1, MaxWaiting: -1}, lim, "cloud.max_waiting"},
		{Cloud{Workers: 1, PoolSize: 1, AdmissionBurst: 17}, lim, "cloud.admission_burst"},
		{Cloud{Workers: 1, PoolSize: 1, Mitigations: MitigationSet(GatewayAdmission)}, lim, "cloud.admission_burst"},
		{Cloud{Workers: 1, PoolSize: 1, Client: 200}, lim, "cloud.client"},
		{Cloud{Workers: 1, PoolSize: 1, Mitigations: 1 << 15}, lim, "cloud.mitigations"},
	} {
		if field, msg := tc.c.Check(tc.lim); field != tc.field {
			t.Errorf("%+v under %+v: field %q (%s), want %q", tc.c, tc.lim, field, msg, tc.field)
		}
	}
}
