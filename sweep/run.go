package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/stormproof/stormproof/internal/atomicfile"
	"github.com/stormproof/stormproof/sim"
)

// Options say which cells this invocation runs and how.
type Options struct {
	// Jobs is how many cells run at once (0: GOMAXPROCS, the CPUs). Each
	// cell is one single-threaded, deterministic run.
	Jobs int
	// Shard, Shards: run only the cells whose index % Shards == Shard
	// (Shards 0 or 1: all of them).
	Shard, Shards int
	// Limit stops after this many cells have run (0: no limit).
	Limit int
	// Progress, if set, is called after each finished cell (from one
	// goroutine at a time).
	Progress func(Progress)
}

// Progress is how far this invocation has got.
type Progress struct {
	// Todo cells were to run this time; Ran have.
	Todo, Ran int
	// Skipped were found finished.
	Skipped int
}

// Outcome is what an invocation did and what the directory now holds.
type Outcome struct {
	// Mine is the number of cells of this shard; Skipped of them were
	// already finished; Ran ran now; Left are still to run.
	Mine, Skipped, Ran, Left int
	// Finished counts the finished cells of the whole sweep in the
	// directory (all shards); Complete is Finished == all cells.
	Finished int
	Complete bool
	// Foreign counts rows in the directory that belong to no cell of this
	// sweep (kept in rows.jsonl, not used).
	Foreign int
	// Rows are the finished rows of the sweep, by cell index.
	Rows []*Row
}

// Run runs the sweep's unfinished cells of this shard into dir, each
// finished cell written at once (atomically), then rewrites rows.jsonl
// with every finished cell. Cancelling ctx stops giving out cells; the
// running ones finish and are kept, and Run returns ctx's error with the
// outcome so far.
func Run(ctx context.Context, sw *Sweep, dir string, opt Options) (*Outcome, error) {
	if opt.Shards < 0 || opt.Shards > 0 && (opt.Shard < 0 || opt.Shard >= opt.Shards) {
		return nil, fmt.Errorf("shard %d of %d: want 0 ≤ i < N", opt.Shard, opt.Shards)
	}
	jobs := opt.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0) // the CPUs this process may use (a container's limit included)
	}
	cells := make([]Cell, sw.NumCells())
	for i := range cells {
		c, err := sw.Cell(i)
		if err != nil {
			return nil, fmt.Errorf("cell %d (%s): %v", i, sw.Describe(i/len(sw.Seeds)), err)
		}
		cells[i] = c
	}
	st, err := openStore(dir, cells, func(r *Row, i int) {
		r.Cell, r.Point, r.Params = i, cells[i].Point, sw.Points[cells[i].Point].Labels
	})
	if err != nil {
		return nil, err
	}
	// Written only once what the directory holds is known to be good.
	if err := os.MkdirAll(filepath.Join(dir, CellsDir), 0o755); err != nil {
		return nil, err
	}
	man, _ := json.MarshalIndent(sw.Manifest(), "", "  ")
	man = append(man, '\n')
	if old, err := os.ReadFile(filepath.Join(dir, ManifestFile)); err == nil && !bytes.Equal(old, man) {
		// The directory's tables are another sweep's (or this one's before
		// it grew): remove them, so none is read as this sweep's.
		for _, name := range tableFiles {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !os.IsNotExist(err) {
				return nil, err
			}
		}
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, ManifestFile), man); err != nil {
		return nil, err
	}
	out := &Outcome{Foreign: len(st.foreign)}
	var todo []Cell
	for _, c := range cells {
		if opt.Shards > 1 && c.Index%opt.Shards != opt.Shard {
			continue
		}
		out.Mine++
		if _, ok := st.rows[c.Index]; ok {
			out.Skipped++
			continue
		}
		todo = append(todo, c)
	}
	if opt.Limit > 0 && len(todo) > opt.Limit {
		todo = todo[:opt.Limit]
	}

	// Workers take cells in index order; the collector stores each result
	// as it comes. What is stored does not depend on the order.
	feed := make(chan Cell)
	type result struct {
		row *Row
		err error
	}
	results := make(chan result)
	var wg sync.WaitGroup
	for w := 0; w < min(jobs, max(1, len(todo))); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range feed {
				row, err := runCell(sw, c)
				results <- result{row, err}
			}
		}()
	}
	stop := make(chan struct{})
	go func() {
		defer close(feed)
		for _, c := range todo {
			select {
			case feed <- c:
			case <-ctx.Done():
				return
			case <-stop:
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()

	var firstErr error
	pr := Progress{Todo: len(todo), Skipped: out.Skipped}
	for r := range results {
		if r.err != nil {
			if firstErr == nil {
				firstErr = r.err
				close(stop)
			}
			continue
		}
		if err := st.put(r.row); err != nil && firstErr == nil {
			firstErr = err
			close(stop)
		}
		out.Ran++
		pr.Ran = out.Ran
		if opt.Progress != nil {
			opt.Progress(pr)
		}
	}
	out.Left = out.Mine - out.Skipped - out.Ran
	out.Rows = st.sorted()
	out.Finished = len(out.Rows)
	out.Complete = out.Finished == len(cells)
	if err := st.writeRows(); err != nil && firstErr == nil {
		firstErr = err
	}
	if firstErr != nil {
		return out, firstErr
	}
	return out, ctx.Err()
}

// runCell runs one cell without a trace.
func runCell(sw *Sweep, c Cell) (row *Row, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("cell %d (%s, seed %d): simulator panicked: %v\n%s", c.Index, sw.Describe(c.Point), c.Seed, p, debug.Stack())
		}
	}()
	res, err := sim.Run(c.Scenario, sim.RunOptions{})
	if err != nil {
		return nil, fmt.Errorf("cell %d (%s, seed %d): %v", c.Index, sw.Describe(c.Point), c.Seed, err)
	}
	return &Row{V: RowVersion, Key: c.Key, Cell: c.Index, Point: c.Point, Seed: c.Seed,
		Params: sw.Points[c.Point].Labels, Summary: res.Summary}, nil
}
