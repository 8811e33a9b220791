package sweep

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/stormproof/stormproof/plots"
)

// Stat summarises one metric of one grid point over its seeds.
type Stat struct {
	N    int
	Mean float64
	// SD is the sample standard deviation; Lo and Hi bound the 95%
	// confidence interval of the mean (Student t with N-1 degrees of
	// freedom). All three are NaN when N < 2.
	SD, Lo, Hi float64
}

// Half is the half-width of the confidence interval.
func (s Stat) Half() float64 { return (s.Hi - s.Lo) / 2 }

// Describe computes the statistics of xs.
func Describe(xs []float64) Stat {
	st := Stat{N: len(xs), Mean: math.NaN(), SD: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	if st.N == 0 {
		return st
	}
	if st.N == 1 {
		st.Mean = xs[0]
		return st
	}
	st.Mean, st.SD = stat.MeanStdDev(xs, nil)
	// A quantile draws nothing, so the distribution needs no random source.
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(st.N - 1)}.Quantile(0.975)
	half := t * st.SD / math.Sqrt(float64(st.N))
	st.Lo, st.Hi = st.Mean-half, st.Mean+half
	return st
}

// PointStats are the statistics of every metric at every grid point:
// [point][metric], from the finished rows of a complete sweep.
func PointStats(points int, rows []*Row) [][]Stat {
	vals := make([][][]float64, points)
	for p := range vals {
		vals[p] = make([][]float64, len(Metrics))
	}
	for _, r := range rows {
		for m, met := range Metrics {
			vals[r.Point][m] = append(vals[r.Point][m], met.Get(&r.Summary))
		}
	}
	out := make([][]Stat, points)
	for p := range out {
		out[p] = make([]Stat, len(Metrics))
		for m := range Metrics {
			out[p][m] = Describe(vals[p][m])
		}
	}
	return out
}

// StatsCSV writes the statistics in long form: one line per point and metric.
func StatsCSV(sw *Sweep, stats [][]Stat) [][]string {
	head := []string{"point"}
	for _, a := range sw.Axes {
		head = append(head, a.Path)
	}
	head = append(head, "metric", "n", "mean", "sd", "ci95_low", "ci95_high")
	recs := [][]string{head}
	for p, pt := range sw.Points {
		for m, met := range Metrics {
			s := stats[p][m]
			rec := append([]string{strconv.Itoa(p)}, pt.Labels...)
			rec = append(rec, met.Name, strconv.Itoa(s.N), num(s.Mean), num(s.SD), num(s.Lo), num(s.Hi))
			recs = append(recs, rec)
		}
	}
	return recs
}

// num writes a float exactly; NaN (undefined) as an empty field.
func num(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// MarkdownMetrics are the columns of the Markdown table.
var MarkdownMetrics = []string{"accounts_affected", "foreign_thumbnails", "cache_timeouts", "cache_misreads"}

// StatsMarkdown is a table a person reads: per grid point, the main
// metrics as mean ± half-width of the 95% confidence interval, with the
// standard deviation.
func StatsMarkdown(sw *Sweep, stats [][]Stat) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Sweep `%s` over scenario `%s`", sw.Name, sw.Scenario)
	if sw.Scale != 0 {
		fmt.Fprintf(&b, " at scale ×%s", num(sw.Scale))
	}
	fmt.Fprintf(&b, ", %d seeds per cell", len(sw.Seeds))
	for _, f := range sw.Fixed {
		fmt.Fprintf(&b, ", `%s` = `%s`", f.Path, f.Label)
	}
	b.WriteString(". Each entry: mean ± half-width of the 95% confidence interval of the mean (Student t, n−1 degrees of freedom), and the standard deviation (sd) over the seeds.\n\n")
	var head, rule []string
	for _, a := range sw.Axes {
		head = append(head, "`"+a.Path+"`")
		rule = append(rule, "---")
	}
	head = append(head, "n")
	rule = append(rule, "--:")
	var cols []int
	for _, name := range MarkdownMetrics {
		if m := MetricIndex(name); m >= 0 {
			cols = append(cols, m)
			head = append(head, Metrics[m].Title)
			rule = append(rule, "--:")
		}
	}
	fmt.Fprintf(&b, "| %s |\n| %s |\n", strings.Join(head, " | "), strings.Join(rule, " | "))
	for p, pt := range sw.Points {
		row := make([]string, 0, len(head))
		for _, l := range pt.Labels {
			row = append(row, mdEscape(l))
		}
		row = append(row, strconv.Itoa(stats[p][cols[0]].N))
		for _, m := range cols {
			row = append(row, Cell1(stats[p][m]))
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(row, " | "))
	}
	return b.String()
}

// Cell1 writes a statistic as "mean ± half (sd x)".
func Cell1(s Stat) string {
	if s.N == 0 {
		return "–"
	}
	if s.N < 2 {
		return Round(s.Mean) + " (one seed)"
	}
	return fmt.Sprintf("%s ± %s (sd %s)", Round(s.Mean), Round(s.Half()), Round(s.SD))
}

// Round writes a number with as many decimals as its size deserves.
func Round(v float64) string { return plots.Number(v) }

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
