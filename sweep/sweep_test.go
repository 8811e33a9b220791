package sweep

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

// small is a sweep of 2 × 2 points × 2 seeds on the default scenario at
// 1/20 of its size (8 cells, well under a second in all).
const small = `name: small
description: a test sweep
scenario: wyze-2024-02
scale: 0.05
seeds: 2
grid:
  cloud.cache_timeout: [50ms, 250ms]
  cloud.mitigations: [[], [jittered-backoff]]
`

func write(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func parse(t *testing.T, text string) *Sweep {
	t.Helper()
	sw, err := Load(write(t, t.TempDir(), "s.yaml", text))
	if err != nil {
		t.Fatal(err)
	}
	return sw
}

func run(t *testing.T, sw *Sweep, dir string, opt Options) *Outcome {
	t.Helper()
	out, err := Run(context.Background(), sw, dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// finish runs a sweep to the end and writes its tables.
func finish(t *testing.T, sw *Sweep, dir string, opt Options) *Outcome {
	t.Helper()
	out := run(t, sw, dir, opt)
	if !out.Complete {
		t.Fatalf("sweep not complete: %+v", out)
	}
	if _, err := WriteTables(dir, sw, out.Rows); err != nil {
		t.Fatal(err)
	}
	return out
}

// outputs are the files a finished sweep writes (cells/ aside).
var outputs = []string{ManifestFile, RowsFile, ResultsCSV, ResultsParquet, StatsCSVFile, StatsMDFile, HeatmapPNG, HeatmapSVG}

func sameOutputs(t *testing.T, a, b string) {
	t.Helper()
	for _, f := range outputs {
		x, err := os.ReadFile(filepath.Join(a, f))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Fatalf("%s differs between %s and %s", f, a, b)
		}
	}
}

func TestParse(t *testing.T) {
	sw := parse(t, small)
	if sw.Name != "small" || len(sw.Seeds) != 2 || sw.Seeds[1] != 2 || len(sw.Axes) != 2 || len(sw.Points) != 4 || sw.NumCells() != 8 {
		t.Fatalf("parsed %+v", sw)
	}
	if got := sw.Points[1].Labels; !reflect.DeepEqual(got, []string{"50ms", "[jittered-backoff]"}) {
		t.Fatalf("point 1 labels %v (the last axis varies fastest)", got)
	}
	keys := map[string]bool{}
	for i := 0; i < sw.NumCells(); i++ {
		c, err := sw.Cell(i)
		if err != nil {
			t.Fatal(err)
		}
		keys[c.Key] = true
		p := sw.Points[i/2]
		wantTimeout := map[string]time.Duration{"50ms": 50 * time.Millisecond, "250ms": 250 * time.Millisecond}[p.Labels[0]]
		if c.Seed != uint64(i%2+1) || c.Scenario.Seed != c.Seed || c.Scenario.Cloud.CacheTimeout.D() != wantTimeout ||
			c.Scenario.Scale != 0.05 || (p.Labels[1] == "[]") != (c.Scenario.Cloud.Mitigations == 0) {
			t.Fatalf("cell %d: seed %d scale %g cloud %+v for %v", i, c.Seed, c.Scenario.Scale, c.Scenario.Cloud, p.Labels)
		}
	}
	if len(keys) != 8 {
		t.Fatalf("%d distinct keys for 8 cells", len(keys))
	}
	// Fixed values, a list of seeds and a chosen heatmap.
	sw = parse(t, `scenario: wyze-2024-02
seeds: [7, 3]
set:
  cloud.mitigations: [jittered-backoff]
grid:
  cloud.workers: [2, 4]
  cloud.jitter_backoff.jitter: [none, full]
  cloud.cache_timeout: [100ms]
heatmap: [cloud.jitter_backoff.jitter, cloud.cache_timeout]
`)
	c, _ := sw.Cell(3)
	if sw.Name != "s" || c.Seed != 3 || c.Scenario.Cloud.Workers != 2 || c.Scenario.Cloud.JitterBackoff.Jitter != "full" ||
		c.Scenario.Design().String() != "naive-pool+jittered-backoff" || sw.Heatmap != [2]int{1, 2} {
		t.Fatalf("cell 3: seed %d, %+v, heatmap %v", c.Seed, c.Scenario.Cloud, sw.Heatmap)
	}
}

// A scenario file is found relative to the sweep file.
func TestScenarioRelativeToSweep(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	write(t, dir, "sub/my.yaml", "base: wyze-2024-02\ncloud:\n  workers: 3   # assumed\n")
	sw, err := Load(write(t, dir, "sub/s.yaml", "scenario: my.yaml\ngrid:\n  cloud.pool_size: [2, 3]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := sw.Cell(1); c.Scenario.Cloud.Workers != 3 || c.Scenario.Cloud.PoolSize != 3 {
		t.Fatalf("cloud %+v", c.Scenario.Cloud)
	}
}

// Every kind of bad sweep file: one error naming file, line and field.
func TestParseErrors(t *testing.T) {
	head := "scenario: wyze-2024-02\n"
	cases := []struct{ name, doc, want string }{
		{"unknown key", head + "colour: red\n", "s.yaml:2: colour: unknown field"},
		{"no scenario", "grid:\n  cloud.workers: [1]\n", "s.yaml: scenario: missing"},
		{"unknown scenario", "scenario: nope\ngrid:\n  cloud.workers: [1]\n", `s.yaml:1: scenario: unknown scenario "nope": not an embedded scenario`},
		{"bad scenario file", "scenario: b.yaml\ngrid:\n  cloud.workers: [1]\n", "s.yaml:1: scenario: "},
		{"no grid", head, "s.yaml:1: grid: want a mapping"},
		{"grid not a map", head + "grid: [1, 2]\n", "s.yaml:2: grid: want a mapping"},
		{"empty values", head + "grid:\n  cloud.workers: []\n", "s.yaml:3: grid.cloud.workers: want a non-empty list"},
		{"scalar values", head + "grid:\n  cloud.workers: 3\n", "s.yaml:3: grid.cloud.workers: want a non-empty list"},
		{"twice", head + "grid:\n  cloud.workers: [1, 2, 1]\n", "s.yaml:3: grid.cloud.workers: value 1 is listed twice"},
		{"unknown path", head + "grid:\n  cloud.colour: [red]\n", `s.yaml:3: grid.cloud.colour: cloud.colour: no field "colour" in cloud`},
		{"bad value", head + "grid:\n  cloud.workers: [2, 4]\n  cloud.cache_timeout: [50ms,\n    fast]\n", `s.yaml:5: grid.cloud.cache_timeout: cloud.cache_timeout: bad duration "fast"`},
		{"invalid value", head + "grid:\n  cloud.workers: [2, 0]\n", "s.yaml:3: grid.cloud.workers: cloud.workers: must be ≥ 1"},
		{"bad set", head + "set:\n  cloud.client: fast\ngrid:\n  cloud.workers: [2]\n", "s.yaml:3: set.cloud.client: cloud.client: unknown cache client"},
		{"set and grid", head + "set:\n  cloud.workers: 2\ngrid:\n  cloud.workers: [2]\n", "s.yaml:5: grid.cloud.workers: also in set"},
		{"combination", head + "grid:\n  cloud.jitter_backoff.initial: [1s, 10m]\n  cloud.jitter_backoff.cap: [30s, 1h]\n",
			"s.yaml:4: grid.cloud.jitter_backoff.cap: cloud.jitter_backoff: need initial > 0, cap ≥ initial (at cloud.jitter_backoff.initial=10m, cloud.jitter_backoff.cap=30s)"},
		{"seeds zero", head + "seeds: 0\ngrid:\n  cloud.workers: [2]\n", "s.yaml:2: seeds: want a count"},
		{"seeds twice", head + "seeds: [1, 1]\ngrid:\n  cloud.workers: [2]\n", "s.yaml:2: seeds: seed 1 is listed twice"},
		{"seed negative", head + "seeds: [1, -1]\ngrid:\n  cloud.workers: [2]\n", "s.yaml:2: seeds: want a non-negative integer seed"},
		{"name climbs out", "name: ../../x\n" + head + "grid:\n  cloud.workers: [2]\n", `s.yaml:1: name: "../../x" must be one path element`},
		{"name is a path", "name: a/b\n" + head + "grid:\n  cloud.workers: [2]\n", `s.yaml:1: name: "a/b" must be one path element`},
		{"name is dot-dot", "name: ..\n" + head + "grid:\n  cloud.workers: [2]\n", `s.yaml:1: name: ".." cannot name a directory`},
		{"nan in grid", head + "grid:\n  cloud.workers: [2]\n  fleet.share_fraction: [0.1, .nan]\n", "s.yaml:4: grid.fleet.share_fraction: fleet.share_fraction: must be a finite number in [0, 1], got NaN"},
		{"inf in set", head + "set:\n  users.tap_prob: .inf\ngrid:\n  cloud.workers: [2]\n", "s.yaml:3: set.users.tap_prob: users.tap_prob: must be a finite number"},
		{"nan scale", head + "scale: .nan\ngrid:\n  cloud.workers: [2]\n", "s.yaml:2: scale: must be a finite number in (0, 100], got NaN"},
		{"scale", head + "scale: 0\ngrid:\n  cloud.workers: [2]\n", "s.yaml:2: scale: must be a finite number in (0, 100]"},
		{"too big", head + "scale: 100\ngrid:\n  fleet.cameras: [10000, 1000000]\n", "s.yaml:2: scale: "},
		{"heatmap", head + "grid:\n  cloud.workers: [2]\nheatmap: [cloud.pool_size]\n", `s.yaml:4: heatmap: "cloud.pool_size" is not a path of the grid`},
		{"too many cells", head + "seeds: 1000000\ngrid:\n  cloud.workers: [1, 2]\n", "s.yaml:4: grid.cloud.workers: the sweep would have more than"},
		{"malformed", head + "grid: {cloud.workers: [1\n", "s.yaml:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "b.yaml", "base: wyze-2024-02\ncloud:\n  workers: -1   # assumed\n")
			_, err := Load(write(t, dir, "s.yaml", c.doc))
			if err == nil {
				t.Fatal("no error")
			}
			msg := strings.TrimPrefix(err.Error(), dir+"/")
			if !strings.HasPrefix(msg, c.want) || strings.Contains(msg, "\n") {
				t.Fatalf("got  %q\nwant %q…", msg, c.want)
			}
		})
	}
}

// The results do not depend on how many jobs ran the cells.
func TestResultsDoNotDependOnJobs(t *testing.T) {
	sw := parse(t, small)
	a, b := t.TempDir(), t.TempDir()
	finish(t, sw, a, Options{Jobs: 1})
	out := finish(t, sw, b, Options{Jobs: 3})
	if out.Ran != 8 || out.Skipped != 0 {
		t.Fatalf("outcome %+v", out)
	}
	sameOutputs(t, a, b)
}

// A sweep stopped by a cell limit, then by a cancel, then run again,
// redoes no finished cell and ends with the same results as one run.
func TestResume(t *testing.T) {
	sw := parse(t, small)
	dir := t.TempDir()
	out := run(t, sw, dir, Options{Jobs: 2, Limit: 3})
	if out.Ran != 3 || out.Left != 5 || out.Complete || out.Finished != 3 {
		t.Fatalf("limited run: %+v", out)
	}
	stamp := cellFiles(t, dir)
	// Cancel after the first cell finishes: the running cells finish and
	// are kept, no new one starts (with one job, the worker may have taken
	// one more cell before the cancel).
	ctx, cancel := context.WithCancel(context.Background())
	out, err := Run(ctx, sw, dir, Options{Jobs: 1, Progress: func(Progress) { cancel() }})
	if !errors.Is(err, context.Canceled) || out.Skipped != 3 || out.Ran < 1 || out.Ran > 2 || out.Left != 5-out.Ran {
		t.Fatalf("cancelled run: %v %+v", err, out)
	}
	ran := out.Ran
	for k, mt := range cellFiles(t, dir) {
		if old, ok := stamp[k]; ok && !old.Equal(mt) {
			t.Fatalf("cell file %s was written again", k)
		}
	}
	stamp = cellFiles(t, dir)
	out = run(t, sw, dir, Options{Jobs: 2})
	if out.Skipped != 3+ran || out.Ran != 5-ran || !out.Complete {
		t.Fatalf("resumed run: %+v", out)
	}
	for k, mt := range cellFiles(t, dir) {
		if old, ok := stamp[k]; ok && !old.Equal(mt) {
			t.Fatalf("cell file %s was written again", k)
		}
	}
	if _, err := WriteTables(dir, sw, out.Rows); err != nil {
		t.Fatal(err)
	}
	one := t.TempDir()
	finish(t, sw, one, Options{Jobs: 2})
	sameOutputs(t, dir, one)
	// A finished sweep run again runs nothing.
	if out = run(t, sw, dir, Options{}); out.Ran != 0 || out.Skipped != 8 {
		t.Fatalf("rerun: %+v", out)
	}
}

func cellFiles(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(dir, CellsDir))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]time.Time{}
	for _, e := range es {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(e.Name(), ".") {
			t.Fatalf("temporary file %s left behind", e.Name())
		}
		out[e.Name()] = fi.ModTime()
	}
	return out
}

// Three shards, their rows files concatenated (in any order), give the
// same bytes as one run, without running a cell again.
func TestShardsConcatenate(t *testing.T) {
	sw := parse(t, small)
	one := t.TempDir()
	finish(t, sw, one, Options{Jobs: 2})
	var rows [][]byte
	mine := 0
	for i := 0; i < 3; i++ {
		d := t.TempDir()
		out := run(t, sw, d, Options{Jobs: 1, Shard: i, Shards: 3})
		if out.Complete || out.Ran != out.Mine {
			t.Fatalf("shard %d: %+v", i, out)
		}
		for _, r := range out.Rows {
			if r.Cell%3 != i {
				t.Fatalf("shard %d ran cell %d", i, r.Cell)
			}
		}
		mine += out.Mine
		b, err := os.ReadFile(filepath.Join(d, RowsFile))
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, b)
	}
	if mine != 8 {
		t.Fatalf("shards hold %d cells, want 8", mine)
	}
	merged := t.TempDir()
	write(t, merged, RowsFile, string(rows[2])+string(rows[0])+string(rows[1]))
	out := finish(t, sw, merged, Options{Jobs: 2})
	if out.Ran != 0 || out.Skipped != 8 {
		t.Fatalf("merged: %+v", out)
	}
	sameOutputs(t, one, merged)
}

// Growing the grid keeps the cells already run (they are found by key,
// not by index); rows of other sweeps are ignored; two different results
// for one cell are an error.
func TestRowsMatchedByKey(t *testing.T) {
	sw := parse(t, small)
	dir := t.TempDir()
	finish(t, sw, dir, Options{Jobs: 2})
	grown := parse(t, strings.Replace(small, "seeds: 2", "seeds: 3", 1))
	// Stopped before it finishes, the grown sweep leaves no table of the
	// smaller one behind to be read as its own.
	if out := run(t, grown, dir, Options{Jobs: 2, Limit: 1}); out.Complete {
		t.Fatal("complete after one cell")
	}
	for _, f := range tableFiles {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Fatalf("%s of the smaller sweep is still there", f)
		}
	}
	out := run(t, grown, dir, Options{Jobs: 2})
	if out.Skipped != 9 || out.Ran != 3 || !out.Complete {
		t.Fatalf("grown: %+v", out)
	}
	for _, r := range out.Rows {
		if want := r.Point*3 + int(r.Seed) - 1; r.Cell != want {
			t.Fatalf("row of point %d seed %d has cell %d, want %d", r.Point, r.Seed, r.Cell, want)
		}
	}
	// Another sweep in the same directory shares the 250ms cells (of
	// seeds 1 and 2) and keeps the others' rows without using them.
	other := parse(t, strings.Replace(small, "50ms, 250ms", "250ms, 75ms", 1))
	out = run(t, other, dir, Options{Jobs: 2, Limit: 1})
	if out.Foreign != 8 || out.Skipped != 4 || out.Ran != 1 {
		t.Fatalf("other sweep: %+v", out)
	}
	if out = run(t, grown, dir, Options{}); out.Ran != 0 || !out.Complete || out.Foreign != 1 {
		t.Fatalf("the first sweep lost rows to the other: %+v", out)
	}
	// Tamper with one finished cell.
	b, _ := os.ReadFile(filepath.Join(dir, RowsFile))
	n := strings.Count(string(b), "\n")
	line := strings.SplitAfter(string(b), "\n")[0]
	bad := strings.Replace(line, `"foreign_thumbnails":`, `"foreign_thumbnails":1`, 1)
	write(t, dir, RowsFile, string(b)+bad)
	_, err := Run(context.Background(), grown, dir, Options{})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("rows.jsonl:%d: cell 0", n+1)) || !strings.Contains(err.Error(), "other results") {
		t.Fatalf("conflicting rows: %v", err)
	}
	write(t, dir, RowsFile, string(b)+"{not json\n")
	if _, err := Run(context.Background(), grown, dir, Options{}); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("rows.jsonl:%d: not a sweep row", n+1)) {
		t.Fatalf("bad row: %v", err)
	}
}

func TestDescribe(t *testing.T) {
	s := Describe([]float64{1, 2, 3, 4})
	// Reference: mean 2.5, sd √(5/3), t(0.975; 3 df) = 3.182446305284263.
	sd := math.Sqrt(5.0 / 3)
	half := 3.182446305284263 * sd / 2
	if s.N != 4 || s.Mean != 2.5 || math.Abs(s.SD-sd) > 1e-12 || math.Abs(s.Lo-(2.5-half)) > 1e-9 || math.Abs(s.Hi-(2.5+half)) > 1e-9 {
		t.Fatalf("got %+v, want sd %g half %g", s, sd, half)
	}
	// Large n: t approaches the normal 1.96.
	xs := make([]float64, 10000)
	for i := range xs {
		xs[i] = float64(i % 2)
	}
	if s := Describe(xs); math.Abs(s.Half()/(s.SD/100)-1.9602) > 1e-3 {
		t.Fatalf("t quantile for 9999 df: %g", s.Half()/(s.SD/100))
	}
	if s := Describe([]float64{5}); s.Mean != 5 || !math.IsNaN(s.SD) || !math.IsNaN(s.Lo) {
		t.Fatalf("one value: %+v", s)
	}
	if s := Describe([]float64{3, 3, 3}); s.SD != 0 || s.Lo != 3 || s.Hi != 3 {
		t.Fatalf("constant: %+v", s)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// The tables agree with each other and with the rows: results.csv holds
// the summaries' values, stats.csv their mean and spread over the seeds,
// results.parquet the same columns as results.csv.
func TestTablesAgree(t *testing.T) {
	sw := parse(t, small)
	dir := t.TempDir()
	out := finish(t, sw, dir, Options{Jobs: 2})
	res := readCSV(t, filepath.Join(dir, ResultsCSV))
	head := res[0]
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	if len(res) != 9 || head[3] != "cloud.cache_timeout" || head[4] != "cloud.mitigations" || head[5] != "accounts_affected" {
		t.Fatalf("results.csv head %v, %d lines", head, len(res))
	}
	for i, r := range out.Rows {
		rec := res[i+1]
		if rec[0] != strconv.Itoa(r.Cell) || rec[col["accounts_affected"]] != strconv.Itoa(r.Summary.Cohorts.Affected) ||
			rec[col["foreign_thumbnails"]] != strconv.FormatInt(r.Summary.ForeignThumbnails, 10) || rec[4] != sw.Points[r.Point].Labels[1] {
			t.Fatalf("results.csv line %d: %v for row %+v", i+1, rec, r)
		}
	}
	// stats.csv: mean and sd of each point's seeds, recomputed here.
	st := readCSV(t, filepath.Join(dir, StatsCSVFile))
	checked := 0
	for _, rec := range st[1:] {
		if rec[3] != "foreign_thumbnails" {
			continue
		}
		p, _ := strconv.Atoi(rec[0])
		var xs []float64
		for _, r := range res[1:] {
			if r[1] == rec[0] {
				v, _ := strconv.ParseFloat(r[col["foreign_thumbnails"]], 64)
				xs = append(xs, v)
			}
		}
		mean := (xs[0] + xs[1]) / 2
		sd := math.Abs(xs[0]-xs[1]) / math.Sqrt2
		gotMean, _ := strconv.ParseFloat(rec[5], 64)
		gotSD, _ := strconv.ParseFloat(rec[6], 64)
		lo, _ := strconv.ParseFloat(rec[7], 64)
		hi, _ := strconv.ParseFloat(rec[8], 64)
		// t(0.975; 1 df) = 12.706204736174707.
		if rec[4] != "2" || math.Abs(gotMean-mean) > 1e-9 || math.Abs(gotSD-sd) > 1e-9 || math.Abs((hi-lo)/2-12.706204736174707*sd/math.Sqrt2) > 1e-6 {
			t.Fatalf("point %d: stats %v, recomputed mean %g sd %g from %v", p, rec, mean, sd, xs)
		}
		checked++
	}
	if checked != 4 {
		t.Fatalf("checked %d points", checked)
	}
	md, _ := os.ReadFile(filepath.Join(dir, StatsMDFile))
	if !strings.Contains(string(md), "| `cloud.cache_timeout` | `cloud.mitigations` | n | accounts affected |") || strings.Count(string(md), "\n| 250ms |") != 2 {
		t.Fatalf("stats.md:\n%s", md)
	}
	// Parquet: same columns in the same order, same values.
	f, err := os.Open(filepath.Join(dir, ResultsParquet))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	pf, err := parquet.OpenFile(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range pf.Schema().Fields() {
		names = append(names, c.Name())
	}
	if !reflect.DeepEqual(names, head) {
		t.Fatalf("parquet columns %v\nwant %v", names, head)
	}
	if pf.NumRows() != 8 {
		t.Fatalf("parquet has %d rows", pf.NumRows())
	}
	rd := parquet.NewReader(pf)
	defer rd.Close()
	prow := make([]parquet.Row, 8)
	n, _ := rd.ReadRows(prow)
	if n != 8 {
		t.Fatalf("read %d parquet rows", n)
	}
	for i, pr := range prow {
		for j, v := range pr {
			var s string
			switch v.Kind() {
			case parquet.Int64:
				s = strconv.FormatInt(v.Int64(), 10)
			case parquet.Double:
				s = strconv.FormatFloat(v.Double(), 'g', -1, 64)
			default:
				s = string(v.ByteArray())
			}
			if s != res[i+1][j] {
				t.Fatalf("parquet row %d column %s: %q, csv %q", i, head[j], s, res[i+1][j])
			}
		}
	}
}

// The heatmap averages over the seeds, and over axes it does not draw.
func TestHeatmapGrid(t *testing.T) {
	sw := parse(t, strings.Replace(small, "grid:", "grid:\n  cloud.workers: [3, 4]", 1))
	stats := make([][]Stat, len(sw.Points))
	for p, pt := range sw.Points {
		stats[p] = make([]Stat, len(Metrics))
		// mean = 100·workers index + 10·timeout index + mitigations index
		stats[p][0] = Stat{N: 2, Mean: float64(100*pt.Values[0] + 10*pt.Values[1] + pt.Values[2])}
	}
	g := HeatmapGrid(sw, stats, 0)
	if g.XLabel != "cloud.workers" || g.YLabel != "cloud.cache_timeout" || !strings.Contains(g.Title, "over 2 seeds and over cloud.mitigations") {
		t.Fatalf("grid %+v", g)
	}
	want := [][]float64{{0.5, 100.5}, {10.5, 110.5}}
	if !reflect.DeepEqual(g.Z, want) {
		t.Fatalf("Z %v, want %v", g.Z, want)
	}
	one := parse(t, "scenario: wyze-2024-02\ngrid:\n  cloud.workers: [3, 4]\n")
	if g := HeatmapGrid(one, [][]Stat{{{Mean: 1}}, {{Mean: 2}}}, 0); len(g.YTicks) != 1 || !reflect.DeepEqual(g.Z, [][]float64{{1, 2}}) {
		t.Fatalf("one axis: %+v", g)
	}
}

// A finished sweep read back from its directory alone draws the same
// heatmap as the sweep itself, of any metric and pair of axes.
func TestReadFinished(t *testing.T) {
	sw := parse(t, small)
	dir := t.TempDir()
	if _, err := ReadFinished(dir); err == nil || !strings.Contains(err.Error(), "no sweep.json") {
		t.Fatalf("empty dir: %v", err)
	}
	run(t, sw, dir, Options{Jobs: 2, Limit: 5})
	if _, err := ReadFinished(dir); err == nil || !strings.Contains(err.Error(), "not the row of cell 5: the sweep is not finished") {
		t.Fatalf("unfinished: %v", err)
	}
	out := finish(t, sw, dir, Options{Jobs: 2})
	f, err := ReadFinished(dir)
	if err != nil {
		t.Fatal(err)
	}
	stats := PointStats(len(sw.Points), out.Rows)
	for _, m := range []string{"accounts_affected", "cache_timeouts"} {
		g, err := f.Heatmap(m, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if want := HeatmapGrid(sw, stats, MetricIndex(m)); !reflect.DeepEqual(g.Z, want.Z) || g.Title != want.Title || !reflect.DeepEqual(g.XTicks, want.XTicks) {
			t.Fatalf("%s: %+v\nwant %+v", m, g, want)
		}
	}
	// Axes swapped: the transpose.
	g, err := f.Heatmap("accounts_affected", "cloud.mitigations", "")
	if err != nil {
		t.Fatal(err)
	}
	want := HeatmapGrid(sw, stats, 0)
	if g.XLabel != "cloud.mitigations" || g.YLabel != "cloud.cache_timeout" || g.Z[1][0] != want.Z[0][1] || g.Z[0][1] != want.Z[1][0] {
		t.Fatalf("swapped: %+v vs %+v", g.Z, want.Z)
	}
	for _, c := range [][3]string{{"nope", "", ""}, {"accounts_affected", "cloud.workers", ""}, {"accounts_affected", "cloud.mitigations", "cloud.mitigations"}} {
		if _, err := f.Heatmap(c[0], c[1], c[2]); err == nil {
			t.Fatalf("%v: no error", c)
		}
	}
}

// A heatmap's ticks are readable: a list of switches without brackets, and
// the empty list of mitigations is "no mitigation", not "[]".
func TestHeatmapTickLabels(t *testing.T) {
	got := TickLabels(ManifestAxis{Path: "cloud.mitigations", Labels: []string{"[]", "[jittered-backoff]", "[key-in-value, stamped-media]"}})
	want := []string{"no mitigation", "jittered-backoff", "key-in-value + stamped-media"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mitigation ticks %q, want %q", got, want)
	}
	if got := TickLabels(ManifestAxis{Path: "cloud.cache_timeout", Labels: []string{"25ms", "1s"}}); !reflect.DeepEqual(got, []string{"25ms", "1s"}) {
		t.Errorf("timeout ticks %q changed", got)
	}
	if got := TickLabels(ManifestAxis{Path: "fleet.profiles", Labels: []string{"[]"}}); got[0] != "none" {
		t.Errorf("an empty list elsewhere: %q, want none", got[0])
	}
}
