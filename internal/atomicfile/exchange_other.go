//go:build !linux

package atomicfile

import "errors"

// exchange is not offered here: Commit moves the old directory aside first.
func exchange(a, b string) error { return errors.New("no atomic exchange") }
