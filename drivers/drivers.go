// Package drivers holds what every device driver shares: the Read a device
// yields and the Reader contract the agent runtime supervises.
//
// Drivers never import agent/: they turn bytes from a device into Reads and
// nothing more. Normalization beyond what the wire protocol defines, dedupe
// across time, and the meaning of a code are the pipeline's job.
package drivers

import (
	"context"
	"errors"
	"time"
)

// Kind says what sort of device produced a Read; it is a small fixed set so
// it can label metrics.
type Kind string

const (
	KindScanner Kind = "scanner" // barcode scanner (HID keyboard wedge, HID POS, SNAPI)
	KindRFID    Kind = "rfid"    // RFID reader or wand
	KindManual  Kind = "manual"  // typed by a person (UI input, stdin)
)

// Read is one code read by one device.
type Read struct {
	Device    string    // configured device name, e.g. "desk-scanner"
	Kind      Kind      // what sort of device
	Raw       []byte    // bytes as the device sent them (after framing; HF tag memory in memory order), for the journal
	Code      string    // the decoded code: barcode text, or the tag's identifier
	Symbology string    // AIM symbology id such as "]A0" or a name such as "EPC"; "" when unknown
	TagModel  string    // RFID tag data model that produced Code ("iso28560-3", "sgtin-96", …); "" for barcodes
	TagUID    string    // RFID tag UID or EPC, hex upper-case; "" for barcodes
	Antenna   int       // RFID antenna port, 0 when unknown
	RSSI      int       // RFID signal strength in dBm, 0 when unknown
	DSFID     byte      // HF ISO 15693 data storage format identifier from the inventory (0x06: ISO 28560-2); 0 when unused or unknown
	PC        uint16    // UHF Gen2 protocol-control word (EPC bank word 1) when the driver read it: its toggle bit tells an ISO/TS 28560-4 UII from a GS1 EPC; 0 when unknown
	Time      time.Time // when the driver decoded it
	Operator  string    // who was scanning (an operator badge scanned on the device); "" when unknown
}

// Reader is the contract every device driver implements.
//
// Lifecycle: Start is called once; the driver delivers Reads on out, in the
// order the device produced them, until ctx is cancelled or the device fails.
// Start returns after the device is open and reading has begun, or with an
// error if it could not be opened. Stop stops reading and waits until no
// Read is in flight: after Stop returns the driver never sends on out
// again. Errors while reading (a device unplugged, a garbled frame that
// cannot be skipped) are reported through Err; a Supervisor restarts the
// Reader with backoff.
type Reader interface {
	// Name is the configured device name carried in every Read.
	Name() string
	// Start opens the device and begins delivering Reads on out.
	Start(ctx context.Context, out chan<- Read) error
	// Stop stops reading and waits until the driver no longer sends on
	// out; whether a read already decoded is still handed over first is
	// the driver's to say.
	Stop() error
	// Err reports the error that ended reading, once; nil after a clean Stop.
	Err() <-chan error
}

// ErrDisconnected is reported when a device goes away (unplugged, port
// removed). The supervisor treats it as transient.
var ErrDisconnected = errors.New("device disconnected")

// HexUpper formats a tag UID or EPC the way every Read carries it in TagUID
// (and RFID Codes): upper-case hex, no separators.
func HexUpper(b []byte) string {
	const digits = "0123456789ABCDEF"
	s := make([]byte, 2*len(b))
	for i, c := range b {
		s[2*i] = digits[c>>4]
		s[2*i+1] = digits[c&0x0F]
	}
	return string(s)
}
