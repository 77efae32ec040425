package web

import "testing"

// IsLoopback takes a listen address or a bare host, as the config check and
// the server both use it.
func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "localhost:8080": true, "LOCALHOST": true, "[::1]:8080": true, "::1": true,
		"127.8.9.10": true, "0.0.0.0:8080": false, ":8080": false, "[::]:80": false, "192.168.1.20:8080": false,
		"tally-pi.local:8080": false, "": false,
	} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
