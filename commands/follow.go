package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/stormproof/stormproof/checker"
	"github.com/stormproof/stormproof/internal/cli"
	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/traces"
	"github.com/stormproof/stormproof/traces/render"
)

// followPoll is how long the follower waits at the end of the file before
// looking again: a line appended is judged within this and the time to
// read it.
const followPoll = 150 * time.Millisecond

// tail reads a file that is still being written. It hands out whole lines
// only: at the end of the file, or inside a line whose newline has not
// been written yet, it waits and reads again, until ctx is done; then it
// ends (io.EOF) at the last whole line, so a half-written line is never
// judged.
type tail struct {
	ctx  context.Context
	f    *os.File
	buf  []byte // read, not yet handed out
	done bool
}

func (t *tail) Read(p []byte) (int, error) {
	for {
		if i := bytes.LastIndexByte(t.buf, '\n'); i >= 0 {
			n := copy(p, t.buf[:i+1])
			t.buf = t.buf[n:]
			return n, nil
		}
		if t.done {
			return 0, io.EOF
		}
		var chunk [64 << 10]byte
		n, err := t.f.Read(chunk[:])
		t.buf = append(t.buf, chunk[:n]...)
		if len(t.buf) > 64<<20 {
			return 0, fmt.Errorf("a line longer than 64 MiB")
		}
		if n > 0 {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		select {
		case <-t.ctx.Done():
			t.done = true
		case <-time.After(followPoll):
		}
	}
}

// cmdFollow judges a trace while it is written: each violation the
// Monitor finds is printed as its line is read, until the end line (then
// the usual verdict, and the exit status of the policy) or SIGINT/SIGTERM
// (the verdict so far: exit 1 if something was violated, else 3, the
// evidence being incomplete).
func cmdFollow(path string, opt checker.Options, pol checker.Policy) error {
	f, err := os.Open(path)
	if err != nil {
		return badTrace(err)
	}
	defer f.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	src := &tail{ctx: ctx, f: f}
	tr, err := traces.NewReader(src, path)
	if err != nil {
		if errors.Is(err, io.EOF) || ctx.Err() != nil {
			fmt.Printf("verdict                INCOMPLETE: stopped before the trace's header was written\n")
			return cli.Exit(cli.ExitIncomplete)
		}
		return badTrace(err)
	}
	var h *traces.Header = &tr.Header
	opt.OnViolation = func(name string, in checker.Instance) {
		fmt.Printf("VIOLATION              %s at %s (line %d): %s\n", name, render.When(h, in.T), in.Line, in.Text)
	}
	c, err := checker.New(tr.Header, path, opt)
	if err != nil {
		return badTrace(&traces.Error{File: path, Line: 1, Msg: err.Error()})
	}
	fmt.Printf("following              %s: %s engine, scenario %s, design %s (until its end line, or SIGINT/SIGTERM)\n", path, h.Engine, h.Scenario, h.Design)
	var ev traces.Event
	for {
		err := tr.Next(&ev)
		if errors.Is(err, io.EOF) {
			fmt.Printf("stopped                at line %d, before the trace's end line\n", tr.Line())
			break
		}
		if err != nil {
			return badTrace(err)
		}
		if err := c.Observe(tr.Line(), ev.T, &ev.Obs); err != nil {
			return badTrace(err)
		}
		if ev.Obs.Kind == model.ObsEnd {
			break
		}
	}
	rep, err := c.Finish()
	if err != nil {
		return badTrace(err)
	}
	rep.Print(os.Stdout)
	dec := rep.Decide(pol)
	fmt.Printf("verdict                %s\n", dec.Line())
	return cli.Exit(dec.Exit)
}
