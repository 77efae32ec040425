package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/tally-inventory/tally/agent"
	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/drivers"
)

// agentOpts are what `tally run` and `tally demo` give the agent besides
// its config: the build on the metrics, and p to print reads as they are
// decided.
func agentOpts(log io.Writer, p *outcomePrinter) agent.Opts {
	return agent.Opts{
		Log:       log,
		OnRead:    p.read,
		OnControl: p.control,
		Version:   version,
		Revision:  revision,
	}
}

// outcomePrinter prints the agent's reads: a line per read and control barcode
// on log (-v), or a JSON line per committed read on stdout (--json).
type outcomePrinter struct {
	log     io.Writer
	verbose bool
	json    bool
	mu      sync.Mutex
}

func (p *outcomePrinter) read(device string, rd drivers.Read, res *engine.Result, err error) {
	if p.json && err == nil && res != nil {
		p.mu.Lock()
		json.NewEncoder(os.Stdout).Encode(struct {
			Device string `json:"device"`
			scanLine
		}{device, scanJSON(res)})
		p.mu.Unlock()
	}
	if p.verbose {
		switch {
		case err != nil:
			fmt.Fprintf(p.log, "%-12s %-20s %s — not stored: %v\n", device, "ERROR", rd.Code, err)
		default:
			fmt.Fprintf(p.log, "%-12s %s\n", device, scanText(res))
		}
	}
}

func (p *outcomePrinter) control(device, pattern string) {
	if p.verbose {
		fmt.Fprintf(p.log, "%-12s %-20s control\n", device, pattern)
	}
}
