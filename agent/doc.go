// Package agent is tally's runtime: it reads the configuration and opens
// the configured devices, each through the factory its protocol registered
// in drivers/readers, for the read engine in package engine; the sinks come
// from the registry in sync/sinks.
package agent
