// Package sweep runs a grid of scenario variants × seeds: the grid and its
// cells, a parallel runner whose results do not depend on how many jobs
// ran them or in which order, a resumable on-disk store of finished cells,
// sharding across machines, and the result tables (CSV, Parquet, per-cell
// statistics) and heatmap.
package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/stormproof/stormproof/internal/spec"
	"github.com/stormproof/stormproof/sim"
)

// File is a sweep file as written.
type File struct {
	Name        string    `yaml:"name"`
	Description string    `yaml:"description"`
	Scenario    string    `yaml:"scenario"`
	Scale       float64   `yaml:"scale"`
	Seeds       yaml.Node `yaml:"seeds"`
	Set         yaml.Node `yaml:"set"`
	Grid        yaml.Node `yaml:"grid"`
	Heatmap     []string  `yaml:"heatmap"`
}

// Sweep is a sweep file resolved: its scenario loaded and every point of
// the grid checked.
type Sweep struct {
	File        string
	Name        string
	Description string
	// Scenario is the scenario as named in the file; Base it loaded.
	Scenario string
	Base     *sim.Scenario
	// Scale multiplies the scenario's scale (0: unchanged).
	Scale float64
	Seeds []uint64
	// Fixed values apply to every cell; Axes span the grid.
	Fixed []Value
	Axes  []Axis
	// Heatmap holds the indices in Axes of the heatmap's x and y axes
	// (y = -1: a single axis; x = -1: no heatmap).
	Heatmap [2]int
	// Points are the grid's points, first axis varying slowest.
	Points []Point
}

// Value is one value of a path, with its label for tables and plots.
type Value struct {
	Path  string
	Node  *yaml.Node
	Label string
}

// Axis is one swept path and its values.
type Axis struct {
	Path   string
	Values []Value
	line   int
}

// Point is one combination of axis values (an index into each axis), with
// the scenario it makes (seed not yet applied).
type Point struct {
	Index    int
	Values   []int
	Labels   []string
	Scenario *sim.Scenario
}

// Cell is one run: a point and a seed.
type Cell struct {
	Index int
	Point int
	Seed  uint64
	// Key identifies the cell's resolved scenario (seed and scale
	// included); finished cells are found by it, so reordering or growing
	// the grid keeps the cells already run.
	Key      string
	Scenario *sim.Scenario
}

// MaxCells bounds a sweep's size (a typo such as seeds: 100000 is caught).
const MaxCells = 1_000_000

// Load reads and resolves a sweep file.
func Load(path string) (*Sweep, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: cannot read sweep: %v", path, err)
	}
	return Parse(path, data)
}

// Parse resolves a sweep document; the scenario path is relative to file.
func Parse(file string, data []byte) (*Sweep, error) {
	var f File
	root, err := spec.Decode(file, data, &f)
	if err != nil {
		return nil, err
	}
	errf := func(field, format string, a ...any) error { return spec.Errorf(file, root, field, format, a...) }
	at := func(n *yaml.Node, field, format string, a ...any) error {
		return &spec.Error{File: file, Line: n.Line, Field: field, Msg: fmt.Sprintf(format, a...)}
	}
	sw := &Sweep{File: file, Name: f.Name, Description: f.Description, Scenario: f.Scenario, Scale: f.Scale}
	if sw.Name == "" {
		sw.Name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	if err := PathName(sw.Name); err != nil {
		return nil, errf("name", "%v", err)
	}
	if f.Scenario == "" {
		return nil, errf("scenario", "missing: name an embedded scenario (%s) or a scenario file", strings.Join(sim.Embedded(), ", "))
	}
	name := f.Scenario
	if !slices.Contains(sim.Embedded(), name) {
		name = filepath.Join(filepath.Dir(file), name)
		if _, err := os.Stat(name); err != nil && !strings.ContainsAny(f.Scenario, "/.") {
			return nil, errf("scenario", "unknown scenario %q: not an embedded scenario (%s) and no file %s", f.Scenario, strings.Join(sim.Embedded(), ", "), name)
		}
		if !strings.ContainsAny(name, "/.") {
			name = "./" + name // sim.Load takes a bare word for an embedded name
		}
	}
	if sw.Base, err = sim.Load(name); err != nil {
		return nil, errf("scenario", "%v", err)
	}
	if err := spec.OpenClosed(0, 100).Check(f.Scale); spec.Node(root, "scale") != nil && err != nil {
		return nil, errf("scale", "%v", err)
	}
	if sw.Seeds, err = seeds(file, &f.Seeds); err != nil {
		return nil, err
	}
	if f.Set.Kind != 0 {
		if f.Set.Kind != yaml.MappingNode {
			return nil, at(&f.Set, "set", "want a mapping of dotted scenario paths to one value each")
		}
		for i := 0; i+1 < len(f.Set.Content); i += 2 {
			k, v := f.Set.Content[i], f.Set.Content[i+1]
			sw.Fixed = append(sw.Fixed, Value{Path: k.Value, Node: v, Label: Label(v)})
		}
	}
	if f.Grid.Kind != yaml.MappingNode || len(f.Grid.Content) == 0 {
		n := &f.Grid
		if n.Kind == 0 {
			n = root
		}
		return nil, at(n, "grid", "want a mapping of dotted scenario paths to lists of values, e.g. cloud.cache_timeout: [50ms, 100ms]")
	}
	total := len(sw.Seeds)
	for i := 0; i+1 < len(f.Grid.Content); i += 2 {
		k, v := f.Grid.Content[i], f.Grid.Content[i+1]
		field := "grid." + k.Value
		if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
			return nil, at(v, field, "want a non-empty list of values")
		}
		ax := Axis{Path: k.Value, line: k.Line}
		seen := map[string]bool{}
		for _, item := range v.Content {
			l := Label(item)
			if seen[l] {
				return nil, at(item, field, "value %s is listed twice", l)
			}
			seen[l] = true
			ax.Values = append(ax.Values, Value{Path: k.Value, Node: item, Label: l})
		}
		for _, fx := range sw.Fixed {
			if fx.Path == ax.Path {
				return nil, at(k, field, "also in set: a path is either fixed or swept")
			}
		}
		total *= len(ax.Values)
		if total > MaxCells {
			return nil, at(v, field, "the sweep would have more than %d cells", MaxCells)
		}
		sw.Axes = append(sw.Axes, ax)
	}
	if sw.Heatmap, err = heatmapAxes(sw, f.Heatmap, func(format string, a ...any) error { return errf("heatmap", format, a...) }); err != nil {
		return nil, err
	}
	if err := sw.points(file, root); err != nil {
		return nil, err
	}
	return sw, nil
}

// PathName checks a name that becomes a directory (stormproof-sweep/NAME):
// one path element that stays inside its parent, so a name cannot make a
// command write outside its output directory.
func PathName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return fmt.Errorf("%q cannot name a directory", name)
	case strings.ContainsAny(name, "/\\\x00"):
		return fmt.Errorf("%q must be one path element (no / or \\), since it names the output directory", name)
	case len(name) > 200:
		return fmt.Errorf("longer than 200 bytes")
	}
	return nil
}

func seeds(file string, n *yaml.Node) ([]uint64, error) {
	bad := func(line int, format string, a ...any) error {
		return &spec.Error{File: file, Line: line, Field: "seeds", Msg: fmt.Sprintf(format, a...)}
	}
	switch n.Kind {
	case 0:
		return []uint64{1}, nil
	case yaml.ScalarNode:
		k, err := strconv.Atoi(n.Value)
		if err != nil || k < 1 || k > MaxCells {
			return nil, bad(n.Line, "want a count in [1, %d] (seeds 1..N) or a list of seeds, got %q", MaxCells, n.Value)
		}
		out := make([]uint64, k)
		for i := range out {
			out[i] = uint64(i + 1)
		}
		return out, nil
	case yaml.SequenceNode:
		var out []uint64
		seen := map[uint64]bool{}
		for _, item := range n.Content {
			v, err := strconv.ParseUint(item.Value, 10, 64)
			if err != nil || item.Kind != yaml.ScalarNode {
				return nil, bad(item.Line, "want a non-negative integer seed, got %q", item.Value)
			}
			if seen[v] {
				return nil, bad(item.Line, "seed %d is listed twice", v)
			}
			seen[v] = true
			out = append(out, v)
		}
		if len(out) == 0 {
			return nil, bad(n.Line, "empty list")
		}
		return out, nil
	}
	return nil, bad(n.Line, "want a count (seeds 1..N) or a list of seeds")
}

func heatmapAxes(sw *Sweep, names []string, errf func(string, ...any) error) ([2]int, error) {
	h := [2]int{-1, -1}
	if len(names) == 0 {
		for i := 0; i < min(2, len(sw.Axes)); i++ {
			h[i] = i
		}
		return h, nil
	}
	if len(names) > 2 {
		return h, errf("want one or two swept paths (x, then y), got %d", len(names))
	}
	for i, n := range names {
		h[i] = slices.IndexFunc(sw.Axes, func(a Axis) bool { return a.Path == n })
		if h[i] < 0 {
			return h, errf("%q is not a path of the grid", n)
		}
	}
	if h[0] == h[1] {
		return h, errf("x and y are the same path")
	}
	return h, nil
}

// pointValues enumerates a grid of axes of the given lengths: for each
// point, the index of each axis's value, the first axis varying slowest.
func pointValues(lens []int) [][]int {
	n := 1
	for _, l := range lens {
		n *= l
	}
	out := make([][]int, n)
	for p := range out {
		idx := make([]int, len(lens))
		rem := p
		for a := len(lens) - 1; a >= 0; a-- {
			idx[a] = rem % lens[a]
			rem /= lens[a]
		}
		out[p] = idx
	}
	return out
}

// points enumerates the grid and checks each point's scenario.
func (sw *Sweep) points(file string, root *yaml.Node) error {
	lens := make([]int, len(sw.Axes))
	for a, ax := range sw.Axes {
		lens[a] = len(ax.Values)
	}
	for p, idx := range pointValues(lens) {
		vals := append([]Value(nil), sw.Fixed...)
		labels := make([]string, len(sw.Axes))
		for a, ax := range sw.Axes {
			vals = append(vals, ax.Values[idx[a]])
			labels[a] = ax.Values[idx[a]].Label
		}
		sets := make([]sim.Set, len(vals))
		for i, v := range vals {
			sets[i] = sim.Set{Path: v.Path, Value: v.Node}
		}
		s, err := sw.Base.With(sets)
		if err != nil {
			var se *sim.SetError
			if !errors.As(err, &se) {
				return &spec.Error{File: file, Msg: err.Error()}
			}
			if se.Index >= 0 {
				v := vals[se.Index]
				where := "grid." + v.Path
				if se.Index < len(sw.Fixed) {
					where = "set." + v.Path
				}
				msg := se.Error()
				if len(sw.Axes) > 1 && se.Index >= len(sw.Fixed) {
					msg += " (at " + sw.describe(labels) + ")"
				}
				return &spec.Error{File: file, Line: v.Node.Line, Field: where, Msg: msg}
			}
			return spec.Errorf(file, root, "grid", "at %s: %s", sw.describe(labels), se.Error())
		}
		if sw.Scale != 0 {
			if s, err = s.Apply(sim.Override{Scale: sw.Scale}); err != nil {
				return spec.Errorf(file, root, "scale", "%s", strings.TrimPrefix(err.Error(), sw.Base.File+": "))
			}
		}
		sw.Points = append(sw.Points, Point{Index: p, Values: idx, Labels: labels, Scenario: s})
	}
	return nil
}

// describe names a point by its labels: "cloud.cache_timeout=50ms, …".
func (sw *Sweep) describe(labels []string) string {
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = sw.Axes[i].Path + "=" + l
	}
	return strings.Join(parts, ", ")
}

// Line is the line of the grid's first swept path (for errors about the
// grid as a whole).
func (sw *Sweep) Line() int {
	if len(sw.Axes) == 0 {
		return 0
	}
	return sw.Axes[0].line
}

// Describe names a point by its axis values.
func (sw *Sweep) Describe(p int) string { return sw.describe(sw.Points[p].Labels) }

// NumCells is the number of cells: points × seeds.
func (sw *Sweep) NumCells() int { return len(sw.Points) * len(sw.Seeds) }

// Cell returns cell i: point i / len(seeds), seed i % len(seeds).
func (sw *Sweep) Cell(i int) (Cell, error) {
	p, k := i/len(sw.Seeds), i%len(sw.Seeds)
	seed := sw.Seeds[k]
	s, err := sw.Points[p].Scenario.Apply(sim.Override{Seed: &seed})
	if err != nil {
		return Cell{}, err
	}
	sum := sha256.Sum256(s.JSON())
	return Cell{Index: i, Point: p, Seed: seed, Key: hex.EncodeToString(sum[:16]), Scenario: s}, nil
}

// Label writes a YAML value compactly for tables and plots: 50ms, [],
// [jittered-backoff], {initial: 1s, cap: 60s}.
func Label(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value
	case yaml.SequenceNode:
		parts := make([]string, len(n.Content))
		for i, c := range n.Content {
			parts[i] = Label(c)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case yaml.MappingNode:
		parts := make([]string, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			parts = append(parts, Label(n.Content[i])+": "+Label(n.Content[i+1]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case yaml.AliasNode:
		return Label(n.Alias)
	}
	return n.Value
}
