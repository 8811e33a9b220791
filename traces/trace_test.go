package traces

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stormproof/stormproof/model"
)

// One observation of every kind, with the fields its kind carries.
func samples() []model.Obs {
	own := model.MakeOwners(3, 4)
	val := model.CacheValue{Device: 7, Owners: own, Version: 2}
	cam := model.CameraAddr(7)
	w := model.WorkerAddr(1)
	return []model.Obs{
		{Kind: model.ObsOwn, Actor: model.RegistryAddr, Device: 7, Owners: own, Version: 2},
		{Kind: model.ObsCapture, Actor: cam, Device: 7, Seq: 5, Flag: true},
		{Kind: model.ObsDrop, Actor: cam, Device: 7, Seq: 1, Reason: model.ReasonBufferFull},
		{Kind: model.ObsConnTry, Actor: cam, Device: 7, Gen: 9},
		{Kind: model.ObsConnOK, Actor: cam, Device: 7, Gen: 9},
		{Kind: model.ObsConnReject, Actor: cam, Device: 7, Gen: 9},
		{Kind: model.ObsLinkDown, Actor: cam, Device: 7, Reason: model.ReasonOutage},
		{Kind: model.ObsSleep, Actor: cam, Device: 7},
		{Kind: model.ObsUpload, Actor: cam, Device: 7, Seq: 5, Gen: 1},
		{Kind: model.ObsCacheCall, Actor: w, Conn: 2, Gen: 3, Token: 4, Op: model.OpSet, Key: 7, Val: val},
		{Kind: model.ObsCacheRet, Actor: w, Conn: 2, Gen: 3, Token: 5, Op: model.OpGet, Key: 8, Outcome: model.OutHit, Val: val, ReplyOf: 4, ReplyKey: 7},
		{Kind: model.ObsCacheRet, Actor: w, Conn: 2, Gen: 3, Token: 6, Op: model.OpGet, Key: 8, Outcome: model.OutTimeout, Reason: model.ReasonTimeout},
		{Kind: model.ObsCacheClose, Actor: w, Conn: 2, Gen: 3, Reason: model.ReasonTokenMismatch},
		{Kind: model.ObsCacheServe, Actor: model.CacheAddr, Peer: w, Conn: 2, Gen: 3, Token: 4, Op: model.OpGet, Key: 7, Flag: true, Val: val},
		{Kind: model.ObsRegCall, Actor: w, Slot: 11, Key: 7},
		{Kind: model.ObsRegRet, Actor: w, Slot: 11, Key: 7, Owners: own, Version: 2},
		{Kind: model.ObsLookup, Actor: w, Device: 8, Seq: 1, Slot: 11, Outcome: model.OutRegistry, Owners: own, Version: 2},
		{Kind: model.ObsStore, Actor: model.StoreAddr, Device: 7, Seq: 5, Flag: true},
		{Kind: model.ObsDeliver, Actor: model.AppAddr(3), Device: 7, Seq: 5, Account: 3},
		{Kind: model.ObsRefused, Actor: w, Device: 7, Seq: 5, Account: 9, Reason: model.ReasonStampMismatch},
		{Kind: model.ObsTap, Actor: model.AppAddr(3), Device: 7, Seq: 5, Account: 3, View: model.ViewVideo},
		{Kind: model.ObsView, Actor: model.StoreAddr, Device: 7, Seq: 5, Account: model.NoAccount, View: model.ViewEnlarged},
		{Kind: model.ObsViewRefused, Actor: model.StoreAddr, Device: 7, Seq: 5, Account: 9, View: model.ViewVideo, Reason: model.ReasonRegistryDenied},
		{Kind: model.ObsFault, Actor: model.EngineAddr, Fault: model.Fault{Kind: model.FaultTransfer, Device: 7, Owners: own}, Device: 7, Owners: own},
		{Kind: model.ObsEnd, Actor: model.EngineAddr, Flag: true},
		{Kind: model.ObsWitness, Actor: model.EngineAddr, Device: 7, Seq: 5, Account: 3},
		// 1.2: the other incidents.
		{Kind: model.ObsFault, Actor: model.EngineAddr, Fault: model.Fault{Kind: model.FaultLogin, Account: 4, Session: 12}, Account: 4, Slot: 12},
		{Kind: model.ObsFault, Actor: model.EngineAddr, Fault: model.Fault{Kind: model.FaultWebShared}},
		{Kind: model.ObsWebLookup, Actor: model.WebAddr, Slot: 12, Account: 4, Device: 7, Outcome: model.OutCache, Owners: model.MakeOwners(3), Flag: true, Reason: model.ReasonKeyMismatch},
		{Kind: model.ObsStream, Actor: model.WebAddr, Slot: 12, Device: 7, Account: 4},
		{Kind: model.ObsStreamRefused, Actor: model.WebAddr, Slot: 12, Device: 7, Account: 4, Reason: model.ReasonStampMismatch},
		{Kind: model.ObsNotify, Actor: model.NotifierAddr, Device: 7, Seq: 5, Owners: model.MakeOwners(3), To: model.MakeOwners(4, 1), Flag: true},
		{Kind: model.ObsRead, Actor: model.ReplicaAddr, Slot: 3, Account: model.NoAccount, Owners: model.MakeOwners(3), Fields: model.FieldEmail | model.FieldSSID | model.FieldToken},
		{Kind: model.ObsReadRefused, Actor: model.ReplicaAddr, Slot: 3, Account: model.NoAccount, Reason: model.ReasonAuthRequired},
		{Kind: model.ObsAlarm, Actor: model.ReplicaAddr, Slot: 100},
		{Kind: model.ObsConfigRefused, Actor: model.ReplicaAddr, Fault: model.Fault{Kind: model.FaultReplicaAuthOff}, Reason: model.ReasonNoSecondApproval},
	}
}

// Every event kind has a sample, so the round trip covers the whole format.
func TestSamplesCoverEveryKind(t *testing.T) {
	seen := map[model.ObsKind]bool{}
	for _, o := range samples() {
		seen[o.Kind] = true
	}
	for _, k := range model.ObsKinds() {
		if !seen[k] {
			t.Errorf("no sample of event kind %s", k)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Engine: "sim", Scenario: "x", Devices: 10, Accounts: 10})
	if err != nil {
		t.Fatal(err)
	}
	in := samples()
	for i := range in {
		if err := w.Write(model.Time(i*1000), &in[i]); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	r, err := NewReader(&buf, "x.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if r.Header.Schema != SchemaName || r.Header.Version != Version || r.Header.Devices != 10 {
		t.Fatalf("header %+v", r.Header)
	}
	out, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("read %d events, wrote %d", len(out), len(in))
	}
	for i := range in {
		if out[i].T != model.Time(i*1000) || out[i].Obs != in[i] {
			t.Errorf("event %d (%s):\nwrote %+v\nread  %+v", i, in[i].Kind, in[i], out[i].Obs)
		}
	}
}

func TestReaderErrorsNameTheLine(t *testing.T) {
	head := `{"schema":"stormproof-trace","version":"1.0","engine":"sim","devices":2,"accounts":2}` + "\n"
	for _, c := range []struct{ name, text, want string }{
		{"empty", "", "t.jsonl:0: empty trace"},
		{"no header", `{"t":0,"k":"capture","a":"cam0","dev":0,"seq":0}` + "\n", "t.jsonl:1: missing header"},
		{"major version", strings.Replace(head, `"1.0"`, `"2.0"`, 1), `t.jsonl:1: unsupported trace version "2.0"`},
		{"unknown kind", head + `{"t":0,"k":"teleport","a":"cam0"}` + "\n", `t.jsonl:2: unknown event kind "teleport"`},
		{"truncated", head + `{"t":0,"k":"capture","a":"cam0","dev":0,"se`, "t.jsonl:2: truncated line"},
		{"malformed", head + `{"t":0,"k":"capture","a":"cam0","dev":0,"se` + "\n", "t.jsonl:2: malformed JSON"},
		{"out of order", head + `{"t":5,"k":"sleep","a":"cam0","dev":0}` + "\n" + `{"t":4,"k":"sleep","a":"cam0","dev":0}` + "\n", "t.jsonl:3: event at t=4 is before the previous event"},
		{"bad value", head + `{"t":0,"k":"capture","a":"cam0","dev":-1,"seq":0}` + "\n", `t.jsonl:2: field "dev": bad value`},
		{"no time", head + `{"k":"sleep","a":"cam0","dev":0}` + "\n", "t.jsonl:2: event without a time"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(c.text), "t.jsonl")
			if err == nil {
				_, err = r.ReadAll()
			}
			var te *Error
			if !errors.As(err, &te) || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v, want one line starting %q", err, c.want)
			}
		})
	}
}

// A minor version's new fields are skipped, not rejected.
func TestReaderSkipsUnknownFields(t *testing.T) {
	text := `{"schema":"stormproof-trace","version":"1.7","engine":"live","devices":1,"accounts":1,"future":{"x":[1,2]}}` + "\n" +
		`{"t":3,"k":"capture","a":"cam0","dev":0,"seq":0,"colour":"red","nested":{"a":[1,{"b":"}"}]}}` + "\n"
	r, err := NewReader(strings.NewReader(text), "")
	if err != nil {
		t.Fatal(err)
	}
	var ev Event
	if err := r.Next(&ev); err != nil || ev.Obs.Kind != model.ObsCapture || ev.T != 3 {
		t.Fatalf("event %+v, %v", ev, err)
	}
	if err := r.Next(&ev); !errors.Is(err, io.EOF) {
		t.Fatalf("want EOF, got %v", err)
	}
}
