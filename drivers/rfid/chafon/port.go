package chafon

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"go.bug.st/serial"

	"github.com/tally-inventory/tally/drivers"
)

// Open returns a driver for the reader on the serial port at path (8N1 at
// baud; factory settings are 57600, newer units 115200). The port is
// opened by Start and closed by Stop, so a supervisor can restart the
// driver after the port vanished and came back.
func Open(name, path string, baud int, opts Opts) (*Dev, error) {
	if path == "" {
		return nil, errors.New("chafon: empty serial port path")
	}
	if baud <= 0 {
		return nil, fmt.Errorf("chafon: baud rate %d; use the reader's setting (57600 at the factory)", baud)
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	d := &Dev{name: name, opts: opts, errc: make(chan error, 1)}
	d.open = func() (io.ReadWriteCloser, error) {
		p, err := serial.Open(path, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || isClosed(err) {
				return nil, fmt.Errorf("chafon %s: open %s: %w: %w", name, path, drivers.ErrDisconnected, err)
			}
			return nil, fmt.Errorf("chafon %s: open %s: %w", name, path, err)
		}
		return p, nil
	}
	return d, nil
}

// isClosed reports whether err says the port is closed or gone.
func isClosed(err error) bool {
	var pe *serial.PortError
	if errors.As(err, &pe) {
		switch pe.Code() {
		case serial.PortClosed, serial.PortNotFound:
			return true
		}
	}
	return errors.Is(err, os.ErrClosed)
}
