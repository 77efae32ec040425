// Package agent is tally's runtime: it reads the configuration and opens
// the configured devices (the reader-protocol factories of open.go) for
// the read engine in package engine.
package agent
