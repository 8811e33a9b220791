// Package cli holds what every stormproof subcommand shares: flag parsing
// that allows flags after positional arguments, the exit-status rules, and
// one-line error reporting.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit statuses (checker.Policy): 0 every promise held, 1 one is violated,
// 2 bad input, 3 incomplete (nothing violated, but the evidence is not
// whole: a cut-short trace, a bounded search), 4 not exercised (nothing
// violated, but the fault the run was meant to test never bit), 130 and 143
// interrupted by SIGINT and SIGTERM (128 + the signal's number, as shells
// report a process a signal ended).
const (
	ExitOK           = 0
	ExitViolation    = 1
	ExitBadInput     = 2
	ExitIncomplete   = 3
	ExitNotExercised = 4
	ExitSIGINT       = 130
	ExitSIGTERM      = 143
)

// BadInput marks an error as the user's input being wrong (exit 2).
type BadInput struct{ Err error }

func (b *BadInput) Error() string { return b.Err.Error() }
func (b *BadInput) Unwrap() error { return b.Err }

// Bad wraps err as bad input.
func Bad(err error) error { return &BadInput{err} }

// Badf formats a bad-input error.
func Badf(format string, a ...any) error { return &BadInput{fmt.Errorf(format, a...)} }

// Violated is returned by a command whose check found a violation (exit 1).
var Violated = errors.New("violated")

// Incomplete is returned by a command whose evidence is incomplete and
// shows no violation (exit 3): a trace cut short, a search a bound stopped
// before it explored every state. "No violation" is not "holds".
var Incomplete = errors.New("incomplete")

// NotExercised is returned by a command whose run held every promise but
// never met the fault it was meant to test (exit 4): "held" would be
// vacuous.
var NotExercised = errors.New("not exercised")

// Exit returns the error that makes a command exit with status code (0:
// nil).
func Exit(code int) error {
	switch code {
	case ExitOK:
		return nil
	case ExitViolation:
		return Violated
	case ExitIncomplete:
		return Incomplete
	case ExitNotExercised:
		return NotExercised
	}
	return Badf("bad input")
}

// Status is the exit status of a command that returned err; an error that
// is not a verdict is printed as one line on standard error first.
func Status(err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.Is(err, Violated):
		return ExitViolation
	case errors.Is(err, Incomplete):
		return ExitIncomplete
	case errors.Is(err, NotExercised):
		return ExitNotExercised
	}
	var in *Interrupted
	if errors.As(err, &in) {
		fmt.Fprintf(os.Stderr, "stormproof: %v\n", err)
		return in.Status
	}
	return Fail(err)
}

// Parse parses args into fs, allowing flags and positional arguments in any
// order. Flag errors are bad input.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			// flags are written --name in every message of stormproof
			msg := strings.Replace(err.Error(), " flag -", " flag --", 1)
			if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -"); ok {
				name = strings.TrimLeft(name, "-")
				msg = "unknown flag --" + name
				if near := Nearest(fs, strings.TrimLeft(name, "-")); near != "" {
					msg += fmt.Sprintf(" (did you mean --%s?)", near)
				}
			}
			return nil, Badf("%s: %s (stormproof help %s)", fs.Name(), msg, fs.Name())
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// Usage prints a flag set's usage to w.
// Flags are shown as --name, the way every stormproof message and document
// writes them (the flag package prints -name).
func Usage(w io.Writer, fs *flag.FlagSet, synopsis string) {
	fmt.Fprintf(w, "usage: %s\n", synopsis)
	header := "\nflags:\n"
	fs.VisitAll(func(f *flag.Flag) {
		fmt.Fprint(w, header)
		header = ""
		kind, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if kind != "" {
			line += " " + kind
		}
		fmt.Fprintf(w, "%s\n    \t%s", line, strings.ReplaceAll(usage, "\n", "\n    \t"))
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

// Nearest is the defined flag closest to name (at most two edits away, or
// one when name is short), else the one flag whose name begins with name
// (--out for --output), or "".
func Nearest(fs *flag.FlagSet, name string) string {
	best, bestD := "", 3
	if len(name) <= 3 {
		bestD = 2
	}
	var prefixed []string
	fs.VisitAll(func(f *flag.Flag) {
		if d := editDistance(name, f.Name); d < bestD {
			best, bestD = f.Name, d
		}
		if name != "" && strings.HasPrefix(f.Name, name) {
			prefixed = append(prefixed, f.Name)
		}
	})
	if best == "" && len(prefixed) == 1 {
		best = prefixed[0]
	}
	return best
}

// editDistance is the Levenshtein distance of two short strings (flag names;
// no library of the module's dependencies offers it).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// Fail prints err as one line and returns its exit status.
func Fail(err error) int {
	var b *BadInput
	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	fmt.Fprintf(os.Stderr, "stormproof: %s\n", msg)
	if errors.As(err, &b) {
		return ExitBadInput
	}
	return ExitBadInput
}

// IsTerminal reports whether f is a terminal (progress is shown only then).
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// StringList is a repeatable flag whose values may also be comma-separated.
type StringList []string

func (s *StringList) String() string { return strings.Join(*s, ",") }

// Set implements flag.Value.
func (s *StringList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*s = append(*s, p)
		}
	}
	return nil
}
