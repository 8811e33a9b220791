package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Schema and Version of the JSONL history format (docs/history.md). A
// reader accepts any minor version of its major: a minor version only adds
// fields, which readers ignore.
const (
	Schema  = "stormproof-history"
	Version = "1.0"
)

type jsonlParser struct {
	h      *History
	first  int
	header bool
	ids    map[string]int // id → line
	procs  map[string]int
}

// maxFields bounds the fields of one line (a line is one operation; the
// bound keeps the duplicate check small).
const maxFields = 64

// fields is one line's top-level fields, in order.
type fields []struct {
	k   string
	raw []byte
}

func (f fields) get(k string) (json.RawMessage, bool) {
	for i := range f {
		if f[i].k == k {
			return f[i].raw, true
		}
	}
	return nil, false
}

// object splits one JSON object into its top-level fields, refusing a
// field given twice. The line is validated as JSON first, so the scan
// below only finds the extent of each value.
func object(b []byte) (fields, error) {
	if !json.Valid(b) {
		var v any
		err := json.Unmarshal(b, &v)
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	var f fields
	i := 1
	for {
		i = skipSpace(b, i)
		if b[i] == '}' {
			return f, nil
		}
		if b[i] == ',' {
			i = skipSpace(b, i+1)
		}
		kend := valueEnd(b, i)
		k, err := str(b[i:kend])
		if err != nil {
			return nil, err
		}
		i = skipSpace(b, kend) + 1 // the colon
		i = skipSpace(b, i)
		vend := valueEnd(b, i)
		if _, dup := f.get(k); dup {
			return nil, fmt.Errorf("field %q given twice", k)
		}
		if len(f) == maxFields {
			return nil, fmt.Errorf("more than %d fields", maxFields)
		}
		f = append(f, struct {
			k   string
			raw []byte
		}{k, b[i:vend]})
		i = vend
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// valueEnd is the end of the valid JSON value starting at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
	case '[', '{':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = valueEnd(b, j) - 1
			case '[', '{':
				depth++
			case ']', '}':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
	default:
		j := i
		for j < len(b) && !strings.ContainsRune(",}] \t\r\n", rune(b[j])) {
			j++
		}
		return j
	}
	return len(b)
}

// str decodes a JSON string (valid JSON is given).
func str(raw []byte) (string, error) {
	if len(raw) >= 2 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("want a string, have %s", raw)
	}
	return s, nil
}

func (p *jsonlParser) line(b []byte, n int) error {
	h := p.h
	m, err := object(b)
	if err != nil {
		return h.errf(n, "%v", err)
	}
	if !p.header {
		p.header = true
		return p.readHeader(m, n)
	}
	if _, ok := m.get("schema"); ok {
		return h.errf(n, "field schema: a second header line (the header is the first line only)")
	}
	op := Op{Line: n, RetLine: n, Ret: Unknown}
	var s string
	if raw, ok := m.get("id"); ok {
		if op.ID, err = scalar(raw); err != nil {
			return h.errf(n, "field id: %v", err)
		}
		if prev, dup := p.ids[op.ID]; dup {
			return h.errf(n, "field id: duplicate id %s (first on line %d)", op.ID, prev)
		}
		p.ids[op.ID] = n
	}
	raw, ok := m.get("proc")
	if !ok {
		return h.errf(n, "field proc: missing (the process that ran the operation)")
	}
	if op.Process, err = scalar(raw); err != nil {
		return h.errf(n, "field proc: %v", err)
	}
	raw, ok = m.get("call")
	if !ok {
		return h.errf(n, "field call: missing (the time the operation was called)")
	}
	if op.Call, err = timeOf(raw); err != nil {
		return h.errf(n, "field call: %v", err)
	}
	if op.Call == Unknown {
		return h.errf(n, "field call: %d is reserved (it means \"never returned\")", Unknown)
	}
	hasRet := false
	if raw, ok := m.get("ret"); ok && string(raw) != "null" {
		hasRet = true
		if op.Ret, err = timeOf(raw); err != nil {
			return h.errf(n, "field ret: %v", err)
		}
		if op.Ret < op.Call {
			return h.errf(n, "field ret: returned at %d, before its call at %d", op.Ret, op.Call)
		}
	}
	raw, ok = m.get("op")
	if !ok {
		return h.errf(n, "field op: missing (the operation's name)")
	}
	if s, err = str(raw); err != nil || s == "" {
		return h.errf(n, "field op: want a non-empty string, have %s", raw)
	}
	op.In.Op = s
	if raw, ok := m.get("key"); ok {
		if op.In.Key, err = scalar(raw); err != nil {
			return h.errf(n, "field key: %v", err)
		}
	}
	if raw, ok := m.get("args"); ok && string(raw) != "null" {
		var args []json.RawMessage
		if err := json.Unmarshal(raw, &args); err != nil {
			return h.errf(n, "field args: want an array of values, have %s", raw)
		}
		if len(args) > 2 {
			return h.errf(n, "field args: %d arguments; an operation takes at most 2", len(args))
		}
		for i, a := range args {
			v, err := value(a)
			if err != nil {
				return h.errf(n, "field args[%d]: %v", i, err)
			}
			if i == 0 {
				op.In.Arg = v
			} else {
				op.In.Arg2 = v
			}
		}
		op.NArgs = len(args)
	}
	out := "ok"
	if !hasRet {
		out = "unknown"
	}
	if raw, ok := m.get("out"); ok {
		if out, err = str(raw); err != nil {
			return h.errf(n, "field out: want \"ok\", \"fail\" or \"unknown\", have %s", raw)
		}
	}
	switch out {
	case "ok":
		if !hasRet {
			return h.errf(n, "field ret: missing, but out is \"ok\" (an operation that returned has a return time)")
		}
		op.Out.OK = true
	case "fail":
		if !hasRet {
			return h.errf(n, "field ret: missing, but out is \"fail\" (an operation that failed returned, at a time)")
		}
		op.Out.OK = false
	case "unknown":
		op.Out.Unknown, op.Ret = true, Unknown
	default:
		return h.errf(n, "field out: want \"ok\", \"fail\" or \"unknown\", have %q", out)
	}
	if raw, ok := m.get("val"); ok {
		if op.Out.Value, err = value(raw); err != nil {
			return h.errf(n, "field val: %v", err)
		}
		op.HasVal = true
	}
	op.Client = h.client(op.Process, p.procs)
	return h.add(op, out == "fail")
}

func (p *jsonlParser) readHeader(m fields, n int) error {
	h := p.h
	var schema, version string
	raw, ok := m.get("schema")
	if !ok || json.Unmarshal(raw, &schema) != nil || schema != Schema {
		return h.errf(n, "field schema: the first line must be the header {\"schema\":%q,\"version\":%q,...}", Schema, Version)
	}
	raw, ok = m.get("version")
	if !ok || json.Unmarshal(raw, &version) != nil {
		return h.errf(n, "field version: missing (want %q)", Version)
	}
	major, _, _ := strings.Cut(version, ".")
	if wmajor, _, _ := strings.Cut(Version, "."); major != wmajor {
		return h.errf(n, "field version: %q is of major version %s; this reader reads %s.x", version, major, wmajor)
	}
	if raw, ok := m.get("model"); ok {
		if err := json.Unmarshal(raw, &h.Model); err != nil {
			return h.errf(n, "field model: want a string, have %s", raw)
		}
	}
	return nil
}

// finish: a header alone is an empty history, which is linearizable.
func (p *jsonlParser) finish() error { return nil }

// add keeps an operation that may have taken effect; a failed one
// (did not happen) is counted and left out, except a cas, whose failure is
// its result (the compare did not match).
func (h *History) add(op Op, failed bool) error {
	if failed && op.In.Op != "cas" {
		h.Failed++
		return nil
	}
	h.Ops = append(h.Ops, op)
	return nil
}

// scalar reads a string or an integer as a name.
func scalar(raw json.RawMessage) (string, error) {
	if len(raw) > 0 && raw[0] == '"' {
		return str(raw)
	}
	if isInt(raw) {
		return string(raw), nil
	}
	return "", fmt.Errorf("want a string or an integer, have %s", raw)
}

// value reads a value: a string, an integer (its decimal text) or null.
func value(raw json.RawMessage) (Value, error) {
	if string(raw) == "null" {
		return Nil, nil
	}
	s, err := scalar(raw)
	if err != nil {
		return Nil, fmt.Errorf("a value is a string, an integer or null; have %s", raw)
	}
	return V(s), nil
}

func isInt(raw json.RawMessage) bool {
	_, err := strconv.ParseInt(string(raw), 10, 64)
	return err == nil
}

func timeOf(raw json.RawMessage) (int64, error) {
	t, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("want an integer time, have %s", raw)
	}
	return t, nil
}

// sortOps puts operations in call order, ties in file order: a canonical
// order that depends on the file alone.
func sortOps(ops []Op) {
	slices.SortStableFunc(ops, func(a, b Op) int {
		if a.Call != b.Call {
			if a.Call < b.Call {
				return -1
			}
			return 1
		}
		return a.Line - b.Line
	})
}
