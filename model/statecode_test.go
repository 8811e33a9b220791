package model

import (
	"reflect"
	"testing"
)

// The codec writes the model's state field by field; a field it does not
// know would be silently dropped, merging states that differ. This test
// fails when an actor's state type gains a field, so the codec (codec.go)
// is extended with it (or the field is listed here as fixed per run).
func TestCodecKnowsEveryField(t *testing.T) {
	known := map[reflect.Type][]string{
		reflect.TypeFor[World]():      {"Env", "Cameras", "Gateway", "Workers", "Cache", "Registry", "Store", "Web", "Notifier", "Replica", "Reader"},
		reflect.TypeFor[Web]():        {"Shared", "Entry"},
		reflect.TypeFor[WebEntry]():   {"Present", "For", "Page"},
		reflect.TypeFor[Notifier]():   {"Defect", "Last"},
		reflect.TypeFor[Replica]():    {"Open", "Anon"},
		reflect.TypeFor[Reader]():     {"State", "Next", "Probes"},
		reflect.TypeFor[Camera]():     {"Profile", "State", "Attempt", "Retries", "Capturing", "Inflight", "Video", "Gen", "InflightSeq", "BufLo", "Next", "Stamp"},
		reflect.TypeFor[Gateway]():    {"Down", "Refilling", "Tokens"},
		reflect.TypeFor[Worker]():     {"Client", "Conns", "Waiting", "Slots", "Free", "TabOff"},
		reflect.TypeFor[PoolConn]():   {"State", "Gen", "Epoch", "Token", "Active", "Unread"},
		reflect.TypeFor[PendingReq](): {"Req", "Slot", "HasSlot"},
		reflect.TypeFor[Upload]():     {"Used", "Ev", "Owners"},
		reflect.TypeFor[Cache]():      {"Down", "Busy", "Epoch", "Queue", "Data"},
		reflect.TypeFor[CacheEntry](): {"Present", "Val", "Tomb"},
		reflect.TypeFor[Queued]():     {"From", "Conn", "Gen", "Req"},
		reflect.TypeFor[Registry]():   {"Owners", "Version"},
		reflect.TypeFor[Store]():      {"Next", "TabOff"},
		reflect.TypeFor[Msg]():        {"Type", "From", "Conn", "Gen", "Epoch", "Slot", "Account", "Ev", "Req", "Reply", "Owners", "Version", "Flag", "View"},
		reflect.TypeFor[CacheReq]():   {"Op", "Key", "Val", "Token"},
		reflect.TypeFor[CacheReply](): {"Op", "Key", "Token", "Found", "Val"},
		reflect.TypeFor[CacheValue](): {"Device", "Owners", "Version"},
		reflect.TypeFor[EventRef]():   {"Device", "Seq", "Video", "Stamp"},
		reflect.TypeFor[Owners]():     {"N", "IDs"},
	}
	for typ, names := range known {
		ok := map[string]bool{}
		for _, n := range names {
			ok[n] = true
		}
		for i := 0; i < typ.NumField(); i++ {
			if f := typ.Field(i); !ok[f.Name] {
				t.Errorf("%s has a field %s its AppendState/ReadState does not know", typ.Name(), f.Name)
			}
		}
	}
}
