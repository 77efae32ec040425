//go:build unix

package store

import (
	"fmt"
	"os"
	"syscall"
)

// mapFile maps the file at path read-only. The decoded index keeps
// strings that point into the snapshot's bytes; mapped, those bytes are the
// page cache's, not the Go heap's: the collector neither counts them
// towards its next goal (which doubles whatever the heap holds) nor copies
// them in, and the kernel can drop them and read them again. The
// snapshot is only ever replaced by a rename, so the mapped file is never
// changed under the mapping. keep says the bytes are in use for the rest
// of the process (their pages are let go of until touched again); drop
// unmaps them, for bytes that nothing refers to.
func mapFile(path string) (data []byte, keep, drop func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, nil, err
	}
	size := fi.Size()
	if size == 0 || int64(int(size)) != size {
		b, err := os.ReadFile(path)
		return b, func() {}, func() {}, err
	}
	data, err = syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("map %s: %w", path, err)
	}
	keep = func() { syscall.Madvise(data, syscall.MADV_DONTNEED) }
	drop = func() { syscall.Munmap(data) }
	return data, keep, drop, nil
}
