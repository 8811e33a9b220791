// Package atomicfile writes a file so that readers see either the old
// content or the whole new content, never half of it: write to a temporary
// file in the same directory, then rename.
package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// File is a file being written; Commit publishes it, Abort discards it.
type File struct {
	*os.File
	path string
	done bool
}

// Create starts writing path. The temporary file's name carries the
// process id (".NAME.tmpPID-RANDOM"), so CleanStale can tell the files of a
// process that was killed from those of one still writing.
func Create(path string) (*File, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+tmpMark+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return nil, err
	}
	return &File{File: f, path: path}, nil
}

const tmpMark = ".tmp"

// CleanStale removes from dir the temporary files and directories (Dir)
// that processes no longer running left behind (killed before they could
// commit or abort), and returns their names. Those of running processes
// are left alone.
func CleanStale(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range entries {
		pid, ok := tempOwner(e.Name())
		if !ok || running(pid) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err == nil {
			removed = append(removed, e.Name())
		}
	}
	return removed, nil
}

// tempOwner is the process id in a temporary file's name.
func tempOwner(name string) (int, bool) {
	if !strings.HasPrefix(name, ".") {
		return 0, false
	}
	i := strings.LastIndex(name, tmpMark)
	if i < 0 {
		return 0, false
	}
	rest := name[i+len(tmpMark):]
	j := strings.IndexByte(rest, '-')
	if j <= 0 {
		return 0, false
	}
	pid, err := strconv.Atoi(rest[:j])
	return pid, err == nil && pid > 0
}

// Commit closes the file and renames it into place.
func (f *File) Commit() error {
	if f.done {
		return nil
	}
	f.done = true
	if err := f.File.Close(); err != nil {
		os.Remove(f.File.Name())
		return err
	}
	if err := os.Chmod(f.File.Name(), 0o644); err != nil {
		os.Remove(f.File.Name())
		return err
	}
	if err := os.Rename(f.File.Name(), f.path); err != nil {
		os.Remove(f.File.Name())
		return err
	}
	return nil
}

// Abort discards the file; a no-op after Commit.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.File.Name())
}

// WriteFile writes data to path atomically.
func WriteFile(path string, data []byte) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// CheckDir makes sure dir exists (creating it) and is writable, so a run
// can refuse a bad --out before it starts.
func CheckDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".probe"+tmpMark+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// Dir is a directory being filled; Commit puts it in place of path whole,
// Abort discards it.
type Dir struct {
	tmp, path string
	done      bool
}

// CreateDir starts filling the directory path: its files are written into a
// temporary directory beside it (named like a temporary file, so CleanStale
// removes it when its process was killed).
func CreateDir(path string) (*Dir, error) {
	tmp, err := os.MkdirTemp(filepath.Dir(path), "."+filepath.Base(path)+tmpMark+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.Remove(tmp)
		return nil, err
	}
	return &Dir{tmp: tmp, path: path}, nil
}

// Join is the path of name inside the directory being filled.
func (d *Dir) Join(name string) string { return filepath.Join(d.tmp, name) }

// Commit puts the directory in place. A directory already at its path is
// replaced whole: where the system can exchange two paths atomically
// (Linux), a reader sees the old directory or the new one, never neither.
func (d *Dir) Commit() error {
	if d.done {
		return nil
	}
	d.done = true
	if err := exchange(d.tmp, d.path); err == nil {
		return os.RemoveAll(d.tmp) // now the old directory
	}
	// No directory there yet, or no exchange on this system: move the old
	// one aside under a temporary name, then the new one in.
	old := d.tmp + "-old"
	if err := os.Rename(d.path, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		os.RemoveAll(d.tmp)
		return err
	}
	if err := os.Rename(d.tmp, d.path); err != nil {
		os.RemoveAll(d.tmp)
		return err
	}
	return os.RemoveAll(old)
}

// Abort discards the directory; a no-op after Commit.
func (d *Dir) Abort() {
	if d.done {
		return
	}
	d.done = true
	os.RemoveAll(d.tmp)
}

// Symlink points link at target, replacing what link was (a link or a
// file) in one rename.
func Symlink(target, link string) error {
	for i := 0; ; i++ {
		tmp := filepath.Join(filepath.Dir(link), "."+filepath.Base(link)+tmpMark+strconv.Itoa(os.Getpid())+"-"+strconv.Itoa(i))
		err := os.Symlink(target, tmp)
		if errors.Is(err, os.ErrExist) && i < 100 {
			continue
		}
		if err != nil {
			return err
		}
		if err := os.Rename(tmp, link); err != nil {
			os.Remove(tmp)
			return err
		}
		return nil
	}
}
