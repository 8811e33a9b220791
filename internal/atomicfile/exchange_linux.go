package atomicfile

import "golang.org/x/sys/unix"

// exchange swaps the paths a and b atomically (renameat2 RENAME_EXCHANGE);
// it fails when b does not exist or the file system cannot.
func exchange(a, b string) error {
	return unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
}
