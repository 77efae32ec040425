package koha

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/tally-inventory/tally/agent/catalog"
)

// maxReport bounds a saved-report download: a 100,000-item collection
// with a dozen columns is about 20 MiB of JSON.
const maxReport = 256 << 20

// ParseReportJSON reads a saved SQL report run as JSON
// (/cgi-bin/koha/svc/report?id=N): an array of rows. The first row must
// name the columns (Koha's column names — barcode, itemcallnumber,
// homebranch, itemlost, onloan, datelastseen… — or tally's), unless the
// rows are objects (annotated=1), whose keys name them. Use ParseReport to
// give the column names when the report has no header row.
//
// When some rows cannot be used, the others are returned with an
// *ImportError listing them.
func ParseReportJSON(r io.Reader) ([]catalog.Item, error) {
	recs, bad, err := ParseReport(r, nil)
	if err != nil {
		return nil, err
	}
	items := make([]catalog.Item, len(recs))
	for i, rec := range recs {
		items[i] = rec.Item
	}
	if len(bad) > 0 {
		return items, &ImportError{Rows: bad}
	}
	return items, nil
}

// ParseReport is ParseReportJSON with the shape of catalog.Parse: the good
// records, every bad row (Line is the 1-based row of the JSON array), and
// an error only when the report as a whole cannot be read. columns, when
// not nil, names the columns of array rows; every row is then data.
func ParseReport(r io.Reader, columns []string) ([]catalog.Record, []catalog.RowError, error) {
	const file = "report"
	data, err := io.ReadAll(io.LimitReader(r, maxReport+1))
	if err != nil {
		return nil, nil, fmt.Errorf("koha report: %w", err)
	}
	if len(data) > maxReport {
		return nil, nil, fmt.Errorf("koha report: larger than %d MiB: filter the report's SQL or import from the REST API", maxReport>>20)
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	tok, err := d.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, errors.New("koha report: empty: run the report with svc/report?id=N and save what it returns")
		}
		return nil, nil, fmt.Errorf("koha report: byte %d: %v: want a JSON array of rows", d.InputOffset(), err)
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '[' {
		msg := "want a JSON array of rows"
		if m, ok := tok.(json.Delim); ok && m == '{' {
			msg += " (an object usually means Koha answered with an error: is the report public, and the id right?)"
		}
		return nil, nil, fmt.Errorf("koha report: byte 0: %s", msg)
	}
	header := columns
	var rows [][]string
	var rowNums []int // JSON row (1-based) of each data row
	var bad []catalog.RowError
	objects := false
	for n := 1; d.More(); n++ {
		off := d.InputOffset()
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("koha report: row %d (byte %d): %v", n, off, err)
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
					return nil, nil, errors.New("koha report: row 1: the header row is empty; give the column names")
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
		return nil, nil, fmt.Errorf("koha report: byte %d: the array is not closed: %v (was the download cut short?)", d.InputOffset(), err)
	}
	if d.More() {
		return nil, nil, fmt.Errorf("koha report: byte %d: data after the array", d.InputOffset())
	}
	if header == nil {
		return nil, nil, errors.New("koha report: no rows: the report returned nothing")
	}
	for _, h := range header {
		if strings.ContainsAny(h, "\x00\r\n") {
			return nil, nil, fmt.Errorf("koha report: column name %q is not a name", h)
		}
	}
	recs, rbad, err := rowsToRecords(file, header, rows, func(i int) (int, string) {
		if i < 0 || i >= len(rowNums) {
			return i + 1, ""
		}
		return rowNums[i], ""
	})
	if err != nil {
		return nil, nil, fmt.Errorf("koha report: %w", err)
	}
	bad = append(bad, rbad...)
	sort.SliceStable(bad, func(i, j int) bool { return bad[i].Line < bad[j].Line })
	return recs, bad, nil
}

func rowErr(n int, off int64, msg string) catalog.RowError {
	return catalog.RowError{File: "report", Line: n, Offset: off, Msg: "row " + msg}
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
