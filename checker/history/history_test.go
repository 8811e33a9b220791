package history

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stormproof/stormproof/traces"
)

const hdr = `{"schema":"stormproof-history","version":"1.0","model":"register"}` + "\n"

func check(t *testing.T, model, text string) *Result {
	t.Helper()
	h, err := Read(strings.NewReader(text), "h.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Lookup(model)
	if err := h.Conform(b); err != nil {
		t.Fatal(err)
	}
	return CheckWith(h, b.Model, Options{Timeout: 10 * time.Second, Explain: 5 * time.Second})
}

// The register's rules (docs/history.md), each as a history with the
// verdict the rule gives.
func TestRegisterRules(t *testing.T) {
	for _, c := range []struct {
		name, ops string
		want      porcupine.CheckResult
	}{
		{"a key starts as nil", `{"proc":0,"call":0,"ret":1,"op":"get","key":"a","val":null}`, porcupine.Ok},
		{"reading a value never written", `{"proc":0,"call":0,"ret":1,"op":"get","key":"a","val":"x"}`, porcupine.Illegal},
		{"a read after a set sees it", `{"proc":0,"call":0,"ret":1,"op":"set","key":"a","args":["x"]}
{"proc":1,"call":2,"ret":3,"op":"get","key":"a","val":"x"}`, porcupine.Ok},
		{"a stale read after a set returned", `{"proc":0,"call":0,"ret":1,"op":"set","key":"a","args":["x"]}
{"proc":1,"call":2,"ret":3,"op":"get","key":"a","val":null}`, porcupine.Illegal},
		{"keys are independent", `{"proc":0,"call":0,"ret":1,"op":"set","key":"a","args":["x"]}
{"proc":1,"call":2,"ret":3,"op":"get","key":"b","val":null}`, porcupine.Ok},
		{"del makes it nil", `{"proc":0,"call":0,"ret":1,"op":"set","key":"a","args":[7]}
{"proc":0,"call":2,"ret":3,"op":"del","key":"a"}
{"proc":1,"call":4,"ret":5,"op":"get","key":"a","val":null}`, porcupine.Ok},
		{"an integer is its decimal text", `{"proc":0,"call":0,"ret":1,"op":"set","key":"a","args":[7]}
{"proc":1,"call":2,"ret":3,"op":"get","key":"a","val":"7"}`, porcupine.Ok},
		{"overlapping calls may take either order", `{"proc":0,"call":0,"ret":10,"op":"set","key":"a","args":["x"]}
{"proc":1,"call":1,"ret":2,"op":"get","key":"a","val":"x"}
{"proc":2,"call":3,"ret":4,"op":"get","key":"a","val":null}`, porcupine.Illegal},
		{"an unknown set may take effect after it gave up", `{"proc":0,"call":0,"ret":1,"op":"set","key":"a","args":["x"],"out":"unknown"}
{"proc":1,"call":2,"ret":3,"op":"get","key":"a","val":null}
{"proc":1,"call":4,"ret":5,"op":"get","key":"a","val":"x"}`, porcupine.Ok},
		{"an unknown set (no ret) may never take effect", `{"proc":0,"call":0,"op":"set","key":"a","args":["x"]}
{"proc":1,"call":2,"ret":3,"op":"get","key":"a","val":null}`, porcupine.Ok},
		{"an unknown set cannot take effect before its call", `{"proc":1,"call":0,"ret":1,"op":"get","key":"a","val":"x"}
{"proc":0,"call":2,"op":"set","key":"a","args":["x"]}`, porcupine.Illegal},
		{"a failed set did not happen", `{"proc":0,"call":0,"ret":1,"op":"set","key":"a","args":["x"],"out":"fail"}
{"proc":1,"call":2,"ret":3,"op":"get","key":"a","val":"x"}`, porcupine.Illegal},
	} {
		t.Run(c.name, func(t *testing.T) {
			if r := check(t, "register", hdr+c.ops+"\n"); r.Verdict != c.want {
				t.Fatalf("verdict %s, want %s", r.Verdict, c.want)
			}
		})
	}
}

func TestCASAndKVRules(t *testing.T) {
	for _, c := range []struct {
		name, model, ops string
		want             porcupine.CheckResult
	}{
		{"cas swaps when it holds old", "cas-register", `{"proc":0,"call":0,"ret":1,"op":"write","args":[1]}
{"proc":0,"call":2,"ret":3,"op":"cas","args":[1,2]}
{"proc":0,"call":4,"ret":5,"op":"read","val":2}`, porcupine.Ok},
		{"a failed cas says it did not hold old", "cas-register", `{"proc":0,"call":0,"ret":1,"op":"write","args":[1]}
{"proc":0,"call":2,"ret":3,"op":"cas","args":[1,2],"out":"fail"}`, porcupine.Illegal},
		{"a cas on nil fails", "cas-register", `{"proc":0,"call":0,"ret":1,"op":"cas","args":[1,2],"out":"fail"}
{"proc":0,"call":2,"ret":3,"op":"read","val":null}`, porcupine.Ok},
		{"append concatenates", "kv", `{"proc":0,"call":0,"ret":1,"op":"append","key":"k","args":["ab"]}
{"proc":0,"call":2,"ret":3,"op":"append","key":"k","args":["c"]}
{"proc":1,"call":4,"ret":5,"op":"get","key":"k","val":"abc"}`, porcupine.Ok},
		{"a kv read of null read the empty string", "kv", `{"proc":1,"call":4,"ret":5,"op":"get","key":"k","val":null}`, porcupine.Ok},
		{"a kv key starts as the empty string", "kv", `{"proc":1,"call":4,"ret":5,"op":"get","key":"k","val":""}`, porcupine.Ok},
		{"put replaces", "kv", `{"proc":0,"call":0,"ret":1,"op":"append","key":"k","args":["ab"]}
{"proc":0,"call":2,"ret":3,"op":"put","key":"k","args":["c"]}
{"proc":1,"call":4,"ret":5,"op":"get","key":"k","val":"abc"}`, porcupine.Illegal},
	} {
		t.Run(c.name, func(t *testing.T) {
			text := strings.Replace(hdr, "register", c.model, 1) + c.ops + "\n"
			if r := check(t, c.model, text); r.Verdict != c.want {
				t.Fatalf("verdict %s, want %s", r.Verdict, c.want)
			}
		})
	}
}

// The first operation that does not fit is the stale read, and the prefix
// is the set before it.
func TestFirstBadAndPrefix(t *testing.T) {
	r := check(t, "register", hdr+`{"proc":0,"call":0,"ret":1,"op":"set","key":"a","args":["x"]}
{"proc":0,"call":2,"ret":3,"op":"set","key":"a","args":["y"]}
{"proc":1,"call":4,"ret":5,"op":"get","key":"a","val":"x"}
{"proc":1,"call":6,"ret":7,"op":"get","key":"a","val":"y"}
`)
	if r.Verdict != porcupine.Illegal || len(r.Illegal) != 1 {
		t.Fatalf("verdict %s, %d illegal keys", r.Verdict, len(r.Illegal))
	}
	p := r.Illegal[0]
	if p.Bad == nil || p.Bad.Line != 4 {
		t.Fatalf("first that does not fit: %+v, want line 4", p.Bad)
	}
	if len(p.Prefix) != 2 || p.Prefix[0].Line != 2 || p.Prefix[1].Line != 3 {
		t.Fatalf("prefix %v, want lines 2, 3", p.Prefix)
	}
}

// Bad input: one error naming the file, the line and what is wrong.
func TestBadInput(t *testing.T) {
	op := `{"proc":0,"call":0,"ret":1,"op":"get","key":"a","val":null}`
	for _, c := range []struct {
		name, text, model string
		line              int
		want              string
	}{
		{"not JSON", hdr + op + "\n{\"proc\":0,\n", "", 3, "not JSON"},
		{"no header", op + "\n", "", 1, "field schema"},
		{"another major version", `{"schema":"stormproof-history","version":"2.0"}` + "\n", "", 1, "major version 2"},
		{"missing call", hdr + `{"proc":0,"op":"get","val":null}` + "\n", "", 2, "field call: missing"},
		{"missing proc", hdr + `{"call":0,"ret":1,"op":"get","val":null}` + "\n", "", 2, "field proc: missing"},
		{"return before call", hdr + `{"proc":0,"call":5,"ret":4,"op":"get","val":null}` + "\n", "", 2, "field ret: returned at 4, before its call at 5"},
		{"duplicate id", hdr + `{"id":7,"proc":0,"call":0,"ret":1,"op":"get","val":null}` + "\n" + `{"id":7,"proc":0,"call":2,"ret":3,"op":"get","val":null}` + "\n", "", 3, "duplicate id 7 (first on line 2)"},
		{"field twice", hdr + `{"proc":0,"proc":1,"call":0,"ret":1,"op":"get","val":null}` + "\n", "", 2, `field "proc" given twice`},
		{"bad out", hdr + `{"proc":0,"call":0,"ret":1,"op":"get","val":null,"out":"maybe"}` + "\n", "", 2, "field out"},
		{"ok without ret", hdr + `{"proc":0,"call":0,"op":"get","val":null,"out":"ok"}` + "\n", "", 2, "field ret: missing"},
		{"a float time", hdr + `{"proc":0,"call":0.5,"ret":1,"op":"get","val":null}` + "\n", "", 2, "field call: want an integer time"},
		{"unknown op", hdr + `{"proc":0,"call":0,"ret":1,"op":"incr","key":"a"}` + "\n", "register", 2, `op: unknown operation "incr" for the register model`},
		{"wrong arity", hdr + `{"proc":0,"call":0,"ret":1,"op":"set","key":"a"}` + "\n", "register", 2, "args: set takes 1 argument(s), have 0"},
		{"a null argument", hdr + `{"proc":0,"call":0,"ret":1,"op":"set","key":"a","args":[null]}` + "\n", "register", 2, "args: argument 1 of set is null"},
		{"read without its value", hdr + `{"proc":0,"call":0,"ret":1,"op":"get","key":"a"}` + "\n", "register", 2, "val: missing"},
		{"a mix of formats", hdr + op + "\n" + `{:process 0, :type :invoke, :f :get, :key "0", :value nil}` + "\n", "", 3, "a line of format edn in a stormproof-history history"},
		{"a mix of formats (log first)", "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n" + op + "\n", "", 2, "a line of format stormproof-history in a jepsen-etcd-log history"},
		{"unrecognised", "hello\n", "", 1, "unrecognised format"},
		{"empty", "", "", 1, "empty"},
		{"a Jepsen line without its value", "INFO  jepsen.util - 0\t:invoke\t:read\n", "", 1, "not a Jepsen log line"},
		{"completion without invoke", "INFO  jepsen.util - 0\t:ok\t:read\t3\n", "", 1, "no operation in progress"},
		{"invoke twice", "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:invoke\t:write\t3\n", "", 2, "has not completed"},
		{"completion of another f", "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:write\t3\n", "", 2, "its operation in progress is :read"},
		{"bad cas value", "INFO  jepsen.util - 0\t:invoke\t:cas\t[3]\n", "", 1, "a cas takes [old new]"},
		{"edn unterminated string", `{:process 0, :type :invoke, :f :append, :key "0, :value nil}` + "\n", "", 1, "unterminated string"},
		{"edn missing process", `{:type :invoke, :f :append, :key "0", :value "x"}` + "\n", "", 1, ":process: missing"},
		{"edn unknown type", `{:process 0, :type :maybe, :f :get, :key "0", :value nil}` + "\n", "", 1, "type: want :invoke"},
		{"line too long", hdr + `{"proc":0,"call":0,"ret":1,"op":"set","key":"a","args":["` + strings.Repeat("x", MaxLine) + `"]}` + "\n", "", 2, "line longer than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, err := Read(strings.NewReader(c.text), "bad.jsonl")
			if err == nil && c.model != "" {
				b, _ := Lookup(c.model)
				err = h.Conform(b)
			}
			var te *traces.Error
			if !errors.As(err, &te) {
				t.Fatalf("error %v (%T), want a *traces.Error", err, err)
			}
			if te.File != "bad.jsonl" || te.Line != c.line || !strings.Contains(te.Msg, c.want) {
				t.Fatalf("error %q, want bad.jsonl:%d: …%s…", err, c.line, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
		})
	}
}

// Two concurrent sets, then two concurrent gets that each read one of
// them: not linearizable, with two longest partial linearizations of the
// same length (set a, set b, get b; set b, set a, get a).
const tiedPartials = hdr + `{"proc":0,"call":0,"ret":10,"op":"set","key":"k","args":["a"]}
{"proc":1,"call":0,"ret":10,"op":"set","key":"k","args":["b"]}
{"proc":2,"call":20,"ret":30,"op":"get","key":"k","val":"a"}
{"proc":3,"call":20,"ret":30,"op":"get","key":"k","val":"b"}
`

// Visualize writes the same bytes for the same history: porcupine hands out
// partial linearizations in map order, Check sorts them.
func TestVisualizeDeterministic(t *testing.T) {
	var first []byte
	for i := 0; i < 20; i++ {
		h, err := Read(strings.NewReader(tiedPartials), "tied.jsonl")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Lookup("register")
		r := CheckWith(h, b.Model, Options{Explain: 5 * time.Second})
		if r.Verdict != porcupine.Illegal {
			t.Fatalf("verdict %s, want Illegal", r.Verdict)
		}
		var buf bytes.Buffer
		if err := r.Visualize(&buf); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = buf.Bytes()
			continue
		}
		if !bytes.Equal(first, buf.Bytes()) {
			t.Fatalf("run %d wrote a different page (%d bytes against %d)", i, buf.Len(), len(first))
		}
	}
}

// A user's own model: a counter with incr and get, through the same API.
func TestOwnModel(t *testing.T) {
	text := `{"schema":"stormproof-history","version":"1.0"}
{"proc":0,"call":0,"ret":1,"op":"incr"}
{"proc":1,"call":2,"ret":3,"op":"read","val":1}
{"proc":1,"call":4,"ret":5,"op":"read","val":0}
`
	h, err := Read(strings.NewReader(text), "counter.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	counter := porcupine.Model{
		Init: func() any { return 0 },
		Step: func(s, in, out any) (bool, any) {
			n := s.(int)
			switch in.(*Input).Op {
			case "incr":
				return true, n + 1
			case "read":
				return out.(*Output).Value.S == strconv.Itoa(n), n
			}
			return false, n
		},
	}
	if r := Check(h, counter, time.Second); r.Verdict != porcupine.Illegal || r.Illegal[0].Bad.Line != 4 {
		t.Fatalf("verdict %s, want Illegal at line 4", r.Verdict)
	}
}
