package chafon

import (
	"errors"
	"fmt"
	"io"

	"go.bug.st/serial"

	"github.com/tally-inventory/tally/drivers/rfid/internal/seriallink"
)

// Open returns a driver for the reader on the serial port at path (8N1 at
// baud; factory settings are 57600, newer units 115200). The port is
// opened by Start and closed when reading ends, so a supervisor can
// restart the driver after the port vanished and came back.
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
	mode := &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit}
	return newDev(name, opts, func() (io.ReadWriter, error) { return seriallink.OpenSerial(path, mode) }), nil
}
