//go:build linux || darwin || freebsd || netbsd || openbsd

package sip2

import (
	"net"
	"syscall"
)

// connStale reports, without consuming anything, whether conn is unfit for
// the next request: the peer closed it (a non-blocking MSG_PEEK returns 0
// bytes), it failed, or unread bytes other than a stray CR/LF are waiting —
// a reply nobody asked for would be taken as the answer to the next request.
// It lets the client reconnect before sending a checkin on a connection the
// ACS dropped while idle, instead of sending into the void and having to
// call the outcome unknown.
func connStale(conn net.Conn) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	stale := false
	var buf [64]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case rerr == nil && n == 0:
			stale = true // EOF
		case rerr == nil:
			for _, c := range buf[:n] {
				if c != '\r' && c != '\n' {
					stale = true
				}
			}
		case rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK || rerr == syscall.EINTR:
		default:
			stale = true
		}
		return true // never wait for readiness
	})
	return stale || err != nil
}
