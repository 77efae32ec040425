package sim

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/tally-inventory/tally/drivers/hidscanner"
)

// Scanner is a simulated USB-HID barcode scanner in keyboard-wedge mode: it
// "types" each code as boot keyboard reports (key down, key up, the US or
// another layout, Enter at the end), exactly as a Honeywell or Zebra
// scanner does, so the real hidscanner decoder reads it. It implements
// hidscanner.Device.
type Scanner struct {
	layout  string
	reports chan [8]byte
	closed  chan struct{}
	once    sync.Once
}

var _ hidscanner.Device = (*Scanner)(nil)

// NewScanner returns a scanner typing in layout ("us", "de", "fr").
func NewScanner(layout string) *Scanner {
	return &Scanner{layout: layout, reports: make(chan [8]byte, 4096), closed: make(chan struct{})}
}

// ErrScannerClosed is what Read returns once the scanner is closed, as an
// unplugged device does.
var ErrScannerClosed = errors.New("sim: scanner unplugged")

// Scan types code followed by Enter (CR). It blocks while the report queue is
// full, or until ctx ends.
func (s *Scanner) Scan(ctx context.Context, code string) error {
	reps, err := hidscanner.KeyboardReports(code+"\r", s.layout)
	if err != nil {
		return fmt.Errorf("sim scanner: %w", err)
	}
	for _, r := range reps {
		select {
		case s.reports <- r:
		case <-s.closed:
			return ErrScannerClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Read returns the next 8-byte boot keyboard report.
func (s *Scanner) Read(p []byte) (int, error) {
	select {
	case r := <-s.reports:
		return copy(p, r[:]), nil
	case <-s.closed:
		return 0, ErrScannerClosed
	}
}

// Write accepts and ignores output reports (keyboard LEDs).
func (s *Scanner) Write(p []byte) (int, error) { return len(p), nil }

// Close unplugs the scanner.
func (s *Scanner) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}
