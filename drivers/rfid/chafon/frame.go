package chafon

import (
	"errors"
	"fmt"
)

// Command codes the driver and the simulator use (UHFReader18/288 family).
const (
	CmdInventory   byte = 0x01 // EPC C1G2 inventory
	CmdReadData    byte = 0x02 // read words from a memory bank
	CmdWriteData   byte = 0x03
	CmdWriteEPC    byte = 0x04
	CmdKill        byte = 0x05
	CmdReaderInfo  byte = 0x21 // firmware, type, band, power, scan time
	CmdSetRegion   byte = 0x22 // band and channel range
	CmdSetAddress  byte = 0x24
	CmdSetScanTime byte = 0x25 // inventory scan time, 100 ms steps
	CmdSetBaud     byte = 0x28
	CmdSetPower    byte = 0x2F // RF output power, dBm 0..30
	// Work mode: answer mode (the host polls) or an active/scan mode in
	// which the reader sends tags unasked. The UHFReader18 takes 6 bytes
	// (0x35), the UHFReader288M/MP one byte (0x76); all zero is answer
	// mode (github.com/wabson/chafon-rfid chafon_rfid/command.py,
	// examples/continuous-read.py).
	CmdSetWorkMode18  byte = 0x35
	CmdSetWorkMode288 byte = 0x76
)

// Response status codes.
const (
	StatusOK           byte = 0x00
	StatusDone         byte = 0x01 // inventory finished before the scan time
	StatusTimeOverflow byte = 0x02 // inventory stopped at the scan time
	StatusMore         byte = 0x03 // more inventory frames follow
	StatusBufferFull   byte = 0x04 // reader could not hold more tags
	StatusAccessPwd    byte = 0x05
	StatusAntennaError byte = 0xF8 // inventory: antenna error (chafon-rfid chafon_rfid/response.py)
	StatusPoorComms    byte = 0xFA
	StatusNoTag        byte = 0xFB
	StatusTagError     byte = 0xFC
	StatusLengthError  byte = 0xFD
	StatusIllegalCmd   byte = 0xFE
	StatusParamError   byte = 0xFF
)

// StatusText names a status code for error messages.
func StatusText(s byte) string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusDone:
		return "inventory done"
	case StatusTimeOverflow:
		return "inventory scan time overflow"
	case StatusMore:
		return "more frames follow"
	case StatusBufferFull:
		return "tag buffer full"
	case StatusAccessPwd:
		return "access password error"
	case StatusAntennaError:
		return "antenna error (check the antenna cable and the antenna port setting)"
	case StatusPoorComms:
		return "poor communication with tag"
	case StatusNoTag:
		return "no tag"
	case StatusTagError:
		return "tag error"
	case StatusLengthError:
		return "command length error"
	case StatusIllegalCmd:
		return "illegal command"
	case StatusParamError:
		return "parameter error"
	}
	return fmt.Sprintf("status 0x%02X", s)
}

// Frame sizes. Len counts the bytes after itself, so a frame is Len+1
// bytes and never longer than 256.
const (
	MaxFrame             = 256
	minCommandLen        = 4 // Adr Cmd CRC CRC
	minResponseLen       = 5 // Adr Cmd Status CRC CRC
	MaxCommandData       = 255 - minCommandLen
	MaxResponseData      = 255 - minResponseLen
	BroadcastAddr   byte = 0xFF // any reader answers
)

// Errors a frame decoder returns, wrapped in a *FrameError that says where.
var (
	ErrTruncated = errors.New("truncated frame")
	ErrLength    = errors.New("bad length byte")
	ErrCRC       = errors.New("crc mismatch")
	ErrTooLong   = errors.New("data too long for one frame")
)

// FrameError says what is wrong with a frame and at which byte.
type FrameError struct {
	Offset int    // byte offset in the input where the problem is
	Err    error  // ErrTruncated, ErrLength or ErrCRC
	Detail string // what was found and what to do
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("chafon frame: byte %d: %v: %s", e.Offset, e.Err, e.Detail)
}

func (e *FrameError) Unwrap() error { return e.Err }

// Command is a host-to-reader frame: Len Adr Cmd Data… CRC-LSB CRC-MSB.
type Command struct {
	Addr byte
	Cmd  byte
	Data []byte
}

// Append appends the encoded frame to dst.
func (c Command) Append(dst []byte) ([]byte, error) {
	if len(c.Data) > MaxCommandData {
		return dst, fmt.Errorf("chafon command 0x%02X: %d data bytes: %w (max %d)", c.Cmd, len(c.Data), ErrTooLong, MaxCommandData)
	}
	start := len(dst)
	dst = append(dst, byte(minCommandLen+len(c.Data)), c.Addr, c.Cmd)
	dst = append(dst, c.Data...)
	crc := CRC(dst[start:])
	return append(dst, byte(crc), byte(crc>>8)), nil
}

// Response is a reader-to-host frame: Len Adr reCmd Status Data… CRC-LSB CRC-MSB.
type Response struct {
	Addr   byte
	Cmd    byte
	Status byte
	Data   []byte
}

// Append appends the encoded frame to dst.
func (r Response) Append(dst []byte) ([]byte, error) {
	if len(r.Data) > MaxResponseData {
		return dst, fmt.Errorf("chafon response 0x%02X: %d data bytes: %w (max %d)", r.Cmd, len(r.Data), ErrTooLong, MaxResponseData)
	}
	start := len(dst)
	dst = append(dst, byte(minResponseLen+len(r.Data)), r.Addr, r.Cmd, r.Status)
	dst = append(dst, r.Data...)
	crc := CRC(dst[start:])
	return append(dst, byte(crc), byte(crc>>8)), nil
}

// checkFrame validates the frame at the start of b whose Len must be at
// least minLen, and returns its total size.
func checkFrame(b []byte, minLen int) (int, error) {
	if len(b) == 0 {
		return 0, &FrameError{0, ErrTruncated, "empty input; a frame starts with its length byte"}
	}
	l := int(b[0])
	if l < minLen {
		return 0, &FrameError{0, ErrLength, fmt.Sprintf("length 0x%02X is below the minimum %d; not the start of a frame", l, minLen)}
	}
	if len(b) < l+1 {
		return 0, &FrameError{len(b), ErrTruncated, fmt.Sprintf("length byte says %d bytes follow, have %d; read more input", l, len(b)-1)}
	}
	got := uint16(b[l-1]) | uint16(b[l])<<8
	if want := CRC(b[:l-1]); got != want {
		return 0, &FrameError{l - 1, ErrCRC, fmt.Sprintf("frame carries 0x%04X, computed 0x%04X; frame corrupted, skip it", got, want)}
	}
	return l + 1, nil
}

// ParseCommand decodes the command frame at the start of b and returns it
// with its size in bytes. Data aliases b.
func ParseCommand(b []byte) (Command, int, error) {
	n, err := checkFrame(b, minCommandLen)
	if err != nil {
		return Command{}, 0, err
	}
	return Command{Addr: b[1], Cmd: b[2], Data: b[3 : n-2]}, n, nil
}

// ParseResponse decodes the response frame at the start of b and returns it
// with its size in bytes. Data aliases b.
func ParseResponse(b []byte) (Response, int, error) {
	n, err := checkFrame(b, minResponseLen)
	if err != nil {
		return Response{}, 0, err
	}
	return Response{Addr: b[1], Cmd: b[2], Status: b[3], Data: b[4 : n-2]}, n, nil
}
