package traces

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stormproof/stormproof/model"
)

// FuzzReader: any input is a trace read to its end, or an *Error that
// names the line it is about in one line of text — never a panic.
//
//	go test -run '^$' -fuzz FuzzReader -fuzztime 5m ./traces
func FuzzReader(f *testing.F) {
	for _, pattern := range []string{"../checker/testdata/*.jsonl", "../checker/testdata/bad/*.jsonl"} {
		files, _ := filepath.Glob(pattern)
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Engine: "sim", Devices: 2, Accounts: 2, Detail: "full"})
	if err != nil {
		f.Fatal(err)
	}
	for i, o := range samples() {
		if err := w.Write(model.Time(i), &o); err != nil {
			f.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte("\n")) + 1
		tr, err := NewReader(bytes.NewReader(data), "fuzz.jsonl")
		for err == nil {
			var ev Event
			err = tr.Next(&ev)
			if err == nil && tr.Line() > lines {
				t.Fatalf("read line %d of a %d-line input", tr.Line(), lines)
			}
		}
		if errors.Is(err, io.EOF) {
			return
		}
		var te *Error
		if !errors.As(err, &te) {
			t.Fatalf("not a *traces.Error: %T %v", err, err)
		}
		msg := err.Error()
		if strings.ContainsAny(msg, "\n\r") {
			t.Fatalf("error of more than one line: %q", msg)
		}
		// Line 0 is the empty input's: it has no line.
		if te.File != "fuzz.jsonl" || te.Line < 1 && len(data) > 0 || te.Line > lines || !strings.HasPrefix(msg, "fuzz.jsonl:") {
			t.Fatalf("error does not name the file and a line of the input: %q (line %d of %d)", msg, te.Line, lines)
		}
	})
}
