package history

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// logParser reads the two event formats of porcupine's test data, where an
// operation is an :invoke line and later a completion line of the same
// process: :ok (it returned), :fail (it did not happen; for a cas, the
// compare failed), :info (the outcome is unknown). A line's number is its
// time. A process runs one operation at a time.
type logParser struct {
	h     *History
	f     Format
	first int
	open  map[string]int // process → index in pending
	pend  []Op
	procs map[string]int
}

func newLogParser(h *History, f Format, first int) *logParser {
	return &logParser{h: h, f: f, first: first, open: map[string]int{}, procs: map[string]int{}}
}

// event is one line: process, type, function, key and value.
type event struct {
	proc, typ, f, key string
	hasKey            bool
	val               ednVal
	skip              bool // not a client's operation (a nemesis line)
}

func (p *logParser) line(b []byte, n int) error {
	var ev event
	var err error
	if p.f == Jepsen {
		ev, err = jepsenLine(b)
	} else {
		ev, err = ednLine(b)
	}
	if err != nil {
		return p.h.errf(n, "%v", err)
	}
	if ev.skip {
		return nil
	}
	h := p.h
	switch ev.typ {
	case "invoke":
		if i, busy := p.open[ev.proc]; busy {
			return h.errf(n, "process %s invokes :%s while its :%s of line %d has not completed (a process runs one operation at a time)", ev.proc, ev.f, p.pend[i].In.Op, p.pend[i].Line)
		}
		op := Op{Line: n, Process: ev.proc, Call: int64(n), Ret: Unknown, In: Input{Op: ev.f, Key: ev.key}}
		op.Client = h.client(ev.proc, p.procs)
		switch {
		case ev.f == "cas":
			if len(ev.val.vec) != 2 || ev.val.kind != ednVector {
				return h.errf(n, "value: a cas takes [old new], have %s", ev.val.text)
			}
			op.In.Arg, op.In.Arg2, op.NArgs = ev.val.vec[0].value(), ev.val.vec[1].value(), 2
		case ev.f == "read" || ev.f == "get":
			if ev.val.kind != ednNil {
				return h.errf(n, "value: a :%s is invoked with nil, have %s", ev.f, ev.val.text)
			}
		case ev.val.kind == ednVector:
			if len(ev.val.vec) > 2 {
				return h.errf(n, "value: %d arguments; an operation takes at most 2", len(ev.val.vec))
			}
			for i, a := range ev.val.vec {
				if i == 0 {
					op.In.Arg = a.value()
				} else {
					op.In.Arg2 = a.value()
				}
			}
			op.NArgs = len(ev.val.vec)
		case ev.val.kind == ednNil && ev.f == "del":
		case ev.val.kind == ednKeyword:
			return h.errf(n, "value: an :invoke of :%s with %s", ev.f, ev.val.text)
		default:
			op.In.Arg, op.NArgs = ev.val.value(), 1
		}
		p.open[ev.proc] = len(p.pend)
		p.pend = append(p.pend, op)
	case "ok", "fail", "info":
		i, busy := p.open[ev.proc]
		if !busy {
			return h.errf(n, "process %s completes :%s (:%s) but has no operation in progress", ev.proc, ev.f, ev.typ)
		}
		op := &p.pend[i]
		if op.In.Op != ev.f {
			return h.errf(n, "process %s completes :%s, but its operation in progress is :%s (line %d)", ev.proc, ev.f, op.In.Op, op.Line)
		}
		if ev.hasKey && ev.key != op.In.Key {
			return h.errf(n, "process %s completes :%s on key %q, but invoked it on key %q (line %d)", ev.proc, ev.f, ev.key, op.In.Key, op.Line)
		}
		delete(p.open, ev.proc)
		op.RetLine = n
		switch ev.typ {
		case "ok":
			op.Ret, op.Out.OK = int64(n), true
			if ev.f == "read" || ev.f == "get" {
				if ev.val.kind == ednKeyword || ev.val.kind == ednVector {
					return h.errf(n, "value: a :%s returns a value or nil, have %s", ev.f, ev.val.text)
				}
				op.Out.Value, op.HasVal = ev.val.value(), true
			}
		case "fail":
			op.Ret = int64(n)
		case "info":
			op.Out.Unknown = true
		}
	default:
		return h.errf(n, "type: want :invoke, :ok, :fail or :info, have :%s", ev.typ)
	}
	return nil
}

// finish: an operation still in progress at the end has an unknown outcome.
func (p *logParser) finish() error {
	for i := range p.pend {
		op := &p.pend[i]
		if op.RetLine == 0 {
			op.Out.Unknown = true
		}
		failed := op.Ret != Unknown && !op.Out.OK && !op.Out.Unknown
		if err := p.h.add(*op, failed); err != nil {
			return err
		}
	}
	return nil
}

// jepsenLine reads `INFO  jepsen.util - 3	:invoke	:cas	[3 0]`.
func jepsenLine(b []byte) (event, error) {
	var ev event
	fs := strings.Fields(string(b))
	if len(fs) >= 2 && fs[0] == "INFO" && fs[1] != "jepsen.util" {
		ev.skip = true // another logger's line: not an operation
		return ev, nil
	}
	if len(fs) < 7 || fs[0] != "INFO" || fs[1] != "jepsen.util" || fs[2] != "-" {
		return ev, fmt.Errorf("not a Jepsen log line (want INFO  jepsen.util - PROCESS :TYPE :F VALUE)")
	}
	if _, err := strconv.ParseUint(fs[3], 10, 31); err != nil {
		if strings.HasPrefix(fs[3], ":") {
			ev.skip = true // :nemesis
			return ev, nil
		}
		return ev, fmt.Errorf("process: want a non-negative integer, have %q", fs[3])
	}
	ev.proc = fs[3]
	if !strings.HasPrefix(fs[4], ":") || !strings.HasPrefix(fs[5], ":") || len(fs[5]) < 2 {
		return ev, fmt.Errorf("want :TYPE :F after the process, have %q %q", fs[4], fs[5])
	}
	ev.typ, ev.f = fs[4][1:], fs[5][1:]
	text := strings.Join(fs[6:], " ")
	v, rest, err := parseEDN(text)
	if err != nil {
		return ev, fmt.Errorf("value: %v", err)
	}
	if strings.TrimSpace(rest) != "" {
		return ev, fmt.Errorf("value: text after it: %q", rest)
	}
	ev.val = v
	return ev, nil
}

// ednLine reads `{:process 0, :type :invoke, :f :append, :key "0", :value "x"}`.
// Other keys (:time, :index, :error) are ignored.
func ednLine(b []byte) (event, error) {
	var ev event
	s := strings.TrimSpace(string(b))
	if !strings.HasPrefix(s, "{") {
		return ev, fmt.Errorf("not an EDN map")
	}
	s = s[1:]
	seen := map[string]bool{}
	var proc, typ, f *ednVal
	var val ednVal
	hasVal := false
	for {
		s = strings.TrimLeft(s, " \t,")
		if strings.HasPrefix(s, "}") {
			s = s[1:]
			break
		}
		k, rest, err := parseEDN(s)
		if err != nil {
			return ev, fmt.Errorf("key: %v", err)
		}
		if k.kind != ednKeyword {
			return ev, fmt.Errorf("key: want a keyword, have %s", k.text)
		}
		v, rest2, err := parseEDN(strings.TrimLeft(rest, " \t,"))
		if err != nil {
			return ev, fmt.Errorf("%s: %v", k.text, err)
		}
		s = rest2
		if seen[k.s] {
			return ev, fmt.Errorf("%s given twice", k.text)
		}
		seen[k.s] = true
		switch k.s {
		case "process":
			proc = &v
		case "type":
			typ = &v
		case "f":
			f = &v
		case "key":
			if v.kind != ednString && v.kind != ednInt {
				return ev, fmt.Errorf(":key: want a string or an integer, have %s", v.text)
			}
			ev.key, ev.hasKey = v.s, true
		case "value":
			val, hasVal = v, true
		}
	}
	if strings.TrimSpace(s) != "" {
		return ev, fmt.Errorf("text after the map: %q", s)
	}
	switch {
	case proc == nil:
		return ev, fmt.Errorf(":process: missing")
	case proc.kind == ednKeyword:
		ev.skip = true // :nemesis
		return ev, nil
	case proc.kind != ednInt || strings.HasPrefix(proc.s, "-"):
		return ev, fmt.Errorf(":process: want a non-negative integer, have %s", proc.text)
	case typ == nil || typ.kind != ednKeyword:
		return ev, fmt.Errorf(":type: missing or not a keyword")
	case f == nil || f.kind != ednKeyword:
		return ev, fmt.Errorf(":f: missing or not a keyword")
	}
	if !hasVal {
		val = ednVal{kind: ednNil, text: "nil"}
	}
	ev.proc, ev.typ, ev.f, ev.val = proc.s, typ.s, f.s, val
	return ev, nil
}

type ednKind uint8

const (
	ednNil ednKind = iota
	ednInt
	ednString
	ednKeyword
	ednVector
	ednBool
)

// ednVal is the subset of EDN the histories use: nil, integers, strings,
// keywords, booleans and vectors of them.
type ednVal struct {
	kind ednKind
	s    string // int: its text; string: its content; keyword: without the colon
	vec  []ednVal
	text string // as written, for messages
}

func (v ednVal) value() Value {
	if v.kind == ednNil {
		return Nil
	}
	return V(v.s)
}

// parseEDN reads one value from the start of s and returns the rest.
func parseEDN(s string) (ednVal, string, error) {
	s = strings.TrimLeft(s, " \t,")
	if s == "" {
		return ednVal{}, s, fmt.Errorf("missing")
	}
	switch c := s[0]; {
	case c == '"':
		var b bytes.Buffer
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				if i+1 >= len(s) {
					return ednVal{}, s, fmt.Errorf("unterminated string")
				}
				i++
				switch s[i] {
				case 'n':
					b.WriteByte('\n')
				case 't':
					b.WriteByte('\t')
				case 'r':
					b.WriteByte('\r')
				case '"', '\\':
					b.WriteByte(s[i])
				default:
					return ednVal{}, s, fmt.Errorf("unknown escape \\%c in a string", s[i])
				}
			case '"':
				return ednVal{kind: ednString, s: b.String(), text: s[:i+1]}, s[i+1:], nil
			default:
				b.WriteByte(s[i])
			}
		}
		return ednVal{}, s, fmt.Errorf("unterminated string")
	case c == '[':
		v := ednVal{kind: ednVector}
		rest := s[1:]
		for {
			rest = strings.TrimLeft(rest, " \t,")
			if strings.HasPrefix(rest, "]") {
				v.text = s[:len(s)-len(rest)+1]
				return v, rest[1:], nil
			}
			if len(v.vec) >= 16 {
				return ednVal{}, s, fmt.Errorf("a vector of more than 16 values")
			}
			e, r, err := parseEDN(rest)
			if err != nil {
				return ednVal{}, s, err
			}
			if e.kind == ednVector {
				return ednVal{}, s, fmt.Errorf("a vector inside a vector")
			}
			v.vec = append(v.vec, e)
			rest = r
		}
	}
	end := strings.IndexAny(s, " \t,]}")
	if end < 0 {
		end = len(s)
	}
	tok := s[:end]
	switch {
	case tok == "nil":
		return ednVal{kind: ednNil, text: tok}, s[end:], nil
	case tok == "true" || tok == "false":
		return ednVal{kind: ednBool, s: tok, text: tok}, s[end:], nil
	case strings.HasPrefix(tok, ":") && len(tok) > 1:
		return ednVal{kind: ednKeyword, s: tok[1:], text: tok}, s[end:], nil
	}
	if _, err := strconv.ParseInt(tok, 10, 64); err == nil {
		return ednVal{kind: ednInt, s: tok, text: tok}, s[end:], nil
	}
	return ednVal{}, s, fmt.Errorf("unreadable value %q (want nil, an integer, a string, a keyword or a vector)", tok)
}
