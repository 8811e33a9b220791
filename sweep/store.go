package sweep

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/stormproof/stormproof/internal/atomicfile"
	"github.com/stormproof/stormproof/plots"
	"github.com/stormproof/stormproof/sim"
)

// The on-disk layout of a sweep's output directory.
//
//	sweep.json        what was swept (axes, labels, seeds); the same for every shard
//	cells/KEY.json    one finished cell, written atomically when it finishes
//	rows.jsonl        every finished cell of the sweep, one line each, by cell index
//
// A row carries its cell's key, so rows files of shards concatenate
// (cat a/rows.jsonl b/rows.jsonl > merged/rows.jsonl) and in any order:
// running the sweep on the merged directory finds every cell finished and
// writes the tables.
const (
	ManifestFile = "sweep.json"
	CellsDir     = "cells"
	RowsFile     = "rows.jsonl"
)

// RowVersion is the layout version of a row.
const RowVersion = 1

// Row is one finished cell.
type Row struct {
	V      int      `json:"v"`
	Key    string   `json:"key"`
	Cell   int      `json:"cell"`
	Point  int      `json:"point"`
	Seed   uint64   `json:"seed"`
	Params []string `json:"params"`
	// Summary is the run's whole summary, so tables can gain columns
	// without running the cells again.
	Summary sim.Summary `json:"summary"`
}

func (r *Row) line() []byte {
	b, _ := json.Marshal(r)
	return append(b, '\n')
}

// Manifest is sweep.json: what a report needs to draw a sweep.
type Manifest struct {
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Scenario    string         `json:"scenario"`
	Scale       float64        `json:"scale,omitempty"`
	Seeds       []uint64       `json:"seeds"`
	Fixed       []ManifestAxis `json:"set,omitempty"`
	Axes        []ManifestAxis `json:"axes"`
	Heatmap     [2]int         `json:"heatmap"`
	Cells       int            `json:"cells"`
	Design      string         `json:"design"`
}

// ManifestAxis is a swept (or fixed) path and its value labels.
type ManifestAxis struct {
	Path   string   `json:"path"`
	Labels []string `json:"labels"`
}

// Manifest describes the sweep.
func (sw *Sweep) Manifest() Manifest {
	m := Manifest{Name: sw.Name, Description: sw.Description, Scenario: sw.Scenario, Scale: sw.Scale,
		Seeds: sw.Seeds, Heatmap: sw.Heatmap, Cells: sw.NumCells(), Design: sw.Base.Design().String()}
	for _, f := range sw.Fixed {
		m.Fixed = append(m.Fixed, ManifestAxis{Path: f.Path, Labels: []string{f.Label}})
	}
	for _, a := range sw.Axes {
		ma := ManifestAxis{Path: a.Path}
		for _, v := range a.Values {
			ma.Labels = append(ma.Labels, v.Label)
		}
		m.Axes = append(m.Axes, ma)
	}
	return m
}

// ReadManifest reads a sweep directory's sweep.json.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(dir, ManifestFile), err)
	}
	return &m, nil
}

// BadRows is an error in the rows a directory holds: a merged rows.jsonl
// is the user's input, like the sweep file.
type BadRows struct{ Err error }

func (e *BadRows) Error() string { return e.Err.Error() }
func (e *BadRows) Unwrap() error { return e.Err }

// store is the finished cells of one sweep found in a directory.
type store struct {
	dir  string
	keys map[string]int // key → cell index, for this sweep's cells
	rows map[int]*Row   // by cell index
	// foreign are rows that belong to no cell of this sweep (another
	// sweep, or a grid since edited), by key: kept, not used.
	foreign map[string][]byte
}

// openStore reads rows.jsonl and cells/ of dir. Rows are matched to cells
// by key; two rows of one cell must agree (runs are deterministic).
func openStore(dir string, cells []Cell, norm func(*Row, int)) (*store, error) {
	st := &store{dir: dir, keys: map[string]int{}, rows: map[int]*Row{}, foreign: map[string][]byte{}}
	for _, c := range cells {
		st.keys[c.Key] = c.Index
	}
	add := func(where string, line []byte) error {
		var r Row
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			return &BadRows{fmt.Errorf("%s: not a sweep row: %v", where, err)}
		}
		if r.V != RowVersion || r.Key == "" {
			return &BadRows{fmt.Errorf("%s: not a version %d sweep row", where, RowVersion)}
		}
		i, ok := st.keys[r.Key]
		if !ok {
			st.foreign[r.Key] = r.line()
			return nil
		}
		// The cell's place in this sweep, which may differ from the one
		// it had when it ran (the grid may have grown).
		norm(&r, i)
		if old, ok := st.rows[i]; ok {
			if !bytes.Equal(old.line(), r.line()) {
				return &BadRows{fmt.Errorf("%s: cell %d (key %s) was already read with other results: the rows come from different versions of stormproof; keep one", where, i, r.Key)}
			}
			return nil
		}
		st.rows[i] = &r
		return nil
	}
	rowsPath := filepath.Join(dir, RowsFile)
	if f, err := os.Open(rowsPath); err == nil {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 64<<20)
		for n := 1; sc.Scan(); n++ {
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			if err := add(fmt.Sprintf("%s:%d", rowsPath, n), sc.Bytes()); err != nil {
				f.Close()
				return nil, err
			}
		}
		err := sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %v", rowsPath, err)
		}
	} else if !os.IsNotExist(err) {
		return nil, err
	}
	entries, err := os.ReadDir(filepath.Join(dir, CellsDir))
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	for _, e := range entries {
		// Only finished files: a temporary file of an interrupted write
		// starts with a dot.
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(dir, CellsDir, e.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		if err := add(p, b); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// put records a finished cell: its own file, written atomically.
func (st *store) put(r *Row) error {
	if err := atomicfile.WriteFile(filepath.Join(st.dir, CellsDir, r.Key+".json"), r.line()); err != nil {
		return err
	}
	st.rows[r.Cell] = r
	return nil
}

// sorted returns the finished rows by cell index.
func (st *store) sorted() []*Row {
	out := make([]*Row, 0, len(st.rows))
	for _, r := range st.rows {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Cell < out[j].Cell })
	return out
}

// writeRows writes rows.jsonl: every finished row, by cell index, then the
// foreign rows by key (a directory never loses a result).
func (st *store) writeRows() error {
	var b bytes.Buffer
	for _, r := range st.sorted() {
		b.Write(r.line())
	}
	keys := make([]string, 0, len(st.foreign))
	for k := range st.foreign {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.Write(st.foreign[k])
	}
	return atomicfile.WriteFile(filepath.Join(st.dir, RowsFile), b.Bytes())
}

// Finished is a complete sweep read back from its directory, without its
// sweep file: what was swept, and every cell's row.
type Finished struct {
	Manifest Manifest
	// Values holds, per point, the index of each axis's value.
	Values [][]int
	Rows   []*Row
}

// ReadFinished reads a sweep directory whose cells are all finished.
func ReadFinished(dir string) (*Finished, error) {
	m, err := ReadManifest(dir)
	if os.IsNotExist(err) {
		return nil, &BadRows{fmt.Errorf("%s: no %s: not the --out directory of stormproof sweep", dir, ManifestFile)}
	}
	if err != nil {
		return nil, &BadRows{err}
	}
	lens := make([]int, len(m.Axes))
	for a, ax := range m.Axes {
		lens[a] = len(ax.Labels)
	}
	f := &Finished{Manifest: *m, Values: pointValues(lens)}
	if len(f.Values)*len(m.Seeds) != m.Cells {
		return nil, &BadRows{fmt.Errorf("%s: %d points × %d seeds is not %d cells", filepath.Join(dir, ManifestFile), len(f.Values), len(m.Seeds), m.Cells)}
	}
	p := filepath.Join(dir, RowsFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, &BadRows{fmt.Errorf("%s: %v (is the sweep finished?)", p, err)}
	}
	// rows.jsonl holds the sweep's own rows first, by cell index; rows of
	// other sweeps follow.
	lines := bytes.SplitAfter(b, []byte("\n"))
	for i := 0; i < m.Cells; i++ {
		var r Row
		if i >= len(lines) || json.Unmarshal(lines[i], &r) != nil || r.Cell != i || r.Point != i/len(m.Seeds) {
			return nil, &BadRows{fmt.Errorf("%s:%d: not the row of cell %d: the sweep is not finished (run it to the end, then plot)", p, i+1, i)}
		}
		f.Rows = append(f.Rows, &r)
	}
	return f, nil
}

// Heatmap is the grid of metric (by name) over axes x and y (paths; ""
// for the sweep's own choice).
func (f *Finished) Heatmap(metric, x, y string) (*plots.Grid, error) {
	m := MetricIndex(metric)
	if m < 0 {
		names := make([]string, len(Metrics))
		for i, mt := range Metrics {
			names[i] = mt.Name
		}
		return nil, fmt.Errorf("unknown metric %q (metrics: %s)", metric, strings.Join(names, ", "))
	}
	axis := func(path string, def int) (int, error) {
		if path == "" {
			return def, nil
		}
		for a, ax := range f.Manifest.Axes {
			if ax.Path == path {
				return a, nil
			}
		}
		return -1, fmt.Errorf("%q is not a swept path", path)
	}
	hx, err := axis(x, f.Manifest.Heatmap[0])
	if err != nil {
		return nil, err
	}
	hy, err := axis(y, f.Manifest.Heatmap[1])
	if err != nil {
		return nil, err
	}
	// One axis chosen: the other is the first remaining one.
	other := func(not int) int {
		for a := range f.Manifest.Axes {
			if a != not {
				return a
			}
		}
		return -1
	}
	switch {
	case x != "" && y == "":
		hy = other(hx)
	case y != "" && x == "":
		hx = other(hy)
	}
	if hx < 0 {
		return nil, fmt.Errorf("nothing was swept: no heatmap")
	}
	if hx == hy {
		return nil, fmt.Errorf("x and y are the same path")
	}
	return heatmapGrid(f.Manifest.Axes, len(f.Manifest.Seeds), f.Values, PointStats(len(f.Values), f.Rows), m, hx, hy), nil
}
