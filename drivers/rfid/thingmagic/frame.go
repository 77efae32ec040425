// Package thingmagic drives ThingMagic Mercury serial readers (M6e, M6e
// Nano — e.g. the SparkFun Simultaneous RFID reader — and their kin) over
// the Mercury "serial reader" protocol.
//
// Frames. A command is
//
//	FF LEN OPCODE DATA… CRC-HI CRC-LO         (LEN = len(DATA))
//
// and a response adds a big-endian status word after the opcode:
//
//	FF LEN OPCODE STATUS-HI STATUS-LO DATA… CRC-HI CRC-LO
//
// The CRC is ThingMagic's own nibble-table CRC (see CRC) over LEN..DATA.
//
// Reading. The driver uses the synchronous inventory cycle the Mercury API
// uses on every module: clear the tag buffer (0x2A), search for a while
// (read tag multiple, 0x22, which answers with a tag count), then drain the
// buffer with get tag buffer (0x29) asking for read count, RSSI, antenna
// and protocol metadata. The continuous-stream mode (0x2F) is not used: its
// reply stream differs between firmware versions, it cannot be told apart
// from a stale reply after a resync, and the request/response cycle lets
// every exchange be verified and retried on its own.
package thingmagic

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/tally-inventory/tally/drivers/internal/crc16"
)

// SOH starts every frame in both directions.
const SOH = 0xFF

// MaxData is the most data bytes a frame can carry (LEN is one byte).
const MaxData = 255

// CRC is the ThingMagic message CRC: polynomial 0x1021 from init 0xFFFF
// with the message shifted in at the low end of the register (the vendor
// feeds it a nibble at a time from a 16-entry table). It is not
// CRC-16/CCITT-FALSE although it looks close; its check value over
// "123456789" is 0xA69D, and with two zero bytes appended it gives the
// catalogue's CRC-16/SPI-FUJITSU.
func CRC(b []byte) uint16 { return crc16.Augmented(b) }

// ErrShort says the bytes end before the frame does: read more and retry.
var ErrShort = errors.New("thingmagic: frame incomplete")

// FrameError says why bytes are not a valid frame and where.
type FrameError struct {
	Offset int    // byte offset in the input where the problem is
	Reason string // what is wrong
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("thingmagic: bad frame at byte %d: %s", e.Offset, e.Reason)
}

// Command is a host→reader message.
type Command struct {
	Opcode byte
	Data   []byte
}

// Response is a reader→host message.
type Response struct {
	Opcode byte
	Status Status
	Data   []byte
}

// AppendCommand appends the encoded command to dst.
func AppendCommand(dst []byte, opcode byte, data []byte) ([]byte, error) {
	if len(data) > MaxData {
		return dst, fmt.Errorf("thingmagic: command data is %d bytes, at most %d fit in a frame", len(data), MaxData)
	}
	start := len(dst)
	dst = append(dst, SOH, byte(len(data)), opcode)
	dst = append(dst, data...)
	return binary.BigEndian.AppendUint16(dst, CRC(dst[start+1:])), nil
}

// AppendResponse appends the encoded response to dst.
func AppendResponse(dst []byte, opcode byte, status Status, data []byte) ([]byte, error) {
	if len(data) > MaxData {
		return dst, fmt.Errorf("thingmagic: response data is %d bytes, at most %d fit in a frame", len(data), MaxData)
	}
	start := len(dst)
	dst = append(dst, SOH, byte(len(data)), opcode, byte(status>>8), byte(status))
	dst = append(dst, data...)
	return binary.BigEndian.AppendUint16(dst, CRC(dst[start+1:])), nil
}

// frameLen reports how long the frame starting at b[0] is, given that a
// response carries hdr extra header bytes (2 for the status word).
func frameLen(b []byte, hdr int) (int, error) {
	if len(b) == 0 {
		return 0, ErrShort
	}
	if b[0] != SOH {
		return 0, &FrameError{0, fmt.Sprintf("start byte is 0x%02X, want 0xFF; skip to the next 0xFF", b[0])}
	}
	if len(b) < 2 {
		return 0, ErrShort
	}
	return 5 + hdr + int(b[1]), nil
}

// crcOK reports whether a complete frame's CRC matches, without allocating.
func crcOK(frame []byte) bool {
	n := len(frame)
	return binary.BigEndian.Uint16(frame[n-2:]) == CRC(frame[1:n-2])
}

func checkCRC(frame []byte) error {
	n := len(frame)
	got := binary.BigEndian.Uint16(frame[n-2:])
	if want := CRC(frame[1 : n-2]); got != want {
		return &FrameError{n - 2, fmt.Sprintf("CRC is 0x%04X, computed 0x%04X; the frame is corrupt, drop it", got, want)}
	}
	return nil
}

// DecodeCommand decodes the command frame at the start of b and returns it
// with the number of bytes it used. Data aliases b. It returns ErrShort if b
// holds only part of a frame.
func DecodeCommand(b []byte) (Command, int, error) {
	n, err := frameLen(b, 0)
	if err != nil {
		return Command{}, 0, err
	}
	if len(b) < n {
		return Command{}, 0, ErrShort
	}
	if err := checkCRC(b[:n]); err != nil {
		return Command{}, 0, err
	}
	return Command{Opcode: b[2], Data: b[3 : n-2]}, n, nil
}

// DecodeResponse decodes the response frame at the start of b and returns it
// with the number of bytes it used. Data aliases b. It returns ErrShort if b
// holds only part of a frame.
func DecodeResponse(b []byte) (Response, int, error) {
	n, err := frameLen(b, 2)
	if err != nil {
		return Response{}, 0, err
	}
	if len(b) < n {
		return Response{}, 0, ErrShort
	}
	if err := checkCRC(b[:n]); err != nil {
		return Response{}, 0, err
	}
	return Response{Opcode: b[2], Status: Status(binary.BigEndian.Uint16(b[3:5])), Data: b[5 : n-2]}, n, nil
}
