package commands

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/stormproof/stormproof/internal/cli"
	"github.com/stormproof/stormproof/plots"
	"github.com/stormproof/stormproof/report"
	"github.com/stormproof/stormproof/sim"
	"github.com/stormproof/stormproof/sweep"
)

func init() {
	register(command{"plot", "draw a run's storm, cache and foreign-delivery curves or a sweep's heatmap (PNG, SVG, PDF)", cmdPlot})
}

const plotSynopsis = "stormproof plot DIR [--storm FILE] [--cache FILE] [--foreign FILE] [--heatmap FILE [--metric NAME] [--x PATH] [--y PATH]]"

func cmdPlot(args []string) error {
	fs := flag.NewFlagSet("plot", flag.ContinueOnError)
	storm := fs.String("storm", "", "run: connected cameras and reconnect attempts per second, outage shaded, to `FILE`")
	cache := fs.String("cache", "", "run: cache latency p50/p99 and timeouts per second to `FILE`")
	foreign := fs.String("foreign", "", "run: thumbnails pushed to strangers over time to `FILE`")
	heat := fs.String("heatmap", "", "sweep: heatmap of a metric over two swept paths to `FILE`")
	metric := fs.String("metric", sweep.Metrics[0].Name, "sweep: the heatmap's metric (a column of results.csv)")
	x := fs.String("x", "", "sweep: the heatmap's x path (default: the sweep's)")
	y := fs.String("y", "", "sweep: the heatmap's y path (default: the sweep's)")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			cli.Usage(os.Stdout, fs, plotSynopsis)
		}
		return err
	}
	if len(pos) != 1 {
		return cli.Badf("plot: want one directory (usage: %s)", plotSynopsis)
	}
	dir := pos[0]
	runFigs := []struct {
		file *string
		draw func(*sim.Series, plots.Outage, string) (*plots.Figure, error)
	}{{storm, plots.StormCurve}, {cache, plots.CacheLatency}, {foreign, plots.ForeignDeliveries}}
	named := false
	for _, f := range []*string{storm, cache, foreign, heat} {
		if *f == "" {
			continue
		}
		named = true
		// The format is known before anything is drawn.
		if _, err := plots.Format(*f); err != nil {
			return cli.Bad(err)
		}
	}
	if !named {
		return cli.Badf("plot: name at least one figure (usage: %s)", plotSynopsis)
	}
	type figFile struct {
		file string
		fig  *plots.Figure
	}
	var figs []figFile
	if *storm != "" || *cache != "" || *foreign != "" {
		sum, series, err := report.LoadRun(dir)
		if err != nil {
			return cli.Bad(err)
		}
		title := fmt.Sprintf("%s seed %d", sum.Scenario, sum.Seed)
		for _, f := range runFigs {
			if *f.file == "" {
				continue
			}
			fig, err := f.draw(series, plots.OutageOf(sum), title)
			if err != nil {
				return cli.Badf("%s: %v", filepath.Join(dir, report.SeriesFile), err)
			}
			figs = append(figs, figFile{*f.file, fig})
		}
	}
	if *heat != "" {
		fin, err := sweep.ReadFinished(dir)
		if err != nil {
			var br *sweep.BadRows
			if errors.As(err, &br) {
				return cli.Bad(err)
			}
			return err
		}
		g, err := fin.Heatmap(*metric, *x, *y)
		if err != nil {
			return cli.Badf("--heatmap: %v", err)
		}
		fig, err := plots.Heatmap(g)
		if err != nil {
			return err
		}
		figs = append(figs, figFile{*heat, fig})
	}
	for _, f := range figs {
		if err := f.fig.Save(f.file); err != nil {
			return cli.Badf("%s: %v", f.file, unwrap(err))
		}
		fmt.Printf("wrote %s\n", f.file)
	}
	return nil
}
