package hwprofiles

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// Every float of a profile refuses NaN and both infinities, naming the
// file, the line and the field.
func TestEveryProfileFloatIsFinite(t *testing.T) {
	data, err := builtin.ReadFile("profiles/cam-v3.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"multiplier", "motion_per_hour", "clip_seconds", "stream_bytes_per_sec", "uplink_bytes_per_sec"} {
		re := regexp.MustCompile(`(?m)^(\s*)` + field + `:\s*[^#\s]+`)
		loc := re.FindIndex(data)
		if loc == nil {
			t.Fatalf("cam-v3.yaml has no %s", field)
		}
		line := strings.Count(string(data[:loc[0]]), "\n") + 1
		want := field
		if field == "multiplier" {
			want = "backoff.multiplier"
		}
		for _, v := range []string{".nan", ".inf", "-.inf", "1e999"} {
			doc := re.ReplaceAll(data, []byte("${1}"+field+": "+v))
			_, err := Parse("p.yaml", doc)
			if err == nil {
				t.Errorf("%s: %s accepted", field, v)
				continue
			}
			if prefix := fmt.Sprintf("p.yaml:%d: %s: ", line, want); !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("%s: %s: error %q, want it to start %q", field, v, err, prefix)
			}
		}
	}
}
