//go:build linux || darwin || freebsd || netbsd || openbsd

package sip2

import (
	"net"
	"syscall"
)

// peerClosed reports whether the peer has closed conn, without consuming
// data: a non-blocking MSG_PEEK that returns 0 bytes means EOF. It lets the
// client reconnect before sending a checkin on a connection the ACS dropped
// while idle, instead of sending into the void and having to call the
// outcome unknown.
func peerClosed(conn net.Conn) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	var buf [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case rerr == nil:
			closed = n == 0
		case rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK || rerr == syscall.EINTR:
		default:
			closed = true
		}
		return true // never wait for readiness
	})
	return closed || err != nil
}
