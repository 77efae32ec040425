package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxLine is the longest line `tally scan` takes as a code. No barcode or
// tag comes near it; a longer line is something else pasted by mistake.
const maxLine = 1 << 20

// lineReader splits input into lines as scanners send them: CR, LF and
// CRLF each end a line (many scanners' default suffix is a lone CR, which
// bufio.ScanLines would merge with the next code). A line longer than max
// is not returned whole: it is skipped to its end and reported by length,
// and reading goes on with the next line.
type lineReader struct {
	r      *bufio.Reader
	max    int
	n      int  // lines read, for messages
	skipLF bool // the last line ended with CR: a following LF is its CRLF
	buf    []byte
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// Next returns the next line without its terminator, and its number. When
// the line is longer than max, line holds its first max bytes and long is
// its full length. err is io.EOF after the last line (a last line without a
// terminator is returned first).
func (l *lineReader) Next() (line []byte, n, long int, err error) {
	l.buf = l.buf[:0]
	size := 0
	for {
		c, err := l.r.ReadByte()
		if err != nil {
			if size == 0 {
				return nil, l.n, 0, err
			}
			if err == io.EOF {
				err = nil // the last line had no terminator; EOF comes next
			}
			return l.done(size, err)
		}
		if l.skipLF {
			l.skipLF = false
			if c == '\n' {
				continue
			}
		}
		switch c {
		case '\r':
			l.skipLF = true
			return l.done(size, nil)
		case '\n':
			return l.done(size, nil)
		}
		if size < l.max {
			l.buf = append(l.buf, c)
		}
		size++
	}
}

func (l *lineReader) done(size int, err error) ([]byte, int, int, error) {
	l.n++
	long := 0
	if size > l.max {
		long = size
	}
	return l.buf, l.n, long, err
}

// clip shortens s to about n bytes for a message, saying how long it was.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("… (%d bytes in all)", len(s))
}

// printable is s as it may go to a terminal: unchanged when every rune is
// printable, else Go-quoted, so an escape sequence, a bidi override or a
// NUL in a code is shown, not obeyed. Long text is clipped.
func printable(s string) string {
	s = clip(s, 200)
	for _, r := range s {
		if r == utf8.RuneError || (!unicode.IsPrint(r) && r != ' ') {
			return strconv.Quote(s)
		}
	}
	return s
}

// clipLines clips each line of a message (an error quoting a 2 MB field
// prints a line, not 2 MB) and keeps control characters out of it.
func clipLines(msg string) string {
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		l = clip(l, 2000)
		if strings.IndexFunc(l, func(r rune) bool { return r != '\t' && unicode.IsControl(r) }) >= 0 {
			l = strings.Trim(strconv.Quote(l), `"`)
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}
