package sweep

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/stormproof/stormproof/internal/atomicfile"
	"github.com/stormproof/stormproof/internal/version"
	"github.com/stormproof/stormproof/plots"
)

// Output files written when every cell of a sweep is finished.
const (
	ResultsCSV     = "results.csv"
	ResultsParquet = "results.parquet"
	StatsCSVFile   = "stats.csv"
	StatsMDFile    = "stats.md"
	HeatmapPNG     = "heatmap.png"
	HeatmapSVG     = "heatmap.svg"
)

// tableFiles are the outputs of a complete sweep.
var tableFiles = []string{ResultsCSV, ResultsParquet, StatsCSVFile, StatsMDFile, HeatmapPNG, HeatmapSVG}

// ResultRecords is results.csv: one line per cell, by cell index.
func ResultRecords(sw *Sweep, rows []*Row) [][]string {
	head := []string{"cell", "point", "seed"}
	for _, a := range sw.Axes {
		head = append(head, a.Path)
	}
	for _, m := range Metrics {
		head = append(head, m.Name)
	}
	recs := [][]string{head}
	for _, r := range rows {
		rec := []string{strconv.Itoa(r.Cell), strconv.Itoa(r.Point), strconv.FormatUint(r.Seed, 10)}
		rec = append(rec, sw.Points[r.Point].Labels...)
		for _, m := range Metrics {
			v := m.Get(&r.Summary)
			if m.Int {
				rec = append(rec, strconv.FormatInt(int64(v), 10))
			} else {
				rec = append(rec, num(v))
			}
		}
		recs = append(recs, rec)
	}
	return recs
}

func csvBytes(recs [][]string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.WriteAll(recs) // a bytes.Buffer does not fail
	return b.Bytes()
}

// WriteParquet writes the results table as Parquet: the same columns as
// results.csv, in the same order (counts as INT64, rates as DOUBLE, swept
// values as strings).
func WriteParquet(w io.Writer, sw *Sweep, rows []*Row) error {
	// A struct type made for this sweep's columns keeps them in table
	// order (a parquet.Group would sort them by name).
	var fields []reflect.StructField
	add := func(name string, t reflect.Type) {
		fields = append(fields, reflect.StructField{Name: fmt.Sprintf("F%d", len(fields)), Type: t,
			Tag: reflect.StructTag(fmt.Sprintf(`parquet:%q`, name))})
	}
	i64, f64, str := reflect.TypeOf(int64(0)), reflect.TypeOf(float64(0)), reflect.TypeOf("")
	add("cell", i64)
	add("point", i64)
	add("seed", i64)
	for _, a := range sw.Axes {
		add(a.Path, str)
	}
	for _, m := range Metrics {
		if m.Int {
			add(m.Name, i64)
		} else {
			add(m.Name, f64)
		}
	}
	typ := reflect.StructOf(fields)
	schema := parquet.SchemaOf(reflect.New(typ).Interface())
	// Set, not taken from the build's module information, so the file is
	// the same bytes however the binary was built.
	pw := parquet.NewWriter(w, schema, parquet.CreatedBy("stormproof", strings.TrimPrefix(version.Version, "stormproof "), "none"))
	for _, r := range rows {
		v := reflect.New(typ).Elem()
		k := 0
		set := func(x any) { v.Field(k).Set(reflect.ValueOf(x)); k++ }
		set(int64(r.Cell))
		set(int64(r.Point))
		set(int64(r.Seed))
		for _, l := range sw.Points[r.Point].Labels {
			set(l)
		}
		for _, m := range Metrics {
			if x := m.Get(&r.Summary); m.Int {
				set(int64(x))
			} else {
				set(x)
			}
		}
		if err := pw.Write(v.Addr().Interface()); err != nil {
			return err
		}
	}
	return pw.Close()
}

// HeatmapGrid is the mean of metric m over the sweep's heatmap axes: over
// the seeds of each point and, if more than two paths are swept, over the
// other paths' values too. Nil if nothing is swept.
func HeatmapGrid(sw *Sweep, stats [][]Stat, m int) *plots.Grid {
	values := make([][]int, len(sw.Points))
	for p, pt := range sw.Points {
		values[p] = pt.Values
	}
	return heatmapGrid(sw.Manifest().Axes, len(sw.Seeds), values, stats, m, sw.Heatmap[0], sw.Heatmap[1])
}

// heatmapGrid averages metric m of each point into the cells of axes hx
// (x) and hy (y; -1: a single row).
func heatmapGrid(axes []ManifestAxis, seeds int, values [][]int, stats [][]Stat, m, hx, hy int) *plots.Grid {
	if hx < 0 {
		return nil
	}
	g := &plots.Grid{XLabel: axes[hx].Path, XTicks: TickLabels(axes[hx]), Text: plots.Number, Scale: Metrics[m].Title}
	g.YTicks = []string{""}
	if hy >= 0 {
		g.YLabel, g.YTicks = axes[hy].Path, TickLabels(axes[hy])
	}
	sum := make([][]float64, len(g.YTicks))
	n := make([][]int, len(g.YTicks))
	for y := range sum {
		sum[y], n[y] = make([]float64, len(g.XTicks)), make([]int, len(g.XTicks))
	}
	for p, v := range values {
		x, y := v[hx], 0
		if hy >= 0 {
			y = v[hy]
		}
		sum[y][x] += stats[p][m].Mean
		n[y][x]++
	}
	g.Z = sum
	for y := range sum {
		for x := range sum[y] {
			g.Z[y][x] = sum[y][x] / float64(n[y][x])
		}
	}
	g.Title = fmt.Sprintf("%s: mean over %d seeds", Metrics[m].Title, seeds)
	var others []string
	for a, ax := range axes {
		if a != hx && a != hy {
			others = append(others, ax.Path)
		}
	}
	if len(others) > 0 {
		g.Title += " and over " + strings.Join(others, ", ")
	}
	return g
}

// TickLabels are an axis's value labels as a figure or a page shows them: a list of
// switches without its brackets, its items joined by " + ", and the empty
// list as "no mitigation" on a mitigations path ("none" elsewhere).
func TickLabels(ax ManifestAxis) []string {
	out := make([]string, len(ax.Labels))
	for i, l := range ax.Labels {
		inner, ok := strings.CutPrefix(l, "[")
		if inner, ok2 := strings.CutSuffix(inner, "]"); ok && ok2 {
			switch {
			case strings.TrimSpace(inner) == "" && strings.HasSuffix(ax.Path, "mitigations"):
				l = "no mitigation"
			case strings.TrimSpace(inner) == "":
				l = "none"
			default:
				items := strings.FieldsFunc(inner, func(r rune) bool { return r == ',' || r == ' ' })
				l = strings.Join(items, " + ")
			}
		}
		out[i] = l
	}
	return out
}

// WriteTables writes results.csv, results.parquet, stats.csv, stats.md and
// the heatmap (PNG and SVG) of a complete sweep into dir, each atomically,
// and returns their paths.
func WriteTables(dir string, sw *Sweep, rows []*Row) ([]string, error) {
	if len(rows) != sw.NumCells() {
		return nil, fmt.Errorf("sweep %s: %d of %d cells finished: tables need them all", sw.Name, len(rows), sw.NumCells())
	}
	stats := PointStats(len(sw.Points), rows)
	var pq bytes.Buffer
	if err := WriteParquet(&pq, sw, rows); err != nil {
		return nil, err
	}
	files := []struct {
		name string
		data []byte
	}{
		{ResultsCSV, csvBytes(ResultRecords(sw, rows))},
		{ResultsParquet, pq.Bytes()},
		{StatsCSVFile, csvBytes(StatsCSV(sw, stats))},
		{StatsMDFile, []byte(StatsMarkdown(sw, stats))},
	}
	if g := HeatmapGrid(sw, stats, 0); g != nil {
		fig, err := plots.Heatmap(g)
		if err != nil {
			return nil, err
		}
		for _, name := range []string{HeatmapPNG, HeatmapSVG} {
			format, _ := plots.Format(name)
			b, err := fig.Bytes(format)
			if err != nil {
				return nil, err
			}
			files = append(files, struct {
				name string
				data []byte
			}{name, b})
		}
	}
	var paths []string
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := atomicfile.WriteFile(p, f.data); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}
