package history

import (
	"os"
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"
)

// The JSONL example of docs/history.md is linearizable, as the page says.
func TestDocsExample(t *testing.T) {
	b, err := os.ReadFile("../../docs/history.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "```json\n{\"schema\":\"stormproof-history\",\"version\":\"1.0\",\"model\":\"register\"}\n{")
	if start < 0 {
		t.Fatal("docs/history.md: the JSONL example is gone")
	}
	text := doc[start+len("```json\n"):]
	text = text[:strings.Index(text, "```")]
	r := check(t, "register", text)
	if r.Verdict != porcupine.Ok || r.Ops != 5 {
		t.Fatalf("the example: %s on %d operations, the page says linearizable, 5 operations", r.Verdict, r.Ops)
	}
}
