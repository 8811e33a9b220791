package traces

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stormproof/stormproof/model"
)

// SCHEMA.md's table of kinds is the rule the reader keeps: a field without
// brackets is required, one in brackets is optional; the actor `a` is
// required for the kinds the "Reading rules" section lists. The table and
// the reader must say the same, kind by kind.
func TestSchemaRequiredFields(t *testing.T) {
	doc, err := os.ReadFile("SCHEMA.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\| ([^|]*) \\|")
	actor := map[string]bool{"cache-call": true, "cache-ret": true, "cache-close": true, "reg-call": true, "reg-ret": true, "lookup": true}
	seen := 0
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		kind, ok := model.ParseObsKind(m[1])
		if !ok {
			continue // a header field's row
		}
		seen++
		var want []string
		depth := 0
		for _, tok := range strings.FieldsFunc(m[2], func(r rune) bool { return r == ',' || r == ' ' }) {
			open := strings.Count(tok, "[")
			depth += open
			name := strings.Trim(tok, "[]")
			if depth == 0 && name != "" {
				want = append(want, name)
			}
			depth -= strings.Count(tok, "]")
		}
		if actor[m[1]] {
			want = append(want, "a")
		}
		got := RequiredFields(kind)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: the reader requires %v, SCHEMA.md says %v", m[1], got, want)
		}
	}
	if seen != len(model.ObsKinds()) {
		t.Errorf("SCHEMA.md's table has %d kinds, the model %d", seen, len(model.ObsKinds()))
	}
}

// fieldOf and fieldNames name the same bits.
func TestFieldOf(t *testing.T) {
	for i, n := range fieldNames {
		if fieldOf(n) != 1<<i {
			t.Errorf("fieldOf(%q) = %b, want bit %d", n, fieldOf(n), i)
		}
	}
	if fieldOf("t") != 0 || fieldOf("zzz") != 0 {
		t.Error("t and unknown keys have no bit")
	}
}
