// Package transcript records and replays the bytes between a driver and its
// device, so a capture from a real reader becomes a driver test.
//
// A transcript is a small text file a person can read and edit:
//
//	tally-transcript 1
//	profile feig-id-isc-mr101
//	device serial /dev/ttyUSB0 38400 8E1
//	source tally capture dev, 2026-12-05T12:40:00Z
//
//	> +0.000 05 FF 65 E5 CB          # host to device
//	< +0.011 0F 00 65 00 03 03 ...   # device to host: one read, or one HID input report
//	F +0.000 FE 01                   # HID feature report, host to device
//	! +2.400 input/output error      # the device failed
//
// The header (profile, device, source, recorded, note; source and note may
// repeat) comes before the first event. Times are seconds since the start
// and may be left out (hand-written transcripts from a manual): an event
// without one takes the time of the one before. '#' starts a comment,
// except on '!' lines, whose text runs to the end of the line.
//
// Record wraps a real port or HID device and writes its transcript as the
// driver talks to it; Playback is a fake port or HID device that serves a
// transcript to a driver, checks every write against it, and reports
// through Close and Err what was left unplayed. The shape follows
// periph.io's conntest Record and Playback.
package transcript

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Magic is the first line of every transcript; the number is the format
// version.
const Magic = "tally-transcript 1"

// Dir says which way an event went.
type Dir byte

const (
	Write   Dir = '>' // host to device: bytes the driver wrote
	Read    Dir = '<' // device to host: one read's bytes, or one HID input report
	Feature Dir = 'F' // host to device: a HID feature report
	Fail    Dir = '!' // the device failed; Err is what the host was told
)

func (d Dir) String() string {
	switch d {
	case Write:
		return "write"
	case Read:
		return "read"
	case Feature:
		return "feature report"
	case Fail:
		return "device error"
	}
	return fmt.Sprintf("Dir(%q)", byte(d))
}

// Event is one exchange on the wire.
type Event struct {
	Dir  Dir
	At   time.Duration // since the start of the transcript
	Data []byte        // for Write, Read and Feature
	Err  string        // for Fail
	Line int           // where it was parsed; 0 when built in code
}

// Header says what a transcript is of and where it came from.
type Header struct {
	Profile  string   // the tally profile the device was driven with
	Device   string   // e.g. "serial /dev/ttyUSB0 38400 8E1", "hid 1-1.2:1.0 0c2e:0b61"
	Source   []string // provenance: who captured it, or the manual and page it is copied from
	Recorded string   // when, RFC 3339
	Notes    []string
}

// Transcript is a parsed transcript file.
type Transcript struct {
	Name string // the file name, for messages
	Header
	Events []Event
}

// Error is a problem at a place in a transcript file.
type Error struct {
	File string
	Line int // 1-based; 0 when the event was built in code
	Col  int // 1-based byte offset in the line; 0 when the whole line is meant
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, ":%d", e.Col)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// MaxLine bounds one line of a transcript (a 16 KiB read in hex).
const MaxLine = 64 << 10

// Load parses the transcript file at path.
func Load(path string) (*Transcript, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse parses a transcript; name labels errors ("name:line:col: …").
func Parse(name string, data []byte) (*Transcript, error) {
	t := &Transcript{Name: name}
	errf := func(line, col int, format string, args ...any) error {
		return &Error{File: name, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
	}
	sawMagic := false
	var at time.Duration
	for n := 1; len(data) > 0; n++ {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) > MaxLine {
			return nil, errf(n, 0, "line is %d bytes long, over the limit of %d; split the read over several lines", len(line), MaxLine)
		}
		s := string(line)
		trimmed := strings.TrimSpace(s)
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		if !sawMagic {
			if trimmed != Magic {
				return nil, errf(n, 0, "want %q as the first line, found %q; is this a tally capture?", Magic, shorten(trimmed))
			}
			sawMagic = true
			continue
		}
		indent := len(s) - len(strings.TrimLeft(s, " \t"))
		switch Dir(trimmed[0]) {
		case Write, Read, Feature, Fail:
			ev, err := parseEvent(name, n, indent, trimmed, at)
			if err != nil {
				return nil, err
			}
			at = ev.At
			t.Events = append(t.Events, ev)
			continue
		}
		if len(t.Events) > 0 {
			return nil, errf(n, indent+1, "%q is not an event; events start with '>', '<', 'F' or '!' (header fields go before the first event)", shorten(trimmed))
		}
		key, val, _ := strings.Cut(trimmed, " ")
		val = strings.TrimSpace(val)
		if val == "" {
			return nil, errf(n, indent+1, "header field %q has no value", key)
		}
		switch key {
		case "profile":
			t.Profile = val
		case "device":
			t.Device = val
		case "source":
			t.Source = append(t.Source, val)
		case "recorded":
			t.Recorded = val
		case "note":
			t.Notes = append(t.Notes, val)
		default:
			return nil, errf(n, indent+1, "unknown header field %q; want profile, device, source, recorded or note", shorten(key))
		}
	}
	if !sawMagic {
		return nil, errf(0, 0, "empty: want %q as the first line", Magic)
	}
	return t, nil
}

func parseEvent(name string, n, indent int, s string, prev time.Duration) (Event, error) {
	errf := func(col int, format string, args ...any) error {
		return &Error{File: name, Line: n, Col: col, Msg: fmt.Sprintf(format, args...)}
	}
	ev := Event{Dir: Dir(s[0]), At: prev, Line: n}
	pos := 1 // offset in s
	if len(s) > 1 && s[1] != ' ' && s[1] != '\t' {
		return ev, errf(indent+2, "put a space after %q", s[:1])
	}
	rest := func() string { return s[pos:] }
	skip := func() {
		for pos < len(s) && (s[pos] == ' ' || s[pos] == '\t') {
			pos++
		}
	}
	skip()
	if strings.HasPrefix(rest(), "+") {
		end := strings.IndexAny(rest(), " \t")
		if end < 0 {
			end = len(rest())
		}
		tok := rest()[:end]
		d, err := parseSeconds(tok[1:])
		if err != nil {
			return ev, errf(indent+pos+1, "time %q: %v; write seconds since the start, e.g. +1.250", tok, err)
		}
		if d < prev {
			return ev, errf(indent+pos+1, "time %s is before the previous event's %s; events are in the order they happened", tok, fmtSeconds(prev))
		}
		ev.At = d
		pos += end
		skip()
	}
	if ev.Dir == Fail {
		ev.Err = strings.TrimSpace(rest())
		if ev.Err == "" {
			return ev, errf(0, "'!' needs the error the host saw, e.g. \"! +2.400 input/output error\"")
		}
		return ev, nil
	}
	for pos < len(s) {
		c := s[pos]
		switch {
		case c == ' ' || c == '\t':
			pos++
			continue
		case c == '#':
			pos = len(s)
			continue
		}
		h, ok1 := unhex(c)
		if pos+1 >= len(s) {
			if ok1 {
				return ev, errf(indent+pos+1, "odd number of hex digits: %q has no second digit; write each byte as two digits", s[pos:])
			}
			return ev, errf(indent+pos+1, "%q is not a hex digit", c)
		}
		l, ok2 := unhex(s[pos+1])
		if !ok1 || !ok2 {
			bad := pos
			if ok1 {
				bad++
			}
			if s[bad] == ' ' || s[bad] == '\t' {
				return ev, errf(indent+pos+1, "odd number of hex digits: %q has no second digit; write each byte as two digits", s[pos:bad])
			}
			return ev, errf(indent+bad+1, "%q is not a hex digit", s[bad])
		}
		ev.Data = append(ev.Data, h<<4|l)
		pos += 2
	}
	if len(ev.Data) == 0 {
		return ev, errf(0, "%s event with no bytes; give them as hex, e.g. \"%c +0.000 02 00 07\"", ev.Dir, ev.Dir)
	}
	return ev, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// parseSeconds reads a non-negative decimal number of seconds with up to
// nine decimals.
func parseSeconds(s string) (time.Duration, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 9 || len(whole) > 9 {
		return 0, errors.New("not a number of seconds")
	}
	w, err := strconv.ParseUint(whole, 10, 32)
	if err != nil {
		return 0, errors.New("not a number of seconds")
	}
	var f uint64
	if frac != "" {
		f, err = strconv.ParseUint(frac+strings.Repeat("0", 9-len(frac)), 10, 32)
		if err != nil {
			return 0, errors.New("not a number of seconds")
		}
	}
	return time.Duration(w)*time.Second + time.Duration(f), nil
}

func fmtSeconds(d time.Duration) string {
	return fmt.Sprintf("+%d.%03d", d/time.Second, d%time.Second/time.Millisecond)
}

func shorten(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// WriteHeader writes the magic line and h.
func WriteHeader(w io.Writer, h Header) error {
	var b strings.Builder
	b.WriteString(Magic + "\n")
	field := func(k, v string) {
		if v = oneLine(v); v != "" {
			fmt.Fprintf(&b, "%s %s\n", k, v)
		}
	}
	field("profile", h.Profile)
	field("device", h.Device)
	for _, s := range h.Source {
		field("source", s)
	}
	field("recorded", h.Recorded)
	for _, s := range h.Notes {
		field("note", s)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// AppendEvent appends ev as one transcript line, times in milliseconds.
func AppendEvent(b []byte, ev Event) []byte {
	b = append(b, byte(ev.Dir), ' ')
	b = append(b, fmtSeconds(ev.At)...)
	if ev.Dir == Fail {
		msg := oneLine(ev.Err)
		if msg == "" {
			msg = "error"
		}
		b = append(b, ' ')
		b = append(b, msg...)
		return append(b, '\n')
	}
	const digits = "0123456789ABCDEF"
	for _, c := range ev.Data {
		b = append(b, ' ', digits[c>>4], digits[c&0x0F])
	}
	return append(b, '\n')
}

// oneLine makes s fit on one transcript line.
func oneLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s))
}

// WriteTo writes t in the transcript format.
func (t *Transcript) WriteTo(w io.Writer) (int64, error) {
	var b bytes.Buffer
	if err := WriteHeader(&b, t.Header); err != nil {
		return 0, err
	}
	var line []byte
	for _, ev := range t.Events {
		line = AppendEvent(line[:0], ev)
		b.Write(line)
	}
	return b.WriteTo(w)
}

// Reads returns the bytes of every Read event, in order: what the device
// sent, for a driver test that feeds a decoder directly.
func (t *Transcript) Reads() [][]byte {
	var out [][]byte
	for _, ev := range t.Events {
		if ev.Dir == Read {
			out = append(out, ev.Data)
		}
	}
	return out
}
