package statespace

import (
	"reflect"
	"testing"

	"github.com/stormproof/stormproof/model"
)

// The codec writes the model's state field by field; a field it does not
// know would be silently dropped, merging states that differ. This test
// fails when an actor's state type gains a field, so the codec (codec.go)
// is extended with it (or the field is listed here as constant per run).
func TestCodecKnowsEveryField(t *testing.T) {
	known := map[reflect.Type][]string{
		reflect.TypeFor[model.World]():      {"Env", "Cameras", "Gateway", "Workers", "Cache", "Registry", "Store", "Web", "Notifier", "Replica", "Reader"},
		reflect.TypeFor[model.Web]():        {"Shared", "Entry"},
		reflect.TypeFor[model.WebEntry]():   {"Present", "For", "Page"},
		reflect.TypeFor[model.Notifier]():   {"Defect", "Last"},
		reflect.TypeFor[model.Replica]():    {"Open", "Anon"},
		reflect.TypeFor[model.Reader]():     {"State", "Next", "Probes"},
		reflect.TypeFor[model.Camera]():     {"Profile", "State", "Attempt", "Retries", "Capturing", "Inflight", "Video", "Gen", "InflightSeq", "BufLo", "Next", "Stamp"},
		reflect.TypeFor[model.Gateway]():    {"Down", "Refilling", "Tokens"},
		reflect.TypeFor[model.Worker]():     {"Client", "Conns", "Waiting", "Slots", "Free", "TabOff"},
		reflect.TypeFor[model.PoolConn]():   {"State", "Gen", "Epoch", "Token", "Active", "Unread"},
		reflect.TypeFor[model.PendingReq](): {"Req", "Slot", "HasSlot"},
		reflect.TypeFor[model.Upload]():     {"Used", "Ev", "Owners"},
		reflect.TypeFor[model.Cache]():      {"Down", "Busy", "Epoch", "Queue", "Data"},
		reflect.TypeFor[model.CacheEntry](): {"Present", "Val", "Tomb"},
		reflect.TypeFor[model.Queued]():     {"From", "Conn", "Gen", "Req"},
		reflect.TypeFor[model.Registry]():   {"Owners", "Version"},
		reflect.TypeFor[model.Store]():      {"Next", "TabOff"},
		reflect.TypeFor[model.Msg]():        {"Type", "From", "Conn", "Gen", "Epoch", "Slot", "Account", "Ev", "Req", "Reply", "Owners", "Version", "Flag", "View"},
		reflect.TypeFor[model.CacheReq]():   {"Op", "Key", "Val", "Token"},
		reflect.TypeFor[model.CacheReply](): {"Op", "Key", "Token", "Found", "Val"},
		reflect.TypeFor[model.CacheValue](): {"Device", "Owners", "Version"},
		reflect.TypeFor[model.EventRef]():   {"Device", "Seq", "Video", "Stamp"},
		reflect.TypeFor[model.Owners]():     {"N", "IDs"},
	}
	for typ, names := range known {
		ok := map[string]bool{}
		for _, n := range names {
			ok[n] = true
		}
		for i := 0; i < typ.NumField(); i++ {
			if f := typ.Field(i); !ok[f.Name] {
				t.Errorf("model.%s has a field %s the state codec does not know", typ.Name(), f.Name)
			}
		}
	}
}
