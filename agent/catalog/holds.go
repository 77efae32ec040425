package catalog

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// Hold is a hold waiting to be pulled from the shelf: which item, where the
// patron picks it up and since when. It never names the patron: what a
// student assistant reads on the scanner's screen says where and since
// when, not who.
type Hold struct {
	Barcode string `json:"barcode"`
	Pickup  string `json:"pickup,omitempty"` // pickup library code
	Placed  string `json:"placed,omitempty"` // YYYY-MM-DD
	Source  string `json:"source"`           // the file, or "koha"
	Line    int    `json:"line,omitempty"`   // its line in the file
}

// Reason is what the operator is told after "pull: ".
func (h Hold) Reason() string { return HoldReason(h.Pickup, h.Placed) }

// HoldReason words a hold for the operator: "hold for pickup at MPL,
// placed 2026-11-30", shorter when either is unknown.
func HoldReason(pickup, placed string) string {
	s := "hold for pickup"
	if pickup != "" {
		s += " at " + pickup
	}
	if placed != "" {
		s += ", placed " + placed
	}
	return s
}

// holdColumns maps a holds list's header names to what is read. Koha's
// holds queue (the tmp_holdsqueue table behind Circulation > Holds queue,
// installer/data/mysql/kohastructure.sql) names the item's barcode,
// the pickup library pickbranch and the day the hold was placed
// reservedate; a report on the reserves table names them branchcode and
// reservedate. The patron's columns (surname, firstname, phone, cardnumber,
// borrowernumber) are never read.
var holdColumns = map[string]string{
	"barcode": "barcode", "pickbranch": "pickup", "pickup": "pickup", "pickup_library": "pickup",
	"pickup library": "pickup", "reservedate": "placed", "hold_date": "placed", "placed": "placed",
}

// ReadHolds reads a list of holds to pull: a header naming a barcode column
// and optionally the pickup library and the day placed (Koha's holds queue
// report as it comes, or "barcode,pickup,placed"), comma, semicolon, tab or
// bar separated. Every bad row is reported as FILE:LINE and the list is
// taken whole or not at all. A row without a barcode (a hold the queue has
// not matched to a copy yet) is counted in skipped. An item held twice is
// listed once, with its earliest hold.
func ReadHolds(file string, r io.Reader) (holds []Hold, skipped int, err error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", file, err)
	}
	text := strings.TrimPrefix(string(b), "\ufeff")
	cr := csv.NewReader(strings.NewReader(text))
	cr.Comma = sniffComma(text)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, 0, fmt.Errorf("%s: file is empty: the first line must be a header such as \"barcode,pickup,placed\"", file)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("%s:1: cannot read the header: %w", file, err)
	}
	col := map[string]int{}
	for i, h := range header {
		c, ok := holdColumns[headerKey(h)]
		if !ok {
			continue
		}
		if j, dup := col[c]; dup {
			return nil, 0, fmt.Errorf("%s:1: columns %d (%q) and %d (%q) both give the %s: keep one", file, j+1, header[j], i+1, h, c)
		}
		col[c] = i
	}
	if _, ok := col["barcode"]; !ok {
		return nil, 0, fmt.Errorf("%s:1: no barcode column in the header %q: a holds list needs the item's barcode (Koha: a report on tmp_holdsqueue, or \"barcode,pickup,placed\")", file, strings.Join(header, string(cr.Comma)))
	}
	get := func(rec []string, c string) string {
		if i, ok := col[c]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	errs, err := EachRow(file, cr, func(rec []string, line int) error {
		h := Hold{Barcode: NormalizeID(get(rec, "barcode")), Pickup: get(rec, "pickup"), Source: file, Line: line}
		if h.Barcode == "" {
			skipped++
			return nil
		}
		if bad := strings.IndexFunc(h.Barcode+h.Pickup, func(r rune) bool { return unicode.IsControl(r) || r == unicode.ReplacementChar }); bad >= 0 {
			return fmt.Errorf("%s:%d: the barcode or pickup library has control characters or bytes that are not UTF-8: is this a text CSV?", file, line)
		}
		if v := get(rec, "placed"); v != "" && v != "NULL" {
			d, err := ParseDate(v)
			if err != nil {
				return fmt.Errorf("%s:%d: the hold date %q is not a date tally reads (YYYY-MM-DD, MM/DD/YYYY, DD.MM.YYYY)", file, line, v)
			}
			h.Placed = d.Format("2006-01-02")
		}
		holds = append(holds, h)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	if len(errs) > 0 {
		return nil, 0, fmt.Errorf("%d bad line(s), no holds taken:\n%w", len(errs), errors.Join(errs...))
	}
	return MergeHolds(holds), skipped, nil
}

// MergeHolds keeps one hold per barcode, in first-seen order: of an item
// held twice, the hold placed first (the one the library fills first). A
// list from a file and one from Koha pass through it alike, the Koha one
// after its barcodes are normalized, which can make two into one.
func MergeHolds(holds []Hold) []Hold {
	var out []Hold
	at := make(map[string]int, len(holds)) // barcode → index in out
	for _, h := range holds {
		if i, dup := at[h.Barcode]; dup {
			if h.Placed != "" && (out[i].Placed == "" || h.Placed < out[i].Placed) {
				out[i] = h
			}
			continue
		}
		at[h.Barcode] = len(out)
		out = append(out, h)
	}
	return out
}
