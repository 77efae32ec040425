// Package ascii drives serial RFID readers that print what they read as
// text: one hex UID or EPC per line (many HF/UHF desktop readers and
// wands in "serial output" mode), or the RDM6300-style 125 kHz frame
// STX + 10 hex digits + 2 hex XOR checksum + ETX.
//
// These readers take no commands: the driver only listens, resyncs after
// garbage, drops bad lines and bad checksums (counted), and turns each
// good code into a drivers.Read.
package ascii

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"go.bug.st/serial"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/rfid/internal/seriallink"
)

// Format is the reader's output format.
type Format int

const (
	FormatLines   Format = iota // hex code per line, CR, LF or CRLF
	FormatRDM6300               // STX, 10 hex, 2 hex XOR checksum, ETX
)

func (f Format) String() string {
	switch f {
	case FormatLines:
		return "lines"
	case FormatRDM6300:
		return "rdm6300"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Opts configures a Dev.
type Opts struct {
	Format Format
	// Line options (FormatLines): prefix and suffix stripped when present,
	// and the accepted number of hex digits.
	Prefix, Suffix       string
	MinDigits, MaxDigits int
	// MaxLine bounds a line in bytes; longer lines are dropped.
	MaxLine int
	// Symbology labels the reads ("EM4100" for RDM6300 readers); "" leaves
	// it to the pipeline.
	Symbology string
}

// DefaultOpts reads hex lines of 8 (a 4-byte UID) to 64 digits.
var DefaultOpts = Opts{Format: FormatLines, MinDigits: 8, MaxDigits: 64, MaxLine: 256}

// RDM6300Opts reads RDM6300-style 125 kHz readers.
var RDM6300Opts = Opts{Format: FormatRDM6300, Symbology: "EM4100"}

func (o Opts) validate() error {
	if o.Format != FormatLines && o.Format != FormatRDM6300 {
		return fmt.Errorf("ascii: unknown format %d; use FormatLines or FormatRDM6300", o.Format)
	}
	if o.MinDigits < 0 || o.MaxDigits < 0 || (o.MaxDigits > 0 && o.MinDigits > o.MaxDigits) {
		return fmt.Errorf("ascii: digits %d..%d invalid; use 0 <= min <= max", o.MinDigits, o.MaxDigits)
	}
	return nil
}

// Stats are the driver's counters.
type Stats struct {
	Codes       uint64 // good codes delivered
	BadLines    uint64 // lines or frames rejected
	BadChecksum uint64 // RDM6300 checksum mismatches
	Skipped     uint64 // garbage bytes skipped
}

// Dev is a text-output RFID reader. It implements drivers.Reader.
type Dev struct {
	*seriallink.Shell // Name, Err, Stop
	opts              Opts
	open              func() (io.ReadWriter, error) // the port, at Start
	counters          Counters
}

var _ drivers.Reader = (*Dev)(nil)

// New returns a driver for the reader on port. The caller owns port: the
// driver never closes it, and a read blocked on it returns only when the
// caller closes it.
func New(name string, port io.ReadWriter, opts Opts) (*Dev, error) {
	if port == nil {
		return nil, errors.New("ascii: nil port")
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	return newDev(name, opts, func() (io.ReadWriter, error) { return seriallink.Borrowed(port), nil }), nil
}

// Open returns a driver for the serial port at path (8N1 at baud; RDM6300
// modules run at 9600). Start opens the port; it is closed when reading
// ends.
func Open(name, path string, baud int, opts Opts) (*Dev, error) {
	if path == "" {
		return nil, errors.New("ascii: empty serial port path")
	}
	if baud <= 0 {
		return nil, fmt.Errorf("ascii: baud rate %d; use the reader's setting (9600 for RDM6300)", baud)
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	mode := &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit}
	return newDev(name, opts, func() (io.ReadWriter, error) { return seriallink.OpenSerial(path, mode) }), nil
}

func newDev(name string, opts Opts, open func() (io.ReadWriter, error)) *Dev {
	return &Dev{Shell: seriallink.NewShell("ascii", name), opts: opts, open: open}
}

// Stats returns the counters; safe while running.
func (d *Dev) Stats() Stats {
	return Stats{
		Codes:       d.counters.Codes.Load(),
		BadLines:    d.counters.BadLines.Load(),
		BadChecksum: d.counters.BadChecksum.Load(),
		Skipped:     d.counters.Skipped.Load(),
	}
}

// decoder is what both formats offer.
type decoder interface {
	seriallink.Feeder
	Next() ([]byte, bool)
}

// Start opens the port (for a Dev from Open) and starts listening.
func (d *Dev) Start(ctx context.Context, out chan<- drivers.Read) error {
	var dec decoder
	if d.opts.Format == FormatRDM6300 {
		dec = &RDM6300Decoder{Stats: &d.counters}
	} else {
		dec = &LineDecoder{Opts: LineOpts{Prefix: d.opts.Prefix, Suffix: d.opts.Suffix, MinDigits: d.opts.MinDigits, MaxDigits: d.opts.MaxDigits}, MaxLine: d.opts.MaxLine, Stats: &d.counters}
	}
	return d.Shell.Start(ctx, d.open, nil, func(ctx context.Context, l *seriallink.Link) error {
		return d.run(ctx, l, dec, out)
	})
}

// run listens: these readers take no commands, so it only waits for bytes,
// with no deadline, and decodes them.
func (d *Dev) run(ctx context.Context, l *seriallink.Link, dec decoder, out chan<- drivers.Read) error {
	for {
		if err := l.Wait(ctx, time.Time{}, dec); err != nil {
			return err
		}
		for {
			code, ok := dec.Next()
			if !ok {
				break
			}
			uid := drivers.HexUpper(code)
			r := drivers.Read{
				Device:    d.Name(),
				Kind:      drivers.KindRFID,
				Raw:       append([]byte(nil), code...),
				Code:      uid,
				Symbology: d.opts.Symbology,
				TagUID:    uid,
				Time:      time.Now(),
			}
			select {
			case out <- r:
			case <-ctx.Done():
				return nil
			}
		}
	}
}
