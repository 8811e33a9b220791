// Package spec holds what the YAML inputs of stormproof (hardware profiles,
// scenarios, explorer configurations) share: strict decoding with errors
// that name the file and line, durations and distributions, and the rule
// that every modelling parameter carries its source.
package spec

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is a bad-input error that names file, line and field.
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	// One line, whatever the input held: a YAML error quotes the offending
	// value, which may span lines (found by fuzzing sim.Parse).
	return oneLine.Replace(b.String())
}

var oneLine = strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\r`)

var lineRe = regexp.MustCompile(`(?s)^line (\d+): (.*)$`) // (?s): a quoted value may span lines
var unknownRe = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)

// Decode strictly decodes one YAML document into out: unknown fields,
// wrong types and trailing documents are errors naming file and line.
// It returns the document's node tree for line lookups.
func Decode(file string, data []byte, out any) (*yaml.Node, error) {
	if err := CheckLines(file, data); err != nil {
		return nil, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlErr(file, err)
	}
	if len(root.Content) == 0 {
		return nil, &Error{File: file, Msg: "empty document"}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil {
		e := yamlErr(file, err)
		// A value's own decoder (a name that is not a client's, say) does
		// not know its line: the first scalar holding the text at fault is
		// where the decoder stopped.
		var bad interface{ BadText() string }
		if e.Line == 0 && errors.As(err, &bad) {
			if n, p := scalarHolding(&root, reflect.TypeOf(out), "", bad.BadText()); n != nil {
				e.Line, e.Field = n.Line, p
			}
		}
		if e.Field == "" && e.Line > 0 {
			e.Field = fieldAt(&root, e.Line)
		}
		return nil, e
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: file, Line: extra.Line, Msg: "more than one YAML document"}
	}
	return &root, nil
}

// CheckLines refuses the line breaks YAML counts and editors do not agree
// on (a lone CR, NEL, U+2028, U+2029): with them in a document, no line
// number in an error would point where a reader looks. Lines end with LF
// or CR LF.
func CheckLines(file string, data []byte) error {
	line := 1
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case c == '\n':
			line++
		case c == '\r' && (i+1 == len(data) || data[i+1] != '\n'):
			return &Error{File: file, Line: line, Msg: "a carriage return (CR) without a line feed: end lines with LF or CR LF"}
		case c == 0xc2 && i+1 < len(data) && data[i+1] == 0x85:
			return &Error{File: file, Line: line, Msg: "a next-line character (U+0085): end lines with LF or CR LF"}
		case c == 0xe2 && i+2 < len(data) && data[i+1] == 0x80 && (data[i+2] == 0xa8 || data[i+2] == 0xa9):
			return &Error{File: file, Line: line, Msg: fmt.Sprintf("a line or paragraph separator (U+%04X): end lines with LF or CR LF", 0x2000|int(data[i+2]-0x80))}
		}
	}
	return nil
}

// scalarHolding is the first scalar value in document order that holds
// text (blanks around either ignored) where out's type decodes the value
// with a method of its own, and its dotted path; nil if none.
func scalarHolding(n *yaml.Node, out reflect.Type, at, text string) (*yaml.Node, string) {
	if n.Kind == yaml.ScalarNode && strings.TrimSpace(n.Value) == strings.TrimSpace(text) && ownDecoder(out, at) {
		return n, at
	}
	join := func(k string) string {
		if at == "" {
			return k
		}
		return at + "." + k
	}
	for i, c := range n.Content {
		p := at
		switch n.Kind {
		case yaml.MappingNode:
			if i%2 == 0 {
				continue
			}
			p = join(n.Content[i-1].Value)
		case yaml.SequenceNode:
			p = join(strconv.Itoa(i))
		}
		if m, mp := scalarHolding(c, out, p, text); m != nil {
			return m, mp
		}
	}
	return nil, ""
}

var (
	textUnmarshaler     = reflect.TypeFor[encoding.TextUnmarshaler]()
	yamlUnmarshaler     = reflect.TypeFor[yaml.Unmarshaler]()
	obsoleteUnmarshaler = reflect.TypeFor[interface{ UnmarshalYAML(func(any) error) error }]()
)

// ownDecoder says whether the value at a dotted path of t, or a value
// holding it, is decoded by a method of its own type.
func ownDecoder(t reflect.Type, p string) bool {
	parts := strings.Split(p, ".")
	for i := 0; ; i++ {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		pt := reflect.PointerTo(t)
		if pt.Implements(textUnmarshaler) || pt.Implements(yamlUnmarshaler) || pt.Implements(obsoleteUnmarshaler) {
			return true
		}
		if i == len(parts) || p == "" {
			return false
		}
		switch t.Kind() {
		case reflect.Struct:
			f, ok := yamlField(t, parts[i])
			if !ok {
				return false
			}
			t = f
		case reflect.Map, reflect.Slice, reflect.Array:
			t = t.Elem()
		default:
			return false
		}
	}
}

// yamlField is the type of the field a struct decodes key into.
func yamlField(t reflect.Type, key string) (reflect.Type, bool) {
	for _, f := range Fields(t) {
		if f.Name == key {
			return f.Type, true
		}
	}
	return nil, false
}

// Field is a key a struct decodes and the type it decodes it into.
type Field struct {
	Name string
	Type reflect.Type
}

// Fields are the keys a struct decodes, an inline struct's among them, in
// declaration order.
func Fields(t reflect.Type) []Field {
	var out []Field
	for j := 0; j < t.NumField(); j++ {
		f := t.Field(j)
		tag := strings.Split(f.Tag.Get("yaml"), ",")
		switch {
		case !f.IsExported() || tag[0] == "-":
		case tag[0] == "" && len(tag) > 1 && tag[1] == "inline" && f.Type.Kind() == reflect.Struct:
			out = append(out, Fields(f.Type)...)
		case tag[0] != "":
			out = append(out, Field{tag[0], f.Type})
		}
	}
	return out
}

// fieldAt is the dotted path of the deepest field written on line, or "".
func fieldAt(root *yaml.Node, line int) string {
	best, depth := "", -1
	var walk func(n *yaml.Node, path string, d int)
	walk = func(n *yaml.Node, path string, d int) {
		join := func(k string) string {
			if path == "" {
				return k
			}
			return path + "." + k
		}
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path, d)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := join(k.Value)
				if (k.Line == line || (v.Kind == yaml.ScalarNode && v.Line == line)) && d > depth {
					best, depth = p, d
				}
				walk(v, p, d+1)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := join(strconv.Itoa(i))
				if c.Kind == yaml.ScalarNode && c.Line == line && d > depth {
					best, depth = p, d
				}
				walk(c, p, d+1)
			}
		}
	}
	walk(root, "", 0)
	return best
}

func yamlErr(file string, err error) *Error {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	e := &Error{File: file, Msg: msg}
	if m := lineRe.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = m[2]
		if u := unknownRe.FindStringSubmatch(e.Msg); u != nil {
			e.Field = u[1]
			e.Msg = "unknown field"
		}
	}
	return e
}

// Node finds the value node at a dotted path ("fleet.cameras") in a
// document, or nil.
func Node(root *yaml.Node, path string) *yaml.Node {
	_, v := nodeKV(root, path)
	return v
}

// nodeKV returns the key node (nil for a sequence item or the root) and the
// value node at path.
func nodeKV(root *yaml.Node, path string) (key, val *yaml.Node) {
	n := root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if path == "" {
		return nil, n
	}
	for _, part := range strings.Split(path, ".") {
		if n == nil {
			return nil, nil
		}
		switch n.Kind {
		case yaml.MappingNode:
			var next *yaml.Node
			key = nil
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == part {
					key, next = n.Content[i], n.Content[i+1]
					break
				}
			}
			n = next
		case yaml.SequenceNode:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(n.Content) {
				return nil, nil
			}
			key, n = nil, n.Content[i]
		default:
			return nil, nil
		}
	}
	return key, n
}

// Errorf builds an Error for the field at path, with the line it is on
// (or the nearest enclosing field's line when it is absent).
func Errorf(file string, root *yaml.Node, path string, format string, args ...any) error {
	e := &Error{File: file, Field: path, Msg: fmt.Sprintf(format, args...)}
	for p := path; ; {
		if k, v := nodeKV(root, p); v != nil {
			e.Line = v.Line
			if k != nil {
				e.Line = k.Line
			}
			break
		}
		i := strings.LastIndex(p, ".")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return e
}

// RequireSources checks that every leaf value of the document has a comment
// (its source, or the word "assumed"). A flow mapping or sequence written on
// one line counts as one leaf. Keys listed in exempt (dotted paths) are
// identifiers, not parameters.
func RequireSources(file string, root *yaml.Node, exempt ...string) error {
	skip := map[string]bool{}
	for _, e := range exempt {
		skip[e] = true
	}
	return requireSources(file, Node(root, ""), "", skip)
}

func requireSources(file string, n *yaml.Node, path string, skip map[string]bool) error {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := k.Value
		if path != "" {
			p = path + "." + k.Value
		}
		if skip[p] {
			continue
		}
		if v.Kind == yaml.MappingNode && v.Style&yaml.FlowStyle == 0 {
			if err := requireSources(file, v, p, skip); err != nil {
				return err
			}
			continue
		}
		if v.Kind == yaml.SequenceNode && v.Style&yaml.FlowStyle == 0 {
			for j, item := range v.Content {
				if item.Kind == yaml.MappingNode {
					if err := requireSources(file, item, fmt.Sprintf("%s.%d", p, j), skip); err != nil {
						return err
					}
				} else if !commented(item) {
					return &Error{File: file, Line: item.Line, Field: fmt.Sprintf("%s.%d", p, j),
						Msg: `no source: add a comment with its source or "assumed"`}
				}
			}
			continue
		}
		if !commented(k) && !commented(v) {
			return &Error{File: file, Line: k.Line, Field: p, Msg: `no source: add a comment with its source or "assumed"`}
		}
	}
	return nil
}

func commented(n *yaml.Node) bool {
	return strings.Trim(n.LineComment, "# \t") != "" || strings.Trim(n.HeadComment, "# \t\n") != ""
}

// Named is the shared way in to a document that is either embedded (by
// name, from dir in fsys) or a file (a path: it holds "/" or "."). It
// returns the name errors give the document ("builtin:NAME.yaml" or the
// path) and its bytes. kind ("scenario", "explorer configuration") names
// what is looked for.
func Named(fsys fs.ReadDirFS, dir, kind, nameOrFile string) (file string, data []byte, err error) {
	if data, err := fs.ReadFile(fsys, path.Join(dir, nameOrFile+".yaml")); err == nil && nameOrFile != "" {
		return "builtin:" + nameOrFile + ".yaml", data, nil
	}
	if !strings.ContainsAny(nameOrFile, "/.") {
		names := EmbeddedNames(fsys, dir)
		hint := ""
		for _, n := range names {
			if nameOrFile != "" && strings.HasPrefix(n, nameOrFile) {
				hint = fmt.Sprintf(" (did you mean %s?)", n)
				break
			}
		}
		return "", nil, fmt.Errorf("unknown %s %q%s: not an embedded one (%s) and not a file path", kind, nameOrFile, hint, strings.Join(names, ", "))
	}
	data, err = os.ReadFile(nameOrFile)
	if err != nil {
		if pe, ok := err.(*os.PathError); ok {
			err = pe.Err
		}
		return "", nil, fmt.Errorf("%s: cannot read %s: %v", nameOrFile, kind, err)
	}
	return nameOrFile, data, nil
}

// EmbeddedNames are the names of the documents in dir of fsys, sorted.
func EmbeddedNames(fsys fs.ReadDirFS, dir string) []string {
	entries, _ := fsys.ReadDir(dir)
	var out []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
