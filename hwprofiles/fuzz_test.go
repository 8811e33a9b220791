package hwprofiles

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var errLine = regexp.MustCompile(`^fuzz\.yaml(:(\d+))?: `)

// FuzzParse: any document is a valid profile or one line naming fuzz.yaml
// (and the line, when the error is on one) — never a panic.
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 5m ./hwprofiles
func FuzzParse(f *testing.F) {
	entries, err := builtin.ReadDir("profiles")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		data, err := builtin.ReadFile("profiles/" + e.Name())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("name: x # id\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err == nil {
			// An accepted profile converts to the model's.
			if p.Name == "" || p.ModelProfile().Name != p.Name {
				t.Fatalf("accepted %+v", p)
			}
			return
		}
		msg := err.Error()
		if strings.ContainsAny(msg, "\n\r") {
			t.Fatalf("error of more than one line: %q", msg)
		}
		m := errLine.FindStringSubmatch(msg)
		if m == nil {
			t.Fatalf("error does not start with the file name: %q", msg)
		}
		if m[2] != "" {
			n, _ := strconv.Atoi(m[2])
			if lines := strings.Count(string(data), "\n") + 1; n < 1 || n > lines {
				t.Fatalf("error names line %d of a %d-line document: %q", n, lines, msg)
			}
		}
	})
}
