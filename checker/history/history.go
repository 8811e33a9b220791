// Package history checks a history of operations on registers or key-value
// stores for linearizability with porcupine: a history in stormproof's own
// JSONL format (docs/history.md), a Jepsen etcd log or an EDN key-value
// history (the two formats of porcupine's own test data), detected from the
// content. Read parses and validates one; Check runs porcupine on it with a
// built-in model (Register, CASRegister, KV) or the caller's own.
package history

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/stormproof/stormproof/traces"
)

// MaxLine is the longest line a history may hold (bytes, without the
// newline); a longer one is bad input. Memory follows the input's length.
const MaxLine = 1 << 20

// Unknown is the return time of an operation whose outcome is unknown: it
// may take effect at any time after its call, or never.
const Unknown int64 = math.MaxInt64

// Value is a register's or a read's value; the zero Value is nil (no value).
type Value struct {
	S   string
	Set bool
}

// Nil is the absent value.
var Nil = Value{}

// V is the value s.
func V(s string) Value { return Value{S: s, Set: true} }

func (v Value) String() string {
	if !v.Set {
		return "nil"
	}
	return strconv.Quote(v.S)
}

// Input is what an operation asked for (porcupine.Operation.Input).
type Input struct {
	Op   string // as the history names it: get, set, del, read, write, cas, put, append, or a caller's own
	Key  string
	Arg  Value // the value written (set, write, put, append); cas: the expected value
	Arg2 Value // cas: the new value
}

// Output is what it returned (porcupine.Operation.Output).
type Output struct {
	// Unknown: the caller never learnt the outcome; the operation may have
	// taken effect at any time after its call, or never.
	Unknown bool
	// OK is false for a cas whose compare failed (it did not swap).
	OK bool
	// Value is what a read returned.
	Value Value
}

// Meta is an operation's porcupine Metadata: where it is in the file.
type Meta struct {
	Line int
}

func (m Meta) String() string { return fmt.Sprintf("line %d", m.Line) }

// Op is one operation of a history.
type Op struct {
	Line    int    // line of its call (JSONL: its line; logs: the invoke line)
	RetLine int    // line of its completion (0: none)
	ID      string // the history's id, if it gave one
	Process string // the process (client) that ran it
	Client  int    // the process's index, in order of first appearance
	Call    int64
	Ret     int64 // Unknown when the outcome is unknown
	In      Input
	Out     Output
	NArgs   int  // how many arguments the history gave
	HasVal  bool // the history gave a returned value
}

// Format names the format a history was read in.
type Format string

const (
	JSONL  Format = "stormproof-history" // docs/history.md
	Jepsen Format = "jepsen-etcd-log"    // INFO  jepsen.util - 0	:invoke	:read	nil
	EDN    Format = "edn"                // {:process 0, :type :invoke, :f :get, :key "0", :value nil}
)

// History is a validated history.
type History struct {
	File   string
	Format Format
	// Model is the model the JSONL header names ("" if none, or another
	// format).
	Model string
	// Ops are the operations that may have taken effect, in call order
	// (ties: file order). Operations that failed without effect are left
	// out; Failed counts them.
	Ops    []Op
	Failed int
	// Processes are the process names, by Client index.
	Processes []string
	Lines     int
}

func (h *History) errf(line int, format string, a ...any) error {
	return &traces.Error{File: h.File, Line: line, Msg: fmt.Sprintf(format, a...)}
}

// Read reads and validates a history from r; name names it in errors.
// The format is detected from the first non-blank line: `{"` is JSONL,
// `{:` EDN, `INFO` a Jepsen log. Malformed input is a *traces.Error
// naming the file and line.
func Read(r io.Reader, name string) (*History, error) {
	h := &History{File: name}
	lr := &lineReader{r: bufio.NewReaderSize(r, 64<<10), h: h}
	var p parser
	for {
		line, n, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if p == nil {
			if p, err = detect(h, line, n); err != nil {
				return nil, err
			}
		}
		if f := formatOf(line); f != h.Format {
			return nil, h.errf(n, "a line of format %s in a %s history (its format is detected from line %d): one history, one format", f, h.Format, firstLine(p))
		}
		if err := p.line(line, n); err != nil {
			return nil, err
		}
	}
	h.Lines = lr.n
	if p == nil {
		return nil, h.errf(max(lr.n, 1), "empty: no operations (a history is a JSONL file with a header, a Jepsen etcd log or an EDN history)")
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	sortOps(h.Ops)
	return h, nil
}

type parser interface {
	line(b []byte, n int) error
	finish() error
}

func firstLine(p parser) int {
	switch p := p.(type) {
	case *jsonlParser:
		return p.first
	case *logParser:
		return p.first
	}
	return 0
}

// formatOf tells a line's format by its start (blank lines never reach it).
func formatOf(b []byte) Format {
	b = bytes.TrimLeft(b, " \t\r")
	switch {
	case bytes.HasPrefix(b, []byte("{:")):
		return EDN
	case bytes.HasPrefix(b, []byte("{")):
		return JSONL
	case bytes.HasPrefix(b, []byte("INFO")):
		return Jepsen
	}
	return "unrecognised"
}

func detect(h *History, b []byte, n int) (parser, error) {
	switch f := formatOf(b); f {
	case JSONL:
		h.Format = JSONL
		return &jsonlParser{h: h, first: n, ids: map[string]int{}, procs: map[string]int{}}, nil
	case EDN, Jepsen:
		h.Format = f
		return newLogParser(h, f, n), nil
	}
	return nil, h.errf(n, "unrecognised format: a history is stormproof JSONL (a first line {\"schema\":\"stormproof-history\",...}), a Jepsen etcd log (INFO  jepsen.util - ...) or EDN ({:process 0, :type :invoke, ...})")
}

// lineReader yields lines with their numbers; a line longer than MaxLine is
// an error, so memory never follows a length the input claims.
type lineReader struct {
	r   *bufio.Reader
	h   *History
	n   int
	buf []byte
}

func (l *lineReader) next() ([]byte, int, error) {
	l.buf = l.buf[:0]
	for {
		frag, err := l.r.ReadSlice('\n')
		l.buf = append(l.buf, frag...)
		if len(l.buf) > MaxLine+1 {
			return nil, l.n + 1, l.h.errf(l.n+1, "line longer than %d bytes", MaxLine)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, l.n + 1, err
		}
		if len(l.buf) == 0 {
			return nil, l.n, io.EOF
		}
		l.n++
		b := bytes.TrimSuffix(l.buf, []byte("\n"))
		return bytes.TrimSuffix(b, []byte("\r")), l.n, nil
	}
}

func (h *History) client(name string, procs map[string]int) int {
	if c, ok := procs[name]; ok {
		return c
	}
	c := len(h.Processes)
	procs[name] = c
	h.Processes = append(h.Processes, name)
	return c
}
