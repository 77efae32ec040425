// Package sip2 speaks 3M SIP2 (Standard Interchange Protocol 2.00) to an
// ILS's automated circulation system (ACS) as a self-check unit (SC) would:
// login (93), SC status (99), item information (17) and checkin (09).
//
// tally uses it as an upstream sink — stamping "last seen" through Koha's
// seen_on_item_information option, or checking an item in where the
// inventory policy allows — and for live item-status lookups when a barcode
// is not in the local index.
//
// The package has three layers: Frame (framing, checksums, sequence
// numbers), typed messages that encode to and decode from a Frame, and
// Client, which adds login, resend-once, reconnect and the rule that a
// checkin is never sent twice. The sip2test sub-package is a loopback ACS
// that behaves like Koha's SIP server, with switchable failure modes.
package sip2

import (
	"fmt"
	"strconv"
	"time"
)

// MaxMessageLen bounds one message on the wire, terminator excluded. SIP2
// messages are short (Koha's longest replies are a few hundred bytes); the
// cap keeps a broken or hostile peer from growing buffers without limit.
const MaxMessageLen = 64 << 10

// DateLayout is the SIP2 18-character date: YYYYMMDDZZZZHHMMSS, where ZZZZ is
// a time zone that is four spaces for local time (what Koha sends).
const DateLayout = "20060102    150405"

// Field is one variable-length field: a two-letter code and its value.
type Field struct {
	Code  string
	Value string
}

// Frame is one SIP2 message split into its parts. Typed messages (Login,
// ItemInfo, …) convert to and from a Frame; Frame alone is enough to read a
// message of any supported code.
type Frame struct {
	Code   string  // two digits, e.g. "17"
	Fixed  string  // the fixed-length fields, concatenated, exactly FixedLen(Code) bytes
	Fields []Field // the variable fields in wire order; a code may repeat (AF, AG)
	// Seq is the AY sequence number 0–9, or -1 when the message has none.
	Seq int
	// Checksummed reports that the message carried an AZ checksum (and that
	// it verified). Encode writes AY/AZ when error detection is asked for.
	Checksummed bool
}

// Get returns the value of the first field with this code.
func (f *Frame) Get(code string) (string, bool) {
	for _, fl := range f.Fields {
		if fl.Code == code {
			return fl.Value, true
		}
	}
	return "", false
}

// All returns the values of every field with this code, in wire order.
func (f *Frame) All(code string) []string {
	var out []string
	for _, fl := range f.Fields {
		if fl.Code == code {
			out = append(out, fl.Value)
		}
	}
	return out
}

// fixedLen is the length of the fixed part of each message this package
// understands, after the two-digit code (SIP2 2.00 §"Messages").
var fixedLen = map[string]int{
	"93": 2,  // UID algorithm, PWD algorithm
	"94": 1,  // ok
	"99": 8,  // status, max print width (3), protocol version (4)
	"98": 34, // 6 flags, timeout (3), retries (3), date (18), protocol (4)
	"17": 18, // transaction date
	"18": 24, // circulation status (2), security marker (2), fee type (2), date (18)
	"09": 37, // no block, transaction date (18), return date (18)
	"10": 22, // ok, resensitize, magnetic media, alert, date (18)
	"96": 0,  // request SC resend
	"97": 0,  // request ACS resend
}

// FixedLen returns the length of the fixed fields of a message code, and
// whether the code is one this package understands.
func FixedLen(code string) (int, bool) {
	n, ok := fixedLen[code]
	return n, ok
}

// Checksum returns the SIP2 checksum of b: the two's complement of the
// 16-bit sum of its bytes, as four upper-case hex digits. b must run up to
// and including the "AZ" of the checksum field.
func Checksum(b []byte) string {
	return string(appendChecksum(make([]byte, 0, 4), b))
}

func appendChecksum(dst, b []byte) []byte {
	var sum uint16
	for _, c := range b {
		sum += uint16(c)
	}
	ck := -sum
	const hex = "0123456789ABCDEF"
	return append(dst, hex[ck>>12], hex[ck>>8&0xF], hex[ck>>4&0xF], hex[ck&0xF])
}

// ChecksumError is a message whose AZ checksum does not match its bytes.
type ChecksumError struct {
	Offset   int    // byte offset of the checksum digits
	Got      string // what AZ said
	Computed string // what the bytes sum to
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("sip2: byte %d: bad checksum: AZ is %s, computed %s (the message was damaged in transit)", e.Offset, e.Got, e.Computed)
}

// ParseError says what is wrong with a message and at which byte.
type ParseError struct {
	Offset int    // byte offset in the message, terminator excluded
	Code   string // message code when known
	Msg    string
}

func (e *ParseError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("sip2: message %s: byte %d: %s", e.Code, e.Offset, e.Msg)
	}
	return fmt.Sprintf("sip2: byte %d: %s", e.Offset, e.Msg)
}

func perr(off int, code, format string, args ...any) *ParseError {
	return &ParseError{Offset: off, Code: code, Msg: fmt.Sprintf(format, args...)}
}

// ParseFrame splits one message (without its terminator) into a Frame. It
// verifies the AZ checksum when one is present, finds the AY sequence
// number, and checks that the fixed fields are complete and that every
// variable field starts with a two-letter code. It never panics and
// allocates in proportion to len(b).
func ParseFrame(b []byte) (*Frame, error) {
	if len(b) > MaxMessageLen {
		return nil, perr(MaxMessageLen, "", "message is %d bytes, longer than the %d-byte limit; is the terminator setting right?", len(b), MaxMessageLen)
	}
	if len(b) < 2 {
		return nil, perr(len(b), "", "message is %d bytes; it needs at least a 2-digit code", len(b))
	}
	if !isDigit(b[0]) || !isDigit(b[1]) {
		return nil, perr(0, "", "message code %q is not two digits", printable(b[:2]))
	}
	code := string(b[:2])
	f := &Frame{Code: code, Seq: -1}
	end := len(b)

	// Error-detection trailer: [AY<digit>]AZ<4 hex>. Koha sends 96/97 as
	// "96AZFEF6" with no AY, so AZ is looked for on its own first.
	if end >= 8 && b[end-6] == 'A' && b[end-5] == 'Z' && isHex4(b[end-4:end]) {
		var ck [4]byte
		computed := appendChecksum(ck[:0], b[:end-4])
		if !equalFoldHex(b[end-4:end], computed) {
			return nil, &ChecksumError{Offset: end - 4, Got: string(b[end-4 : end]), Computed: string(computed)}
		}
		f.Checksummed = true
		end -= 6
	}
	if end >= 5 && b[end-3] == 'A' && b[end-2] == 'Y' && isDigit(b[end-1]) {
		f.Seq = int(b[end-1] - '0')
		end -= 3
	}

	fl, ok := fixedLen[code]
	if !ok {
		return nil, perr(0, code, "unsupported message code %s", code)
	}
	if end-2 < fl {
		return nil, perr(end, code, "fixed fields too short: %s needs %d bytes after the code, got %d", code, fl, end-2)
	}
	f.Fixed = string(b[2 : 2+fl])

	// Variable fields: XXvalue|XXvalue|… The final '|' is optional.
	for i := 2 + fl; i < end; {
		j := i
		for j < end && b[j] != '|' {
			j++
		}
		switch {
		case j == i: // "||": an empty field; tolerated
		case j-i < 2:
			return nil, perr(i, code, "field %q is too short for a 2-letter field code", printable(b[i:j]))
		case !isUpper(b[i]) || !isUpper(b[i+1]):
			return nil, perr(i, code, "field code %q is not two upper-case letters", printable(b[i:i+2]))
		default:
			f.Fields = append(f.Fields, Field{Code: string(b[i : i+2]), Value: string(b[i+2 : j])})
		}
		i = j + 1
	}
	return f, nil
}

// AppendEncode appends the wire form of f (without terminator) to dst. With
// errorDetection it adds AY<seq> (when f.Seq is 0–9) and AZ<checksum>. A
// value that contains '|', CR or LF would break the framing and is refused.
func AppendEncode(dst []byte, f *Frame, errorDetection bool) ([]byte, error) {
	if len(f.Code) != 2 || !isDigit(f.Code[0]) || !isDigit(f.Code[1]) {
		return dst, fmt.Errorf("sip2: encode: message code %q is not two digits", f.Code)
	}
	if n, ok := fixedLen[f.Code]; ok && len(f.Fixed) != n {
		return dst, fmt.Errorf("sip2: encode %s: fixed fields are %d bytes, want %d", f.Code, len(f.Fixed), n)
	}
	if err := checkValue(f.Code, "fixed fields", f.Fixed); err != nil {
		return dst, err
	}
	start := len(dst)
	dst = append(dst, f.Code...)
	dst = append(dst, f.Fixed...)
	for _, fl := range f.Fields {
		if len(fl.Code) != 2 || !isUpper(fl.Code[0]) || !isUpper(fl.Code[1]) {
			return dst[:start], fmt.Errorf("sip2: encode %s: field code %q is not two upper-case letters", f.Code, fl.Code)
		}
		if err := checkValue(f.Code, fl.Code, fl.Value); err != nil {
			return dst[:start], err
		}
		dst = append(dst, fl.Code...)
		dst = append(dst, fl.Value...)
		dst = append(dst, '|')
	}
	if errorDetection {
		if f.Seq >= 0 {
			if f.Seq > 9 {
				return dst[:start], fmt.Errorf("sip2: encode %s: sequence number %d is not 0-9", f.Code, f.Seq)
			}
			dst = append(dst, 'A', 'Y', byte('0'+f.Seq))
		}
		dst = append(dst, 'A', 'Z')
		dst = appendChecksum(dst, dst[start:])
	}
	if len(dst)-start > MaxMessageLen {
		return dst[:start], fmt.Errorf("sip2: encode %s: message is %d bytes, over the %d-byte limit", f.Code, len(dst)-start, MaxMessageLen)
	}
	return dst, nil
}

// Encode returns the wire form of f without terminator; see AppendEncode.
func Encode(f *Frame, errorDetection bool) ([]byte, error) {
	return AppendEncode(nil, f, errorDetection)
}

func checkValue(code, what, v string) error {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '|', '\r', '\n':
			return fmt.Errorf("sip2: encode %s: %s value %q has %q at index %d, which would break the message framing", code, what, v, v[i], i)
		}
	}
	return nil
}

// FormatDate writes t as an 18-character SIP2 date in loc's wall clock with a
// blank zone, as Koha does. The zero time is 18 spaces ("not given").
func FormatDate(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "                  "
	}
	if loc != nil {
		t = t.In(loc)
	}
	return t.Format(DateLayout)
}

// ParseDate reads an 18-character SIP2 date. A zone of "   Z" (or "UTC ")
// means UTC; a blank or unknown zone means loc. It reports false for a blank
// or malformed date: dates in replies are informational, so a bad one never
// fails a whole message.
func ParseDate(s string, loc *time.Location) (time.Time, bool) {
	if len(s) != 18 {
		return time.Time{}, false
	}
	if loc == nil {
		loc = time.Local
	}
	zone := s[8:12]
	if zone == "   Z" || zone == "UTC " || zone == " UTC" {
		loc = time.UTC
	}
	t, err := time.ParseInLocation("20060102", s[:8], loc)
	if err != nil {
		return time.Time{}, false
	}
	if !allDigits(s[12:18]) {
		return time.Time{}, false
	}
	hh, _ := strconv.Atoi(s[12:14])
	mm, _ := strconv.Atoi(s[14:16])
	ss, _ := strconv.Atoi(s[16:18])
	if hh > 23 || mm > 59 || ss > 59 {
		return time.Time{}, false
	}
	return time.Date(t.Year(), t.Month(), t.Day(), hh, mm, ss, 0, loc), true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

func isHex4(b []byte) bool {
	if len(b) != 4 {
		return false
	}
	for _, c := range b {
		if !isDigit(c) && !(c >= 'A' && c <= 'F') && !(c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func equalFoldHex(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'a' && x <= 'f' {
			x -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// printable quotes at most 16 bytes of b for an error message.
func printable(b []byte) string {
	if len(b) > 16 {
		b = b[:16]
	}
	return string(b)
}
