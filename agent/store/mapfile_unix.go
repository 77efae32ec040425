//go:build unix

package store

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// mapFile reads the file at path into memory of its own, mapped outside
// the Go heap. The decoded index keeps strings that point into the
// snapshot's bytes; off the heap, the collector neither counts them
// towards its next goal (which doubles whatever the heap holds) nor scans
// them. The bytes are a copy, not a mapping of the file itself: a file
// mapping faults (SIGBUS, which ends the process) on the next lookup once
// anything truncates or rewrites the file in place — a backup copied over
// it, rsync --inplace — and a same-size rewrite would change strings the
// index holds as immutable. The copy is made read-only. keep says the
// bytes are in use for the rest of the process; drop unmaps them, for
// bytes that nothing refers to.
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
	data, err = syscall.Mmap(-1, 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("map %s: %w", path, err)
	}
	drop = func() { syscall.Munmap(data) }
	// Huge pages for a big snapshot, where the system allows them
	// (transparent_hugepage set to madvise): a 1M-item one is about 140 MB,
	// and faulting that in 4 KiB at a time was most of reading it (1M
	// items: 527 → 339 ms). A small one faults in quickly, and 2 MiB
	// pages would round its memory up.
	if size >= 32<<20 {
		syscall.Madvise(data, 14) // MADV_HUGEPAGE
	}
	if _, err := io.ReadFull(f, data); err != nil {
		drop()
		return nil, nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	if err := syscall.Mprotect(data, syscall.PROT_READ); err != nil {
		drop()
		return nil, nil, nil, fmt.Errorf("map %s: %w", path, err)
	}
	return data, func() {}, drop, nil
}
