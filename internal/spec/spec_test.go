package spec

import (
	"errors"
	"testing"
	"testing/fstest"

	"github.com/stormproof/stormproof/model"
)

// A value whose own decoder refuses it (a client or mitigation name) is
// named by file, line and field, as any other bad value is; the same
// document decodes the design the model's text forms give.
func TestDecodeNamesTheValueAtFault(t *testing.T) {
	type doc struct {
		Cloud model.Cloud `yaml:"cloud"`
		Note  string      `yaml:"note"`
	}
	for _, tc := range []struct {
		yaml, field string
		line        int
	}{
		{"note: tagged-ish\ncloud:\n  client: tagged-ish\n", "cloud.client", 3},
		{"cloud:\n  client: tagged\n  mitigations: [key-in-value, prayer]\n", "cloud.mitigations.1", 3},
		{"cloud:\n  mitigations:\n    - key-in-value\n    - prayer\n", "cloud.mitigations.1", 4},
	} {
		_, err := Decode("f.yaml", []byte(tc.yaml), &doc{})
		var e *Error
		if !errors.As(err, &e) || e.Line != tc.line || e.Field != tc.field {
			t.Errorf("%q: got %v; want line %d field %s", tc.yaml, err, tc.line, tc.field)
		}
	}
	var d doc
	if _, err := Decode("f.yaml", []byte("cloud:\n  client: discard-on-timeout\n  mitigations: [stamped-media, key-in-value]\n"), &d); err != nil {
		t.Fatal(err)
	}
	if d.Cloud.Client != model.DiscardOnTimeout || d.Cloud.Mitigations != model.MitigationSet(model.KeyInValue, model.StampedMedia) {
		t.Errorf("decoded %+v", d.Cloud)
	}
}

// Named finds an embedded document by name, a file by path, and answers a
// name cut short with the full one.
func TestNamed(t *testing.T) {
	fsys := fstest.MapFS{"d/web-2023-09.yaml": {Data: []byte("x: 1\n")}, "d/small.yaml": {Data: []byte("y: 2\n")}}
	file, data, err := Named(fsys, "d", "thing", "small")
	if err != nil || file != "builtin:small.yaml" || string(data) != "y: 2\n" {
		t.Errorf("embedded: %q %q %v", file, data, err)
	}
	if _, _, err := Named(fsys, "d", "thing", "web-2023"); err == nil || err.Error() != `unknown thing "web-2023" (did you mean web-2023-09?): not an embedded one (small, web-2023-09) and not a file path` {
		t.Errorf("cut short: %v", err)
	}
	if _, _, err := Named(fsys, "d", "thing", "/no/such.yaml"); err == nil || err.Error() != "/no/such.yaml: cannot read thing: no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
}
