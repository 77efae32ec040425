package koha

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxReport bounds a saved-report download: a 100,000-item collection
// with a dozen columns is about 20 MiB of JSON.
const maxReport = 256 << 20

// ParseReport reads a saved SQL report run as JSON
// (/cgi-bin/koha/svc/report?id=N): an array of rows, as a Table whose
// Lines are the rows' 1-based places in the array. The first row must
// name the columns (Koha's column names — barcode, itemcallnumber,
// homebranch, itemlost, onloan, datelastseen… — or tally's), unless the
// rows are objects (annotated=1), whose keys name them; columns, when not
// nil, names the columns of array rows, and every row is then data.
//
// Rows that are not rows (a nested value, a wrong length, an object among
// arrays) are left out and returned as *RowErrors beside the table of the
// others; any other error means the report as a whole cannot be read.
func ParseReport(r io.Reader, columns []string) (*Table, error) {
	const file = "report"
	data, err := io.ReadAll(io.LimitReader(r, maxReport+1))
	if err != nil {
		return nil, fmt.Errorf("koha report: %w", err)
	}
	if len(data) > maxReport {
		return nil, fmt.Errorf("koha report: larger than %d MiB: filter the report's SQL or import from the REST API", maxReport>>20)
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	tok, err := d.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("koha report: empty: run the report with svc/report?id=N and save what it returns")
		}
		return nil, fmt.Errorf("koha report: byte %d: %v: want a JSON array of rows", d.InputOffset(), err)
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '[' {
		msg := "want a JSON array of rows"
		if m, ok := tok.(json.Delim); ok && m == '{' {
			msg += " (an object usually means Koha answered with an error: is the report public, and the id right?)"
		}
		return nil, fmt.Errorf("koha report: byte 0: %s", msg)
	}
	header := columns
	var rows [][]string
	var rowNums []int // JSON row (1-based) of each data row
	var bad RowErrors
	objects := false
	for n := 1; d.More(); n++ {
		off := d.InputOffset()
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			return nil, fmt.Errorf("koha report: row %d (byte %d): %v", n, off, err)
		}
		raw = bytes.TrimSpace(raw)
		switch {
		case len(raw) > 0 && raw[0] == '{':
			if n == 1 {
				objects, header = true, nil // the keys name the columns
			}
			if !objects {
				bad = append(bad, rowErr(n, off, "is an object, but the report's rows are arrays"))
				continue
			}
			m, keys, err := objectRow(raw)
			if err != nil {
				bad = append(bad, rowErr(n, off, err.Error()))
				continue
			}
			if header == nil {
				header = keys
			}
			row := make([]string, len(header))
			for i, h := range header {
				row[i] = m[h]
			}
			for _, k := range keys {
				if _, ok := indexOf(header, k); !ok {
					bad = append(bad, rowErr(n, off, fmt.Sprintf("has column %q the first row does not", k)))
					row = nil
					break
				}
			}
			if row != nil {
				rows, rowNums = append(rows, row), append(rowNums, n)
			}
		case len(raw) > 0 && raw[0] == '[':
			if objects {
				bad = append(bad, rowErr(n, off, "is an array, but the report's rows are objects"))
				continue
			}
			vals, err := arrayRow(raw)
			if err != nil {
				bad = append(bad, rowErr(n, off, err.Error()))
				continue
			}
			if header == nil {
				if len(vals) == 0 {
					return nil, errors.New("koha report: row 1: the header row is empty; give the column names")
				}
				header = vals
				continue
			}
			if len(vals) != len(header) {
				bad = append(bad, rowErr(n, off, fmt.Sprintf("has %d values, the header has %d", len(vals), len(header))))
				continue
			}
			rows, rowNums = append(rows, vals), append(rowNums, n)
		default:
			bad = append(bad, rowErr(n, off, "is not an array or object"))
		}
	}
	if _, err := d.Token(); err != nil {
		return nil, fmt.Errorf("koha report: byte %d: the array is not closed: %v (was the download cut short?)", d.InputOffset(), err)
	}
	if d.More() {
		return nil, fmt.Errorf("koha report: byte %d: data after the array", d.InputOffset())
	}
	if header == nil {
		return nil, errors.New("koha report: no rows: the report returned nothing")
	}
	for _, h := range header {
		if strings.ContainsAny(h, "\x00\r\n") {
			return nil, fmt.Errorf("koha report: column name %q is not a name", h)
		}
	}
	t := &Table{Name: file, Columns: header, Rows: rows, Lines: rowNums}
	if len(bad) > 0 {
		return t, bad
	}
	return t, nil
}

// RowError is a report row that is not a row: where it is and what is wrong.
type RowError struct {
	Line   int   // 1-based row of the JSON array
	Offset int64 // byte offset of the row
	Msg    string
}

func (e RowError) Error() string {
	return fmt.Sprintf("report:%d (byte %d): %s", e.Line, e.Offset, e.Msg)
}

// RowErrors lists the rows ParseReport left out; the table holds the rest.
type RowErrors []RowError

func (e RowErrors) Error() string {
	if len(e) == 1 {
		return "a report row was not read: " + e[0].Error()
	}
	return fmt.Sprintf("%d report rows were not read, the first: %v", len(e), e[0])
}

func rowErr(n int, off int64, msg string) RowError {
	return RowError{Line: n, Offset: off, Msg: "row " + msg}
}

func indexOf(xs []string, x string) (int, bool) {
	for i, v := range xs {
		if v == x {
			return i, true
		}
	}
	return 0, false
}

// cell turns one JSON value into text: strings as they are, numbers as
// written, null and false as "", true as "1". Arrays and objects are errors.
func cell(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case bool:
		if v {
			return "1", nil
		}
		return "", nil
	}
	return "", errors.New("holds a nested array or object where a value belongs")
}

func arrayRow(raw []byte) ([]string, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var vs []any
	if err := d.Decode(&vs); err != nil {
		return nil, err
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		s, err := cell(v)
		if err != nil {
			return nil, fmt.Errorf("value %d %v", i+1, err)
		}
		out[i] = s
	}
	return out, nil
}

// objectRow decodes an annotated row, keeping the key order.
func objectRow(raw []byte) (map[string]string, []string, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if _, err := d.Token(); err != nil {
		return nil, nil, err
	}
	m := map[string]string{}
	var keys []string
	for d.More() {
		kt, err := d.Token()
		if err != nil {
			return nil, nil, err
		}
		k, _ := kt.(string)
		var v any
		if err := d.Decode(&v); err != nil {
			return nil, nil, err
		}
		s, err := cell(v)
		if err != nil {
			return nil, nil, fmt.Errorf("column %q %v", k, err)
		}
		if _, dup := m[k]; dup {
			return nil, nil, fmt.Errorf("names column %q twice", k)
		}
		m[k] = s
		keys = append(keys, k)
	}
	return m, keys, nil
}
