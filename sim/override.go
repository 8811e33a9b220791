package sim

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/stormproof/stormproof/internal/spec"
)

// Set is one change to a scenario: a dotted path into its YAML document
// ("cloud.cache_timeout", "fleet.mix.cam-v3", "outages.0.to") and the YAML
// value to put there (a scalar, a list or a mapping, replaced whole).
type Set struct {
	Path  string
	Value *yaml.Node
}

// SetError says which change made a scenario invalid. Index is the Set at
// fault, or -1 when only the combination is invalid (e.g. a backoff cap
// below its initial delay, each set alone being fine).
type SetError struct {
	Index int
	Field string // the scenario field at fault (dotted)
	Msg   string
}

func (e *SetError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// noSet are paths that name the document rather than the world it models.
var noSet = map[string]string{
	"base": "a scenario's base is chosen by its file, not by an override",
	"name": "the name identifies the scenario; sweep other fields",
}

// With returns a copy of s with the sets applied in order. The copy goes
// through the same strict decoding and validation as a scenario file: s is
// written out as YAML, each value is put at its path, and the document is
// decoded afresh (unknown fields, wrong types and bad values are errors).
// s itself is not changed.
func (s *Scenario) With(sets []Set) (*Scenario, error) {
	var root yaml.Node
	if err := root.Encode(s); err != nil {
		return nil, fmt.Errorf("scenario %s: %v", s.Name, err)
	}
	for i, st := range sets {
		if msg, ok := noSet[st.Path]; ok {
			return nil, &SetError{Index: i, Field: st.Path, Msg: msg}
		}
		if err := checkPath(reflect.TypeOf(Scenario{}), st.Path); err != nil {
			return nil, &SetError{Index: i, Field: st.Path, Msg: err.Error()}
		}
		if st.Value == nil {
			return nil, &SetError{Index: i, Field: st.Path, Msg: "no value"}
		}
		if err := setPath(&root, st.Path, st.Value); err != nil {
			return nil, &SetError{Index: i, Field: st.Path, Msg: err.Error()}
		}
	}
	data, err := yaml.Marshal(&root)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %v", s.Name, err)
	}
	c := &Scenario{}
	if _, err := spec.Decode(s.File, data, c); err != nil {
		return nil, blame(err, data, sets)
	}
	c.Base, c.File = s.Base, s.File
	if err := c.resolve(s.dir()); err != nil {
		var fe *fieldErr
		if errors.As(err, &fe) {
			return nil, &SetError{Index: owner(fe.field, sets), Field: fe.field, Msg: fe.msg}
		}
		return nil, &SetError{Index: -1, Msg: err.Error()}
	}
	return c, nil
}

// dir is where the scenario's relative profile files are found.
func (s *Scenario) dir() string {
	if s.File == "" || strings.HasPrefix(s.File, "builtin:") || s.File == "trace header" {
		return ""
	}
	return filepath.Dir(s.File)
}

var unmarshaler = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

// checkPath follows a dotted path through the scenario's YAML field names,
// so a misspelt path is named as such (with the fields there are) before
// any value is decoded.
func checkPath(t reflect.Type, p string) error {
	parts := strings.Split(p, ".")
	for i, part := range parts {
		at := strings.Join(parts[:i], ".")
		if part == "" {
			return fmt.Errorf("empty element in path %q", p)
		}
		for t.Kind() == reflect.Pointer {
			t = t.Elem() // an optional section
		}
		if reflect.PointerTo(t).Implements(unmarshaler) {
			return fmt.Errorf("%s is a single value: no field %q inside it", at, part)
		}
		switch t.Kind() {
		case reflect.Struct:
			var names []string
			var next reflect.Type
			for _, f := range spec.Fields(t) {
				names = append(names, f.Name)
				if f.Name == part {
					next = f.Type
				}
			}
			if next == nil {
				sort.Strings(names)
				where := "a scenario"
				if at != "" {
					where = at
				}
				return fmt.Errorf("no field %q in %s (fields: %s)", part, where, strings.Join(names, ", "))
			}
			t = next
		case reflect.Map:
			t = t.Elem()
		case reflect.Slice:
			if k, err := strconv.Atoi(part); err != nil || k < 0 {
				return fmt.Errorf("%s is a list: want an item number, got %q", at, part)
			}
			t = t.Elem()
		default:
			return fmt.Errorf("%s is a single value: no field %q inside it", at, part)
		}
	}
	return nil
}

// setPath puts v at the dotted path p under n, adding missing mapping keys.
func setPath(n *yaml.Node, p string, v *yaml.Node) error {
	parts := strings.Split(p, ".")
	for i, part := range parts {
		if part == "" {
			return fmt.Errorf("empty path element")
		}
		last := i == len(parts)-1
		at := strings.Join(parts[:i], ".")
		switch n.Kind {
		case yaml.MappingNode:
			var next *yaml.Node
			for j := 0; j+1 < len(n.Content); j += 2 {
				if n.Content[j].Value == part {
					if last {
						n.Content[j+1] = v
						return nil
					}
					next = n.Content[j+1]
					break
				}
			}
			if next == nil {
				// A missing key is added; strict decoding then rejects it
				// if the scenario has no such field.
				next = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
				if last {
					next = v
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: part}, next)
				if last {
					return nil
				}
			}
			n = next
		case yaml.SequenceNode:
			k, err := strconv.Atoi(part)
			if err != nil || k < 0 || k >= len(n.Content) {
				return fmt.Errorf("%s has %d items: no item %q", at, len(n.Content), part)
			}
			if last {
				n.Content[k] = v
				return nil
			}
			n = n.Content[k]
		default:
			return fmt.Errorf("%s is a single value, not a mapping or a list", at)
		}
	}
	return nil
}

// blame turns a decoding error in the combined document into a SetError
// naming the set whose value holds the offending line.
func blame(err error, data []byte, sets []Set) error {
	var se *spec.Error
	if !errors.As(err, &se) {
		return &SetError{Index: -1, Msg: err.Error()}
	}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil {
		return &SetError{Index: -1, Field: se.Field, Msg: se.Msg}
	}
	idx := -1
	for i, st := range sets {
		n := spec.Node(&doc, st.Path)
		if n == nil {
			continue
		}
		if lo, hi := span(n); se.Line >= lo && se.Line <= hi {
			idx = i // a later set wins: it was applied last
		}
	}
	field := se.Field
	if idx >= 0 {
		path := sets[idx].Path
		switch {
		case field == path || strings.HasPrefix(field, path+"."):
			// the decoder named the field by its full path already
		case field == "" || field == path[strings.LastIndex(path, ".")+1:]:
			field = path // the value itself, or the path naming no field
		default:
			field = path + "." + field
		}
	}
	return &SetError{Index: idx, Field: field, Msg: se.Msg}
}

// span is the first and last line of a node and its children.
func span(n *yaml.Node) (lo, hi int) {
	lo, hi = n.Line, n.Line
	for _, c := range n.Content {
		_, h := span(c)
		hi = max(hi, h)
	}
	return lo, hi
}

// owner is the set that a validation error on field belongs to: the last
// one whose path contains the field or lies inside it; -1 for none.
func owner(field string, sets []Set) int {
	idx := -1
	for i, st := range sets {
		if field == st.Path || strings.HasPrefix(field, st.Path+".") || strings.HasPrefix(st.Path, field+".") {
			idx = i
		}
	}
	return idx
}
