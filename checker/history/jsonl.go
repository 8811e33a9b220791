package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// object decodes one JSON object into its fields, refusing a field given
// twice.
func object(b []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	t, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	m := map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("not JSON: %v", err)
		}
		k, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("field %q: not JSON: %v", k, err)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("field %q given twice", k)
		}
		m[k] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("text after the JSON object")
	}
	return m, nil
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
	if _, ok := m["schema"]; ok {
		return h.errf(n, "field schema: a second header line (the header is the first line only)")
	}
	op := Op{Line: n, RetLine: n, Ret: Unknown}
	var s string
	if raw, ok := m["id"]; ok {
		if op.ID, err = scalar(raw); err != nil {
			return h.errf(n, "field id: %v", err)
		}
		if prev, dup := p.ids[op.ID]; dup {
			return h.errf(n, "field id: duplicate id %s (first on line %d)", op.ID, prev)
		}
		p.ids[op.ID] = n
	}
	raw, ok := m["proc"]
	if !ok {
		return h.errf(n, "field proc: missing (the process that ran the operation)")
	}
	if op.Process, err = scalar(raw); err != nil {
		return h.errf(n, "field proc: %v", err)
	}
	raw, ok = m["call"]
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
	if raw, ok := m["ret"]; ok && string(raw) != "null" {
		hasRet = true
		if op.Ret, err = timeOf(raw); err != nil {
			return h.errf(n, "field ret: %v", err)
		}
		if op.Ret < op.Call {
			return h.errf(n, "field ret: returned at %d, before its call at %d", op.Ret, op.Call)
		}
	}
	raw, ok = m["op"]
	if !ok {
		return h.errf(n, "field op: missing (the operation's name)")
	}
	if err := json.Unmarshal(raw, &s); err != nil || s == "" {
		return h.errf(n, "field op: want a non-empty string, have %s", raw)
	}
	op.In.Op = s
	if raw, ok := m["key"]; ok {
		if op.In.Key, err = scalar(raw); err != nil {
			return h.errf(n, "field key: %v", err)
		}
	}
	if raw, ok := m["args"]; ok && string(raw) != "null" {
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
	if raw, ok := m["out"]; ok {
		if err := json.Unmarshal(raw, &out); err != nil {
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
	if raw, ok := m["val"]; ok {
		if op.Out.Value, err = value(raw); err != nil {
			return h.errf(n, "field val: %v", err)
		}
		op.HasVal = true
	}
	op.Client = h.client(op.Process, p.procs)
	return h.add(op, out == "fail")
}

func (p *jsonlParser) readHeader(m map[string]json.RawMessage, n int) error {
	h := p.h
	var schema, version string
	raw, ok := m["schema"]
	if !ok || json.Unmarshal(raw, &schema) != nil || schema != Schema {
		return h.errf(n, "field schema: the first line must be the header {\"schema\":%q,\"version\":%q,...}", Schema, Version)
	}
	raw, ok = m["version"]
	if !ok || json.Unmarshal(raw, &version) != nil {
		return h.errf(n, "field version: missing (want %q)", Version)
	}
	major, _, _ := strings.Cut(version, ".")
	if wmajor, _, _ := strings.Cut(Version, "."); major != wmajor {
		return h.errf(n, "field version: %q is of major version %s; this reader reads %s.x", version, major, wmajor)
	}
	if raw, ok := m["model"]; ok {
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
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
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
