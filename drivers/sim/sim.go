// Package sim holds simulated devices that speak the real wire protocols,
// byte for byte, for tests and for `tally demo`: a scanner and one
// simulated reader per RFID protocol family, each served over a real
// pseudo-terminal so the driver under test opens it with go.bug.st/serial
// exactly as it would open /dev/ttyUSB0.
package sim

import (
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/creack/pty"
)

// Tag is one tag in a simulated population. A UHF tag has an EPC (and
// optionally user memory); an HF tag has a UID and data blocks.
type Tag struct {
	UID       []byte // HF ISO 15693 UID (8 bytes, as transmitted LSB first is the reader's business)
	EPC       []byte // UHF EPC bank contents after the PC word
	PC        uint16 // UHF protocol control word; 0 means derive from len(EPC)
	User      []byte // UHF user memory
	Blocks    []byte // HF user blocks, concatenated
	BlockSize int    // HF block size in bytes (4 for most library tags)
	AFI       byte
	DSFID     byte // HF ISO 15693 data storage format identifier (0x06: ISO 28560-2)
}

// Noise makes a simulated link misbehave the way real ones do.
type Noise struct {
	GarbageRate float64 // probability per frame of injecting random bytes before it
	BadCRCRate  float64 // probability per frame of corrupting its CRC
	SplitRate   float64 // probability per frame of writing it in several pieces
	Seed        uint64  // for a repeatable run
}

// Rand returns a deterministic generator for n.
func (n Noise) Rand() *rand.Rand { return rand.New(rand.NewPCG(n.Seed, n.Seed^0x9e3779b97f4a7c15)) }

// Pty is a pseudo-terminal pair: the simulator serves on Master, the driver
// under test opens Path (the slave device) with go.bug.st/serial.
type Pty struct {
	Master *os.File
	Slave  *os.File // kept open so the pty survives the driver closing and reopening it
	Path   string
}

// OpenPty opens a new pseudo-terminal pair.
func OpenPty() (*Pty, error) {
	m, s, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("open pty: %w", err)
	}
	return &Pty{Master: m, Slave: s, Path: s.Name()}, nil
}

// Close closes both ends. A driver reading the slave sees an error, which is
// how tests simulate an unplugged reader.
func (p *Pty) Close() error {
	err1 := p.Master.Close()
	err2 := p.Slave.Close()
	if err1 != nil {
		return err1
	}
	return err2
}
