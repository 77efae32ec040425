package catalog

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ParseTable imports rows another source gives in the vocabulary of the
// catalog CSV (tally's or Koha's column names: sync/koha's items and saved
// reports), through the CSV importer, so that data gets the same aliases,
// checks and status precedence however it arrives. lines[i] is the line to
// report for rows[i] (its item number, its row in a JSON array; i+1 when
// lines is short) and notes[i], when set, prefixes its messages
// ("item_id 12"). file names the source in messages.
func ParseTable(file string, columns []string, rows [][]string, lines []int, notes []string) ([]Record, []RowError, error) {
	label := func(i int) (int, string) {
		line, note := i+1, ""
		if i >= 0 && i < len(lines) {
			line = lines[i]
		}
		if i >= 0 && i < len(notes) {
			note = notes[i]
		}
		return line, note
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(columns); err != nil {
		return nil, nil, err
	}
	nl := strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")
	row := make([]string, 0, len(columns))
	for _, r := range rows {
		row = row[:0]
		for _, v := range r {
			// One record per line keeps CSV line n+2 at row n.
			row = append(row, nl.Replace(v))
		}
		if err := w.Write(row); err != nil {
			return nil, nil, err
		}
	}
	w.Flush()
	recs, bad, err := Parse(&buf, file, FormatCSV)
	if err != nil {
		return nil, nil, err
	}
	for i := range recs {
		recs[i].Line, _ = label(recs[i].Line - 2)
	}
	for i := range bad {
		line, note := label(bad[i].Line - 2)
		bad[i].Line = line
		// The importer names the first copy of a duplicate by its CSV line.
		bad[i].Msg = dupLine.ReplaceAllStringFunc(bad[i].Msg, func(m string) string {
			n, _ := strconv.Atoi(strings.TrimPrefix(m, "already on line "))
			l, _ := label(n - 2)
			return "already on line " + strconv.Itoa(l)
		})
		if note != "" {
			bad[i].Msg = note + ": " + bad[i].Msg
		}
	}
	return recs, bad, nil
}

var dupLine = regexp.MustCompile(`already on line [0-9]+`)

// RowErrors is the error of an import that could not use some records;
// every other record was read.
type RowErrors []RowError

func (e RowErrors) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d record(s) not imported", len(e))
	for i, r := range e {
		if i == 5 {
			fmt.Fprintf(&b, "; and %d more", len(e)-5)
			break
		}
		b.WriteString("; ")
		b.WriteString(r.Error())
	}
	return b.String()
}
