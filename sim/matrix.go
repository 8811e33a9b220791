package sim

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/stormproof/stormproof/model"
)

// The matrix: designs × scenarios, each cell what leaked, mean over seeds.
// One scenario gives the design table of the 2024 incident (cache clients
// and mitigations × outcomes); the incident library gives incidents ×
// mitigations, so it shows which fix closes which incident.

// Incident is one of the library's incidents: an embedded scenario.
type Incident struct {
	Scenario string
	Title    string
}

// Incidents are the library's incidents, newest first.
func Incidents() []Incident {
	return []Incident{
		{"wyze-2024-02", "2024-02 thumbnails"},
		{"web-2023-09", "2023-09 web view"},
		{"notify-2020-06", "2020-06 notifications"},
		{"analytics-2019-12", "2019-12 analytics replica"},
	}
}

// MatrixRow is one design. A nil Client keeps the scenario's client;
// Mitigations are added to the scenario's; the zero row is the scenario as
// shipped.
type MatrixRow struct {
	Client      *model.ClientVariant
	Mitigations model.Mitigations
}

func (r MatrixRow) String() string {
	switch {
	case r.Client == nil && r.Mitigations == 0:
		return "as shipped"
	case r.Client == nil:
		return "+ " + r.Mitigations.String()
	case r.Mitigations == 0:
		return r.Client.String()
	}
	return r.Client.String() + " + " + r.Mitigations.String()
}

// DesignRows are the rows of the one-scenario table: every client as
// shipped, then the 2024 incident's client with each mitigation alone.
func DesignRows() []MatrixRow {
	var rows []MatrixRow
	for _, c := range model.Clients() {
		rows = append(rows, MatrixRow{Client: &c})
	}
	naive := model.NaivePool
	for _, m := range model.AllMitigations() {
		rows = append(rows, MatrixRow{Client: &naive, Mitigations: model.MitigationSet(m)})
	}
	return rows
}

// IncidentRows are the rows of the incident table: each scenario as
// shipped, with each cache client in its place, then with each mitigation
// added to its own design.
func IncidentRows() []MatrixRow {
	rows := []MatrixRow{{}}
	for _, c := range model.Clients() {
		rows = append(rows, MatrixRow{Client: &c})
	}
	for _, m := range model.AllMitigations() {
		rows = append(rows, MatrixRow{Mitigations: model.MitigationSet(m)})
	}
	return rows
}

// Leak is what one run let reach someone it should not have, and what it
// lost: the counts a matrix cell shows.
type Leak struct {
	Thumbnails, Enlarged, Videos int64 // pushed to strangers / served to them
	Sessions                     int64 // web sessions shown another account's camera
	Documents, Tokens            int64 // replica documents read anonymously / with a token
	Dropped, Silent              int64 // events lost with a reason / lost silently (NoSilentLoss)
	Peak                         float64
	Held                         bool // every promise held (Summary.Held)
}

// LeakOf takes a run's counts from its summary.
func LeakOf(s *Summary) Leak {
	l := Leak{Thumbnails: s.ForeignThumbnails, Enlarged: s.ForeignEnlarged, Videos: s.ForeignVideos,
		Peak: s.RecoveryConnectPeak, Held: s.Held()}
	for _, n := range s.Dropped {
		l.Dropped += n
	}
	if v, ok := s.Invariants[model.NoSilentLoss.String()]; ok && v.Judged {
		l.Silent = int64(v.Violations)
	}
	if s.Web != nil {
		l.Sessions = s.Web.Sessions
	}
	if s.Replica != nil {
		l.Documents, l.Tokens = s.Replica.AnonReads, s.Replica.Tokens
	}
	return l
}

// Matrix is a finished matrix: Runs[row][scenario][seed].
type Matrix struct {
	Scenarios []*Scenario
	Rows      []MatrixRow
	Seeds     int
	Scale     float64
	Runs      [][][]Leak
}

// Violated counts the runs in which a promise was violated.
func (m *Matrix) Violated() int {
	n := 0
	for _, row := range m.Runs {
		for _, sc := range row {
			for _, l := range sc {
				if !l.Held {
					n++
				}
			}
		}
	}
	return n
}

// MatrixOptions say how a matrix runs.
type MatrixOptions struct {
	// Seeds per cell: each scenario's seed and the Seeds-1 after it.
	Seeds int
	// Jobs: runs at once (each run is single-threaded; the result does not
	// depend on it).
	Jobs int
	// Scale multiplies every scenario's fleet (0: unchanged).
	Scale float64
	// Progress, if set, is called before each run is handed out.
	Progress func(done, total int)
	// Rule is the authorization rule every run is judged by ("": each
	// scenario's).
	Rule string
}

// MatrixInputError is a matrix whose options or scenarios cannot be run
// (as opposed to a run that failed).
type MatrixInputError struct{ Err error }

func (e *MatrixInputError) Error() string { return e.Err.Error() }
func (e *MatrixInputError) Unwrap() error { return e.Err }

// RunMatrix runs every row on every scenario. Every run's scenario is
// built first, so a bad option fails before any run.
func RunMatrix(scenarios []*Scenario, rows []MatrixRow, opt MatrixOptions) (*Matrix, error) {
	if opt.Seeds < 1 {
		return nil, &MatrixInputError{fmt.Errorf("seeds: want ≥ 1, got %d", opt.Seeds)}
	}
	jobs := max(1, opt.Jobs)
	type job struct {
		row, sc, seed int
		s             *Scenario
	}
	var work []job
	for ri, r := range rows {
		for si, base := range scenarios {
			for i := 0; i < opt.Seeds; i++ {
				seed := base.Seed + uint64(i)
				o := Override{Client: r.Client, Mitigations: r.Mitigations, Seed: &seed, Scale: opt.Scale, Rule: opt.Rule}
				s, err := base.Apply(o)
				if err != nil {
					return nil, &MatrixInputError{err}
				}
				work = append(work, job{ri, si, i, s})
			}
		}
	}
	m := &Matrix{Scenarios: scenarios, Rows: rows, Seeds: opt.Seeds, Scale: opt.Scale, Runs: make([][][]Leak, len(rows))}
	for ri := range rows {
		m.Runs[ri] = make([][]Leak, len(scenarios))
		for si := range scenarios {
			m.Runs[ri][si] = make([]Leak, opt.Seeds)
		}
	}
	errs := make([]error, len(work))
	ch := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ch {
				j := work[i]
				res, err := Run(j.s, RunOptions{})
				if err != nil {
					errs[i] = fmt.Errorf("%s on %s seed %d: %w", rows[j.row], j.s.Name, j.s.Seed, err)
					continue
				}
				m.Runs[j.row][j.sc][j.seed] = LeakOf(&res.Summary)
			}
		}()
	}
	for i := range work {
		if opt.Progress != nil {
			opt.Progress(i, len(work))
		}
		ch <- i
	}
	close(ch)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}

// mean is the mean over seeds of the cell (row, scenario), and how many
// of its runs held every invariant.
func (m *Matrix) mean(row, sc int) (Leak, int) {
	var l Leak
	held := 0
	runs := m.Runs[row][sc]
	for _, r := range runs {
		l.Thumbnails += r.Thumbnails
		l.Enlarged += r.Enlarged
		l.Videos += r.Videos
		l.Sessions += r.Sessions
		l.Documents += r.Documents
		l.Tokens += r.Tokens
		l.Dropped += r.Dropped
		l.Silent += r.Silent
		l.Peak += r.Peak
		if r.Held {
			held++
		}
	}
	return l, held
}

// seedRange is "seeds 1–3" (or "seed 1") of scenario sc.
func (m *Matrix) seedRange(sc int) string {
	s := m.Scenarios[sc].Seed
	if m.Seeds == 1 {
		return "seed " + strconv.FormatUint(s, 10)
	}
	return fmt.Sprintf("seeds %d–%d", s, s+uint64(m.Seeds)-1)
}

// WriteDesigns writes the one-scenario table (the first scenario): cache
// clients and mitigations × outcomes, means over seeds. cmd is the command
// that made it.
func (m *Matrix) WriteDesigns(w io.Writer, cmd string) {
	base := m.Scenarios[0]
	fmt.Fprintf(w, "Scenario `%s`, %s, mean over %d seed(s) per design. Generated by `%s`.\n\n",
		base.Name, m.seedRange(0), m.Seeds, cmd)
	fmt.Fprintf(w, "| design | foreign thumbnails | foreign enlarged views | foreign videos | events lost (dropped) | events lost silently | storm peak (connections/s after the outage) | all invariants held |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---|\n")
	n := float64(m.Seeds)
	for ri, r := range m.Rows {
		l, held := m.mean(ri, 0)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %d of %d |\n", r, num(float64(l.Thumbnails)/n), num(float64(l.Enlarged)/n),
			num(float64(l.Videos)/n), num(float64(l.Dropped)/n), num(float64(l.Silent)/n), num(l.Peak/n), held, m.Seeds)
	}
}

// WriteIncidents writes the incident table: designs × incidents, each cell
// what leaked (mean over the seeds), a held mark when every invariant
// held in every seed, and the events owners lost silently.
func (m *Matrix) WriteIncidents(w io.Writer, cmd string) {
	fmt.Fprintf(w, "Incidents × designs: what reached someone it should not have, mean over %d seed(s) per cell. Generated by `%s`.\n\n", m.Seeds, cmd)
	fmt.Fprint(w, "| design |")
	for si, s := range m.Scenarios {
		fmt.Fprintf(w, " %s (`%s`, %s) |", incidentTitle(s.Name), s.Name, m.seedRange(si))
	}
	fmt.Fprint(w, "\n|---|")
	for range m.Scenarios {
		fmt.Fprint(w, "---|")
	}
	fmt.Fprintln(w)
	for ri, r := range m.Rows {
		fmt.Fprintf(w, "| %s |", r)
		for si := range m.Scenarios {
			fmt.Fprintf(w, " %s |", m.cell(ri, si))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprint(w, "\n✓: every invariant held in every seed. Counts: thumbnails pushed to strangers; views (enlarged thumbnails and videos) served to them; "+
		"web sessions shown another account's live camera; replica documents read anonymously (and how many held an integration token). "+
		"\"lost silently\": events that never reached their owners and whose loss nothing recorded (NoSilentLoss).\n")
}

func (m *Matrix) cell(row, sc int) string {
	l, held := m.mean(row, sc)
	n := float64(m.Seeds)
	var parts []string
	add := func(v int64, what string) {
		if v > 0 {
			parts = append(parts, num(float64(v)/n)+" "+what)
		}
	}
	add(l.Thumbnails, "thumbnails")
	add(l.Enlarged+l.Videos, "views")
	add(l.Sessions, "sessions")
	if l.Documents > 0 {
		parts = append(parts, fmt.Sprintf("%s documents, %s with a token", num(float64(l.Documents)/n), num(float64(l.Tokens)/n)))
	}
	text := "0"
	if len(parts) > 0 {
		text = strings.Join(parts, ", ")
	}
	if l.Silent > 0 {
		text += "; " + num(float64(l.Silent)/n) + " lost silently"
	}
	if held == m.Seeds {
		text += " ✓"
	}
	return text
}

func incidentTitle(name string) string {
	for _, in := range Incidents() {
		if in.Scenario == name {
			return in.Title
		}
	}
	return name
}

// num prints a mean: whole numbers plainly, others with one decimal.
func num(v float64) string {
	if v == float64(int64(v)) {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}
