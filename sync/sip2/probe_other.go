//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package sip2

import "net"

// peerClosed cannot peek portably here; a dropped connection is then found
// by the request itself (and a checkin on it reports ErrOutcomeUnknown).
func peerClosed(net.Conn) bool { return false }
