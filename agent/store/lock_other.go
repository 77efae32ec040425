//go:build !unix

package store

import (
	"errors"
	"os"
)

// Without flock (Windows) the lock file only names the holder; SQLite's own
// locking still keeps the file consistent.
var errWouldBlock = errors.New("lock is held")

func flock(*os.File) error { return nil }
func funlock(*os.File)     {}
