//go:build linux

package store

import (
	"fmt"
	"os"
	"syscall"
)

// fileID names a file's identity and last change as the file system keeps
// them: device, inode, size, and the modification and status-change times
// in nanoseconds. The status-change time (ctime) cannot be set back by a
// program, so any write, copy over or restore of the file changes it.
func fileID(fi os.FileInfo) (string, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("dev=%d ino=%d size=%d mtime=%d ctime=%d.%09d",
		st.Dev, st.Ino, fi.Size(), fi.ModTime().UnixNano(), st.Ctim.Sec, st.Ctim.Nsec), true
}
