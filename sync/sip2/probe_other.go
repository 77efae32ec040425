//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package sip2

import "net"

// connStale cannot peek portably here; a dropped connection is then found
// by the request itself (and a checkin on it reports ErrOutcomeUnknown).
func connStale(net.Conn) bool { return false }
