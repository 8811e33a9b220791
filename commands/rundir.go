package commands

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/stormproof/stormproof/internal/atomicfile"
	"github.com/stormproof/stormproof/internal/cli"
)

// The output root (--out, default stormproof-out) holds one directory per
// run configuration, named from what decides the run (scenario, seed,
// design, and the flags that change it), and a link "latest" to the run
// that finished last. The name carries no time: the same configuration
// gives the same name, and running it again replaces that directory whole
// (its renders, report and figures too, which described the old outputs);
// runs of other configurations are never touched.
const (
	defaultOutRoot = "stormproof-out"
	latestLink     = "latest"
)

// safeName makes s one file name: letters, digits and ". _ + -" are kept;
// any other run of characters (a path separator, a comma, a space) becomes
// one "-"; it never starts with a dot (hidden, or a temporary file's name).
func safeName(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._+-", r)
		if !ok {
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = true
			continue
		}
		b.WriteRune(r)
		dash = false
	}
	n := strings.TrimLeft(strings.TrimRight(b.String(), "-"), ".-")
	if n == "" || n == latestLink {
		n = "run-" + n
	}
	return n
}

// runName is the directory name of a configuration: its non-empty parts,
// each made safe, joined by "-". Mitigation lists (a,b) read a+b.
func runName(parts ...string) string {
	var ps []string
	for _, p := range parts {
		if p != "" {
			ps = append(ps, strings.ReplaceAll(p, ",", "+"))
		}
	}
	return safeName(strings.Join(ps, "-"))
}

// scenarioPart is how a scenario argument names a run directory: an
// embedded scenario by its name, a file by its name without the extension.
func scenarioPart(arg string) string {
	if strings.ContainsAny(arg, `/\.`) {
		base := filepath.Base(arg)
		return strings.TrimSuffix(base, filepath.Ext(base))
	}
	return arg
}

// runOut is one run's directory being written: its files go into a
// temporary directory beside it, and commit puts it in place whole (a run
// killed part way leaves the previous outputs of its configuration as they
// were) and points latest at it.
type runOut struct {
	root, name string
	dir        *atomicfile.Dir
	latest     bool
}

// openRunOut starts writing run directory name under root, creating root.
// With latest, commit points root/latest at it. An unwritable root is bad
// input, refused before anything runs.
func openRunOut(root, name string, latest bool) (*runOut, error) {
	if err := atomicfile.CheckDir(root); err != nil {
		return nil, cli.Badf("--out %s: cannot write there: %v", root, unwrap(err))
	}
	// Temporary files and directories of runs that were killed are
	// removed; those of a run still writing here are not.
	if _, err := atomicfile.CleanStale(root); err != nil {
		return nil, err
	}
	d, err := atomicfile.CreateDir(filepath.Join(root, name))
	if err != nil {
		return nil, cli.Badf("--out %s: %v", root, unwrap(err))
	}
	return &runOut{root: root, name: name, dir: d, latest: latest}, nil
}

// tmp is where file is written while the run goes on.
func (r *runOut) tmp(file string) string { return r.dir.Join(file) }

// path is where file is once the run is committed (what messages name).
func (r *runOut) path(file string) string { return filepath.Join(r.root, r.name, file) }

// Dir is the run's directory once committed.
func (r *runOut) Dir() string { return filepath.Join(r.root, r.name) }

func (r *runOut) commit() error {
	if err := r.dir.Commit(); err != nil {
		return err
	}
	if !r.latest {
		return nil
	}
	return atomicfile.Symlink(r.name, filepath.Join(r.root, latestLink))
}

func (r *runOut) abort() { r.dir.Abort() }

// create opens file in the run's directory for writing.
func (r *runOut) create(file string) (*os.File, error) { return os.Create(r.tmp(file)) }
