// Package report writes one self-contained HTML page about a run directory
// (stormproof run --out DIR: summary, the four cohorts of the incident
// notice, the storm, cache and foreign-delivery plots, and the first
// counterexample's timeline from the judge) or a sweep directory
// (stormproof sweep --out DIR: the confidence-interval table and the
// heatmap). Images are embedded; the page loads nothing from elsewhere.
package report

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/stormproof/stormproof/checker"
	"github.com/stormproof/stormproof/internal/version"
	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/plots"
	"github.com/stormproof/stormproof/sim"
	"github.com/stormproof/stormproof/sweep"
	"github.com/stormproof/stormproof/traces"
	"github.com/stormproof/stormproof/traces/render"
)

// Files a run directory holds.
const (
	SummaryFile = "summary.json"
	SeriesFile  = "series.json"
	TraceFile   = "trace.jsonl"
)

// BadDir is an error in what the directory holds (the user's input).
type BadDir struct{ Err error }

func (e *BadDir) Error() string { return e.Err.Error() }
func (e *BadDir) Unwrap() error { return e.Err }

func bad(format string, a ...any) error { return &BadDir{fmt.Errorf(format, a...)} }

// Page is what the HTML page shows.
type Page struct {
	Title string
	Tool  string
	Run   *RunPage
	Sweep *SweepPage
}

// RunPage is a run directory's part of the page.
type RunPage struct {
	Summary sim.Summary
	Facts   [][2]string
	Verdict []Verdict
	Cohorts []Cohort
	Figures []Figure
	// Timeline is the judge's rendering of the first counterexample;
	// TimelineNote says why there is none.
	Headline     string
	Timeline     string
	TimelineNote string
}

// Verdict is one invariant's line.
type Verdict struct {
	Name, Text string
	Held       bool
}

// Cohort is one group of accounts of the incident notice.
type Cohort struct {
	Name    string
	Count   int
	Percent float64
}

// Figure is an embedded image.
type Figure struct {
	Caption string
	PNG     template.URL // a data: URL
}

// SweepPage is a sweep directory's part of the page.
type SweepPage struct {
	Manifest sweep.Manifest
	Head     []string
	Rows     [][]string
	Note     string
	Heatmap  *Figure
	Files    []string
}

// Build reads dir: a sweep directory if it holds sweep.json, else a run
// directory (summary.json, series.json, and trace.jsonl if a trace was
// written).
func Build(dir string) (*Page, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, bad("%s: %v", dir, unwrap(err))
	}
	if !fi.IsDir() {
		return nil, bad("%s: not a directory (want the --out directory of stormproof run or sweep)", dir)
	}
	p := &Page{Tool: version.Version}
	if _, err := os.Stat(filepath.Join(dir, sweep.ManifestFile)); err == nil {
		if p.Sweep, err = buildSweep(dir); err != nil {
			return nil, err
		}
		p.Title = "stormproof sweep " + p.Sweep.Manifest.Name
		return p, nil
	}
	if p.Run, err = buildRun(dir); err != nil {
		return nil, err
	}
	s := &p.Run.Summary
	p.Title = fmt.Sprintf("stormproof run: %s, seed %d, %s", s.Scenario, s.Seed, s.Design)
	return p, nil
}

func unwrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func readJSON(dir, name string, v any) error {
	p := filepath.Join(dir, name)
	b, err := os.ReadFile(p)
	if err != nil {
		if os.IsNotExist(err) {
			return bad("%s: no %s: not a run's directory (such as stormproof-out/latest) nor a sweep's (no %s)", dir, name, sweep.ManifestFile)
		}
		return bad("%s: %v", p, unwrap(err))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bad("%s: %v", p, err)
	}
	return nil
}

// LoadRun reads a run directory's summary and series.
func LoadRun(dir string) (*sim.Summary, *sim.Series, error) {
	var sum sim.Summary
	var series sim.Series
	if err := readJSON(dir, SummaryFile, &sum); err != nil {
		return nil, nil, err
	}
	if err := readJSON(dir, SeriesFile, &series); err != nil {
		return nil, nil, err
	}
	return &sum, &series, nil
}

func buildRun(dir string) (*RunPage, error) {
	sum, series, err := LoadRun(dir)
	if err != nil {
		return nil, err
	}
	r := &RunPage{Summary: *sum}
	s := &r.Summary
	r.Facts = facts(s)
	for _, inv := range model.Invariants() {
		v, ok := s.Invariants[inv.String()]
		if !ok {
			return nil, bad("%s: invariant %s missing", filepath.Join(dir, SummaryFile), inv)
		}
		vd := Verdict{Name: inv.String(), Held: !v.Judged || v.Held}
		switch {
		case !v.Judged:
			vd.Text = "not judged (the run did not end quiet)"
		case v.Held:
			vd.Text = "held"
		default:
			vd.Text = fmt.Sprintf("VIOLATED (%d)", v.Violations)
		}
		r.Verdict = append(r.Verdict, vd)
	}
	c := s.Cohorts
	for _, x := range []struct {
		name string
		n    int
	}{
		{"unaffected", c.Unaffected},
		{"own thumbnails exposed, not tapped", c.ExposedNotTapped},
		{"own thumbnails exposed and tapped", c.ExposedTapped},
		{"received others' thumbnails", c.ReceivedOthers},
	} {
		pct := 0.0
		if s.Accounts > 0 {
			pct = 100 * float64(x.n) / float64(s.Accounts)
		}
		r.Cohorts = append(r.Cohorts, Cohort{x.name, x.n, pct})
	}
	title := fmt.Sprintf("%s seed %d", s.Scenario, s.Seed)
	o := plots.OutageOf(s)
	for _, f := range []struct {
		caption string
		draw    func(*sim.Series, plots.Outage, string) (*plots.Figure, error)
	}{
		{"The storm: cameras connected, and reconnect attempts per second (outage shaded).", plots.StormCurve},
		{"The cache: latency p50/p99 of the calls returning in each 10 s, and timeouts per second.", plots.CacheLatency},
		{"Thumbnails pushed to accounts that do not own the camera, per 10 s and in all.", plots.ForeignDeliveries},
	} {
		fig, err := f.draw(series, o, title)
		if err != nil {
			return nil, bad("%s: %v", filepath.Join(dir, SeriesFile), err)
		}
		png, err := fig.Bytes("png")
		if err != nil {
			return nil, err
		}
		r.Figures = append(r.Figures, Figure{f.caption, dataURL(png)})
	}
	if err := r.timeline(filepath.Join(dir, TraceFile)); err != nil {
		return nil, err
	}
	return r, nil
}

// timeline asks the judge for the first counterexample and renders it.
func (r *RunPage) timeline(path string) error {
	fi, err := os.Stat(path)
	switch {
	case err != nil && os.IsNotExist(err):
		r.TimelineNote = "No trace.jsonl in the directory: nothing to explain step by step."
		return nil
	case err != nil:
		return bad("%s: %v", path, unwrap(err))
	case fi.Size() == 0:
		r.TimelineNote = "The run wrote no trace (--trace none): run it again with --trace slice (or full) to see the counterexample step by step."
		return nil
	}
	rep, err := checker.CheckFile(path, checker.Options{Explain: 1, NoLinearizability: true})
	if err != nil {
		var te *traces.Error
		if errors.As(err, &te) {
			return &BadDir{err}
		}
		return bad("%s: %v", path, unwrap(err))
	}
	if len(rep.Stories) == 0 {
		if rep.Held() {
			r.TimelineNote = "Every invariant the trace can judge held: there is no counterexample."
		} else {
			r.TimelineNote = "The judge found violations but no causal slice to draw."
		}
		return nil
	}
	var b strings.Builder
	if err := render.Timeline(&b, &rep.Header, rep.Stories[:1]); err != nil {
		return err
	}
	r.Headline = rep.Stories[0].Headline
	r.Timeline = b.String()
	return nil
}

func facts(s *sim.Summary) [][2]string {
	f := [][2]string{
		{"scenario", fmt.Sprintf("%s (seed %d, scale %g)", s.Scenario, s.Seed, s.Scale)},
		{"design", s.Design},
		{"fleet", fmt.Sprintf("%d cameras, %d accounts", s.Cameras, s.Accounts)},
	}
	if s.ClientWorkers < s.Workers {
		f = append(f, [2]string{"rollout", fmt.Sprintf("%d of %d ingest workers run the new client; the others run %s", s.ClientWorkers, s.Workers, s.OldClient)})
	}
	if s.OutageFrom != "" {
		f = append(f, [2]string{"outage", fmt.Sprintf("gateway down %s → %s", s.OutageFrom, s.OutageTo)},
			[2]string{"storm", fmt.Sprintf("after the outage up to %s attempts/s and %s accepted connections/s (peak at %s); steady rate %s attempts/s",
				plots.Number(s.RecoveryAttemptPeak), plots.Number(s.RecoveryConnectPeak), s.RecoveryConnectAt, plots.Number(s.ReconnectSteady))})
	}
	f = append(f,
		[2]string{"simulated", fmt.Sprintf("%s, %d engine events", s.Simulated, s.Events)},
		[2]string{"cache", fmt.Sprintf("%d calls: %d timed out, %d errors, %d replies read by the wrong request; %d lookups shed; %d registry reads",
			s.CacheCalls, s.CacheTimeouts, s.CacheErrors, s.CacheMisreads, s.CacheShed, s.RegistryReads)},
		[2]string{"events", fmt.Sprintf("%d captured, %d stored, %d thumbnails delivered to owners", s.Captured, s.Stored, s.Delivered)},
		[2]string{"foreign", fmt.Sprintf("%d thumbnails pushed to strangers, %d tapped: %d enlarged thumbnails and %d videos served",
			s.ForeignThumbnails, s.ForeignTaps, s.ForeignEnlarged, s.ForeignVideos)},
	)
	if s.FirstViolation != "" {
		f = append(f, [2]string{"first violation", s.FirstViolation})
	}
	for _, n := range s.Notes {
		f = append(f, [2]string{"note", n})
	}
	if s.Reproduce != "" {
		f = append(f, [2]string{"reproduce", s.Reproduce})
	}
	return f
}

func dataURL(png []byte) template.URL {
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
}

func buildSweep(dir string) (*SweepPage, error) {
	m, err := sweep.ReadManifest(dir)
	if err != nil {
		return nil, bad("%v", unwrap(err))
	}
	sp := &SweepPage{Manifest: readable(m)}
	f, err := os.Open(filepath.Join(dir, sweep.StatsCSVFile))
	if err != nil {
		if os.IsNotExist(err) {
			sp.Note = fmt.Sprintf("The sweep is not finished (no %s yet): run it to the end, or merge its shards, then draw this page again.", sweep.StatsCSVFile)
			return sp, nil
		}
		return nil, bad("%v", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, bad("%s: %v", filepath.Join(dir, sweep.StatsCSVFile), err)
	}
	if sp.Head, sp.Rows, err = statsTable(m, recs); err != nil {
		return nil, bad("%s: %v", filepath.Join(dir, sweep.StatsCSVFile), err)
	}
	if png, err := os.ReadFile(filepath.Join(dir, sweep.HeatmapPNG)); err == nil {
		sp.Heatmap = &Figure{Caption: "Accounts affected (any cohort of the notice), mean over the seeds.", PNG: dataURL(png)}
	}
	for _, name := range []string{sweep.ResultsCSV, sweep.ResultsParquet, sweep.StatsCSVFile, sweep.StatsMDFile, sweep.RowsFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			sp.Files = append(sp.Files, name)
		}
	}
	return sp, nil
}

// statsTable turns stats.csv (long form) into one row per grid point with
// the main metrics as mean ± CI half-width (sd).
func statsTable(m *sweep.Manifest, recs [][]string) ([]string, [][]string, error) {
	na := len(m.Axes)
	want := 1 + na + 6
	if len(recs) < 1 || len(recs[0]) != want || recs[0][1+na] != "metric" {
		return nil, nil, fmt.Errorf("not the stats table of this sweep's %d axes", na)
	}
	head := []string{}
	for _, a := range m.Axes {
		head = append(head, a.Path)
	}
	head = append(head, "n")
	for _, name := range sweep.MarkdownMetrics {
		head = append(head, sweep.Metrics[sweep.MetricIndex(name)].Title)
	}
	byPoint := map[string][]string{}
	var order []string
	for i, rec := range recs[1:] {
		if len(rec) != want {
			return nil, nil, fmt.Errorf("line %d: %d fields, want %d", i+2, len(rec), want)
		}
		metric := rec[1+na]
		col := -1
		for j, name := range sweep.MarkdownMetrics {
			if name == metric {
				col = j
			}
		}
		if col < 0 {
			continue
		}
		key := rec[0]
		row, ok := byPoint[key]
		if !ok {
			row = make([]string, na+1+len(sweep.MarkdownMetrics))
			for a, ax := range m.Axes {
				row[a] = rec[1+a]
				if i := slices.Index(ax.Labels, rec[1+a]); i >= 0 {
					row[a] = sweep.TickLabels(ax)[i]
				}
			}
			byPoint[key] = row
			order = append(order, key)
		}
		var st sweep.Stat
		vals := rec[2+na:]
		st.N, _ = strconv.Atoi(vals[0])
		st.Mean, st.SD, st.Lo, st.Hi = parseNum(vals[1]), parseNum(vals[2]), parseNum(vals[3]), parseNum(vals[4])
		row[na] = vals[0]
		row[na+1+col] = sweep.Cell1(st)
	}
	rows := make([][]string, len(order))
	for i, k := range order {
		rows[i] = byPoint[k]
	}
	return head, rows, nil
}

// readable is the manifest as the page shows it: each value label as the
// heatmap names it ("no mitigation", not "[]").
func readable(m *sweep.Manifest) sweep.Manifest {
	out := *m
	conv := func(axes []sweep.ManifestAxis) []sweep.ManifestAxis {
		var r []sweep.ManifestAxis
		for _, ax := range axes {
			r = append(r, sweep.ManifestAxis{Path: ax.Path, Labels: sweep.TickLabels(ax)})
		}
		return r
	}
	out.Fixed, out.Axes = conv(m.Fixed), conv(m.Axes)
	return out
}

func parseNum(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// Write writes the page.
func (p *Page) Write(w io.Writer) error { return page.Execute(w, p) }
