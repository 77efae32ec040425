package callnumber

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxLine bounds one input line of SortLines; a longer line is not a call
// number, and usually means the input is not a list of them.
const maxLine = 64 << 10

// SortLines reads call numbers, one per line, and writes them to w in shelf
// order, one per line. Input is UTF-8 with or without a byte-order mark; CRLF
// and LF line ends are both accepted; blank lines are skipped and surrounding
// white space is trimmed. It is the body of `tally callnumber sort`.
func SortLines(r io.Reader, w io.Writer) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	var off int64 // byte offset of the line being split, for errors
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		adv, tok, err := bufio.ScanLines(data, atEOF)
		off += int64(adv)
		return adv, tok, err
	})
	var lines []string
	n := 0
	for sc.Scan() {
		n++
		b := sc.Bytes()
		if n == 1 {
			b = bytes.TrimPrefix(b, []byte("\uFEFF"))
		}
		if s := strings.TrimSpace(string(b)); s != "" {
			lines = append(lines, s)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("callnumber: line %d (byte offset %d) is longer than %d bytes: expected one call number per line; is this the right file?", n+1, off, maxLine)
		}
		return fmt.Errorf("callnumber: reading line %d: %w", n+1, err)
	}
	Sort(lines)
	bw := bufio.NewWriter(w)
	for _, s := range lines {
		bw.WriteString(s)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("callnumber: writing sorted call numbers: %w", err)
	}
	return nil
}
