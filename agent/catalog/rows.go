package catalog

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxRowErrors is where a list stops being read: past it, the file is
// more likely the wrong one than one with a few bad lines.
const maxRowErrors = 20

// EachRow reads the records of cr after its header, as a holds or pull list
// is read: fn gets each record that is not a blank line, with its line,
// and returns what is wrong with it (nil when nothing). A quoting error is
// reported as FILE:LINE and reading goes on; after maxRowErrors errors it
// stops. bad lists the rows' errors; err is a read that failed outright.
func EachRow(file string, cr *csv.Reader, fn func(rec []string, line int) error) (bad []error, err error) {
	for len(bad) < maxRowErrors {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad = append(bad, fmt.Errorf("%s:%d: %v: fix the quoting of this line", file, pe.Line, pe.Err))
				continue
			}
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if err := fn(rec, line); err != nil {
			bad = append(bad, err)
		}
	}
	return bad, nil
}
