package sim

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/traces"
)

// A slice trace is in time order even when cameras were fast-forwarded
// through the outage (their steps are reported after later events).
func TestSliceTraceInTimeOrder(t *testing.T) {
	s := load(t, DefaultScenario, Override{Scale: 0.05})
	var b bytes.Buffer
	res, err := Run(s, RunOptions{Trace: &b, Detail: "slice"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.ForeignThumbnails == 0 {
		t.Fatal("no violation: the slice is empty and shows nothing")
	}
	tr, err := traces.NewReader(&b, "slice")
	if err != nil {
		t.Fatal(err)
	}
	var ev traces.Event
	n := 0
	for {
		err := tr.Next(&ev)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err) // the reader rejects an event earlier than the one before
		}
		n++
	}
	if n < 10 {
		t.Fatalf("%d events in the slice", n)
	}
}

// readEvents reads a whole trace.
func readEvents(t *testing.T, b []byte) []traces.Event {
	t.Helper()
	tr, err := traces.NewReader(bytes.NewReader(b), "trace")
	if err != nil {
		t.Fatal(err)
	}
	var evs []traces.Event
	for {
		var ev traces.Event
		err := tr.Next(&ev)
		if errors.Is(err, io.EOF) {
			return evs
		}
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
}

// A slice trace keeps a followed event's lines whole, violated or not, as
// a full trace of the same run has them, and the cache replies read for
// its device: a re-run under a fix retells its fate from a slice.
func TestSliceKeepsFollowedEvents(t *testing.T) {
	naive := load(t, DefaultScenario, Override{Scale: 0.05})
	res, err := Run(naive, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.First[model.NoForeignDelivery]) == 0 {
		t.Fatal("no foreign delivery to follow")
	}
	v := res.First[model.NoForeignDelivery][0]
	e := model.EventRef{Device: v.Device, Seq: v.Seq}
	tagged := model.Tagged
	fixed := load(t, DefaultScenario, Override{Scale: 0.05, Client: &tagged})
	var full, slice bytes.Buffer
	if _, err := Run(fixed, RunOptions{Trace: &full, Detail: "full"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(fixed, RunOptions{Trace: &slice, Detail: "slice", Follow: []model.EventRef{e}}); err != nil {
		t.Fatal(err)
	}
	of := func(evs []traces.Event) (lines []traces.Event, rets int) {
		for _, ev := range evs {
			o := &ev.Obs
			switch {
			case o.Kind == model.ObsCacheRet && o.Key == e.Device:
				rets++
			case o.Device == e.Device && o.Seq == e.Seq && o.Kind != model.ObsOwn && o.Kind != model.ObsFault &&
				o.Kind != model.ObsCacheRet && o.Kind != model.ObsCacheCall && o.Kind != model.ObsCacheServe && o.Kind != model.ObsCacheClose:
				lines = append(lines, ev)
			}
		}
		return lines, rets
	}
	want, _ := of(readEvents(t, full.Bytes()))
	got, rets := of(readEvents(t, slice.Bytes()))
	if len(want) < 3 {
		t.Fatalf("the full trace has %d lines of event %d/%d", len(want), e.Device, e.Seq)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the slice keeps %d lines of event %d/%d, the full trace has %d:\n%v\n%v", len(got), e.Device, e.Seq, len(want), got, want)
	}
	if rets == 0 {
		t.Errorf("the slice keeps no cache reply read for device %d", e.Device)
	}
}
