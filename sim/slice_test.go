package sim

import (
	"bytes"
	"errors"
	"io"
	"testing"

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
