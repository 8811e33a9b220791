// Package storyfiles writes the renders of a report's first violation —
// the text timeline, the Mermaid sequence diagram, the Perfetto trace of
// the story and, when a history is not linearizable, porcupine's page —
// for the commands that judge a run (check, live and programs built on
// live.Main).
package storyfiles

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/stormproof/stormproof/checker"
	"github.com/stormproof/stormproof/internal/atomicfile"
	"github.com/stormproof/stormproof/traces"
	"github.com/stormproof/stormproof/traces/render"
)

// Write writes the renders of rep (the report of the trace at path) into
// dir and returns the files written. A file is whole or absent.
func Write(path string, rep *checker.Report, dir string) ([]string, error) {
	if err := atomicfile.CheckDir(dir); err != nil {
		return nil, fmt.Errorf("%s: cannot write there: %v", dir, err)
	}
	var first []traces.Story
	var story *traces.Story
	if len(rep.Stories) > 0 {
		first, story = rep.Stories[:1], &rep.Stories[0]
	}
	var written []string
	write := func(name string, fn func(w io.Writer) error) error {
		p := filepath.Join(dir, name)
		f, err := atomicfile.Create(p)
		if err != nil {
			return err
		}
		defer f.Abort()
		if err := fn(f); err != nil {
			return err
		}
		if err := f.Commit(); err != nil {
			return err
		}
		written = append(written, p)
		return nil
	}
	if err := write("timeline.txt", func(w io.Writer) error { return render.Timeline(w, &rep.Header, first) }); err != nil {
		return written, err
	}
	if err := write("slice.mmd", func(w io.Writer) error { return render.Mermaid(w, &rep.Header, story) }); err != nil {
		return written, err
	}
	if err := write("perfetto.json", func(w io.Writer) error {
		return PerfettoStory(w, path, render.PerfettoOptions{Story: story})
	}); err != nil {
		return written, err
	}
	if page := PorcupinePage(rep); page != nil {
		if err := write("porcupine.html", func(w io.Writer) error { return render.Porcupine(w, page) }); err != nil {
			return written, err
		}
	}
	return written, nil
}

// PorcupinePage is the page of the violated cache keys (or, if only the
// registry's history is violated, of its entries); nil if none is.
func PorcupinePage(rep *checker.Report) *render.LinPage {
	h := &rep.Header
	for _, x := range []struct {
		res  *checker.LinResult
		what string
	}{{rep.Cache, "cache"}, {rep.Registry, "registry"}} {
		if x.res != nil && len(x.res.Violated) > 0 {
			title := fmt.Sprintf("stormproof: non-linearizable %s keys, %s seed %d, %s", x.what, h.Scenario, h.Seed, h.Design)
			return x.res.Page(title, 0, 0)
		}
	}
	return nil
}

// PerfettoStory draws the trace at path for Perfetto with o's story.
func PerfettoStory(w io.Writer, path string, o render.PerfettoOptions) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tr, err := traces.NewReader(f, path)
	if err != nil {
		return err
	}
	return render.PerfettoStory(w, tr, o)
}
