package props

import (
	"bytes"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/stormproof/stormproof/sim"
)

// ScenarioYAML writes s as a scenario file that sim.Load reads back to the
// same scenario: its base (an embedded scenario) and the top-level
// sections in which s differs from it, every value commented "changed" or
// "as in base" (a scenario file needs a comment on every value). A scenario
// with no embedded base is written whole.
func ScenarioYAML(s *sim.Scenario) ([]byte, error) {
	c := *s
	if len(c.Fleet.ProfileFiles) > 0 {
		// Relative profile files are relative to the scenario's own file.
		dir := ""
		if c.File != "" && !strings.Contains(c.File, ":") {
			dir = filepath.Dir(c.File)
		}
		c.Fleet.ProfileFiles = nil
		for _, f := range s.Fleet.ProfileFiles {
			if !filepath.IsAbs(f) && dir != "" {
				if abs, err := filepath.Abs(filepath.Join(dir, f)); err == nil {
					f = abs
				}
			}
			c.Fleet.ProfileFiles = append(c.Fleet.ProfileFiles, f)
		}
	}
	baseName := c.Base
	if baseName == "" && strings.HasPrefix(c.File, "builtin:") {
		baseName = strings.TrimSuffix(strings.TrimPrefix(c.File, "builtin:"), ".yaml")
	}
	c.Base = ""
	var sn yaml.Node
	if err := sn.Encode(&c); err != nil {
		return nil, fmt.Errorf("scenario %s: %v", s.Name, err)
	}
	var bn *yaml.Node
	if baseName != "" {
		base, err := sim.Load(baseName)
		if err != nil {
			return nil, err
		}
		b := *base
		b.Base = ""
		bn = &yaml.Node{}
		if err := bn.Encode(&b); err != nil {
			return nil, err
		}
		// A section the base has and s has not cannot be removed by an
		// overlay: write s whole.
		for i := 0; i+1 < len(bn.Content); i += 2 {
			if child(&sn, bn.Content[i].Value) == nil {
				bn, baseName = nil, ""
				break
			}
		}
	}
	out := &yaml.Node{Kind: yaml.MappingNode}
	add := func(k string, v *yaml.Node) {
		out.Content = append(out.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, v)
	}
	var head string
	if baseName != "" {
		head = fmt.Sprintf("The embedded scenario %s, with the sections below replacing its own.\n", baseName) +
			"Written by stormproof checker/props: \"changed\" marks the values that differ from the base\n" +
			"(for a scenario drawn by rapid, the drawn ones).\n" +
			"Run it with: stormproof run THIS-FILE"
	} else {
		head = fmt.Sprintf("Scenario %s (from %s), written whole by stormproof checker/props.\n", s.Name, s.File) +
			"Run it with: stormproof run THIS-FILE"
	}
	for i := 0; i+1 < len(sn.Content); i += 2 {
		k, v := sn.Content[i].Value, sn.Content[i+1]
		switch k {
		case "name", "description":
			add(k, v)
			if k == "name" && baseName != "" {
				add("base", &yaml.Node{Kind: yaml.ScalarNode, Value: baseName})
			}
			continue
		case "trace":
			add(k, v)
			continue
		}
		var b *yaml.Node
		if bn != nil {
			b = child(bn, k)
			if b != nil && same(b, v) {
				continue
			}
		}
		compact(v)
		comment(v, b, baseName, s.File)
		add(k, v)
	}
	out.HeadComment = head
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// child is the value of key k in mapping n, or nil.
func child(n *yaml.Node, k string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == k {
			return n.Content[i+1]
		}
	}
	return nil
}

// same reports whether two nodes hold the same value, whatever their style.
func same(a, b *yaml.Node) bool {
	var x, y any
	return a.Decode(&x) == nil && b.Decode(&y) == nil && reflect.DeepEqual(x, y)
}

// compact writes distributions ({dist: exp, mean: 10ms}) and lists of
// plain values on one line each.
func compact(n *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode:
		if len(n.Content) > 0 && n.Content[0].Value == "dist" {
			n.Style = yaml.FlowStyle
			return
		}
		for i := 1; i < len(n.Content); i += 2 {
			compact(n.Content[i])
		}
	case yaml.SequenceNode:
		flat := true
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				flat = false
				compact(c)
			}
		}
		if flat {
			n.Style = yaml.FlowStyle
		}
	}
}

// comment marks every value of n (a one-line mapping or list counts as one
// value) as changed from the base b or as in it.
func comment(n, b *yaml.Node, baseName, file string) {
	leaf := n.Kind == yaml.ScalarNode || n.Style&yaml.FlowStyle != 0
	if leaf {
		switch {
		case baseName == "":
			n.LineComment = "from " + file
		case b != nil && same(n, b):
			n.LineComment = "as in base " + baseName
		default:
			n.LineComment = "changed"
		}
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			comment(n.Content[i+1], child(b, n.Content[i].Value), baseName, file)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			var bc *yaml.Node
			if b != nil && b.Kind == yaml.SequenceNode && i < len(b.Content) {
				bc = b.Content[i]
			}
			comment(c, bc, baseName, file)
		}
	}
}
