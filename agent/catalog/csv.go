package catalog

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Format names an import format.
type Format string

const (
	FormatAuto    Format = "auto"
	FormatCSV     Format = "csv"     // tally CSV, Koha column names accepted
	FormatSnipeIT Format = "snipeit" // Snipe-IT asset export
	FormatMARC    Format = "marc"    // ISO 2709 or MARCXML
)

// Columns of the tally CSV, in the documented order.
var Columns = []string{"barcode", "title", "author", "call_number", "library", "location",
	"collection", "item_type", "status", "due_date", "last_seen", "price", "kind", "container",
	"asset_tag", "serial", "rfid", "hold"}

// columnAliases maps other spellings (Koha's item columns among them) to
// tally's. Koha's status columns are handled apart: they are flags that
// combine into one Status.
var columnAliases = map[string]string{
	"homebranch": "library", "branch": "library", "itemcallnumber": "call_number",
	"callnumber": "call_number", "call number": "call_number", "ccode": "collection",
	"itype": "item_type", "itemtype": "item_type", "datelastseen": "last_seen",
	"onloan": "due_date", "date_due": "due_date", "replacementprice": "price",
	"shelving_location": "location", "permanent_location": "location",
	"itemlost": "itemlost", "notforloan": "notforloan", "withdrawn": "withdrawn", "damaged": "damaged",
}

// Snipe-IT asset export headers (as its exporter writes them) to tally columns.
var snipeColumns = map[string]string{
	"asset tag": "barcode", "serial": "serial", "model": "model", "asset name": "title",
	"name": "title", "location": "location", "status": "snipe_status", "checked out to": "container",
	"category": "item_type", "company": "library", "purchase cost": "price", "last audit": "last_seen",
	"rfid": "rfid",
}

// Parse reads a catalog file. It returns the good records, every bad row as
// a RowError, and a non-nil error only when the file as a whole cannot be
// read. The caller decides whether bad rows reject the whole import.
func Parse(r io.Reader, file string, f Format) ([]Record, []RowError, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if f == "" || f == FormatAuto {
		var err error
		if f, err = sniff(br); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	switch f {
	case FormatMARC:
		return ParseMARC(br, file)
	case FormatCSV, FormatSnipeIT:
		return parseCSV(br, file)
	}
	return nil, nil, fmt.Errorf("%s: unknown format %q (want csv, snipeit, marc or auto)", file, f)
}

func sniff(br *bufio.Reader) (Format, error) {
	head, err := br.Peek(512)
	if len(head) == 0 && err != nil {
		if errors.Is(err, io.EOF) {
			return "", errors.New("file is empty: export the catalog again")
		}
		return "", err
	}
	h := bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	h = bytes.TrimLeft(h, " \t\r\n")
	switch {
	case len(h) > 0 && h[0] == '<':
		return FormatMARC, nil
	case len(h) >= 5 && isDigits(h[:5]):
		// ISO 2709 starts with a 5-digit record length; a CSV header does not.
		return FormatMARC, nil
	}
	return FormatCSV, nil
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func parseCSV(r io.Reader, file string) ([]Record, []RowError, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, fmt.Errorf("%s: file is empty: the first line must be a header such as %q", file, strings.Join(Columns[:4], ","))
		}
		return nil, nil, fmt.Errorf("%s:1: cannot read the header: %w", file, err)
	}
	cols, snipe, herr := mapHeader(header)
	if herr != nil {
		return nil, nil, fmt.Errorf("%s:1: %w", file, herr)
	}
	var recs []Record
	var bad []RowError
	seen := map[string]int{}
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad = append(bad, RowError{File: file, Line: pe.StartLine, Offset: -1,
					Msg: fmt.Sprintf("%v (check the quotes on this line)", pe.Err)})
				continue
			}
			return nil, nil, fmt.Errorf("%s: %w", file, err)
		}
		line, _ := cr.FieldPos(0)
		if len(row) == 1 && strings.TrimSpace(row[0]) == "" {
			continue // blank line
		}
		if len(row) != len(header) {
			bad = append(bad, RowError{File: file, Line: line, Offset: -1,
				Msg: fmt.Sprintf("has %d fields, the header has %d (an unquoted comma?)", len(row), len(header))})
			continue
		}
		it, msgs := rowItem(cols, row, snipe)
		if it.Barcode != "" {
			if prev, dup := seen[it.Barcode]; dup {
				msgs = append(msgs, fmt.Sprintf("barcode %q already on line %d", it.Barcode, prev))
			} else {
				seen[it.Barcode] = line
			}
		}
		if len(msgs) > 0 {
			for _, m := range msgs {
				bad = append(bad, RowError{File: file, Line: line, Offset: -1, Msg: m})
			}
			continue
		}
		recs = append(recs, Record{Item: it, Line: line, Raw: csvLine(row)})
	}
	return recs, bad, nil
}

// mapHeader turns header names into tally column names; "" marks a column
// that is ignored. It tells Snipe-IT exports apart by their "Asset Tag".
func mapHeader(header []string) ([]string, bool, error) {
	cols := make([]string, len(header))
	snipe := false
	for _, h := range header {
		if strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")), "asset tag") {
			snipe = true
		}
	}
	known := map[string]bool{}
	for _, c := range Columns {
		known[c] = true
	}
	have := map[string]int{}
	for i, h := range header {
		n := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		var c string
		if snipe {
			c = snipeColumns[n]
		} else if known[n] {
			c = n
		} else {
			c = columnAliases[n]
		}
		if c == "" {
			continue // an export carries many columns tally does not need
		}
		if j, dup := have[c]; dup {
			return nil, false, fmt.Errorf("columns %d (%q) and %d (%q) both give %s: keep one", j+1, header[j], i+1, h, c)
		}
		have[c] = i
		cols[i] = c
	}
	if _, ok := have["barcode"]; !ok {
		if snipe {
			return nil, false, errors.New(`no "Asset Tag" column`)
		}
		return nil, false, fmt.Errorf("no barcode column: the header must name one (tally columns: %s)", strings.Join(Columns, ","))
	}
	return cols, snipe, nil
}

func rowItem(cols, row []string, snipe bool) (Item, []string) {
	it := Item{Kind: KindBook, Status: StatusAvailable}
	if snipe {
		it.Kind = KindEquipment
	}
	var msgs []string
	var flags kohaFlags
	var model string
	for i, c := range cols {
		v := strings.TrimSpace(row[i])
		if c == "" {
			continue
		}
		if v != "" && strings.ContainsAny(v, "\x00") {
			msgs = append(msgs, fmt.Sprintf("%s holds a NUL byte: the file is not text", c))
			continue
		}
		var err error
		switch c {
		case "barcode":
			it.Barcode = NormalizeID(v)
			if snipe {
				it.AssetTag = it.Barcode
			}
		case "title":
			it.Title = v
		case "author":
			it.Author = v
		case "call_number":
			it.CallNumber = v
		case "library":
			it.Library = v
		case "location":
			it.Location = v
		case "collection":
			it.Collection = v
		case "item_type":
			it.ItemType = v
		case "model":
			model = v
		case "status":
			if v != "" {
				it.Status, err = ParseStatus(v)
			}
		case "snipe_status":
			it.Status = snipeStatus(v)
		case "due_date":
			it.DueDate, err = ParseDate(v)
			if err == nil && !it.DueDate.IsZero() {
				flags.onloan = true
			}
		case "last_seen":
			it.LastSeen, err = ParseDate(v)
		case "price":
			it.Price, err = ParsePrice(v)
		case "kind":
			switch strings.ToLower(v) {
			case "", "book":
				it.Kind = KindBook
			case "equipment", "device", "asset":
				it.Kind = KindEquipment
			default:
				err = fmt.Errorf("%q is not book or equipment", v)
			}
		case "container":
			it.Container = v
		case "asset_tag":
			it.AssetTag = v
		case "serial":
			it.Serial = v
		case "rfid":
			it.RFID = v
		case "hold":
			it.HoldWaiting, err = parseBool(v)
		case "itemlost":
			flags.lost, err = kohaInt(v)
		case "notforloan":
			flags.notforloan, err = kohaInt(v)
		case "withdrawn":
			flags.withdrawn, err = kohaInt(v)
		case "damaged":
			flags.damaged, err = kohaInt(v)
		}
		if err != nil {
			msgs = append(msgs, fmt.Sprintf("%s: %v", c, err))
		}
	}
	if it.Barcode == "" {
		msgs = append(msgs, "barcode is empty: every item needs one")
	} else if len(it.Barcode) > 64 {
		msgs = append(msgs, fmt.Sprintf("barcode is %d characters long; the longest accepted is 64", len(it.Barcode)))
	}
	if it.Title == "" && model != "" {
		it.Title = model
	}
	if it.ItemType == "" && model != "" {
		it.ItemType = model
	}
	if !snipe {
		if st, ok := flags.status(); ok && (it.Status == StatusAvailable || it.Status == "") {
			it.Status = st
		}
	}
	if it.Status == StatusCheckedOut && snipe && it.Container != "" {
		// In Snipe-IT a device checked out to its cart is at home in the cart.
		it.Status = StatusAvailable
	}
	return it, msgs
}

// kohaFlags combines Koha's item status columns into one Status. The order
// of precedence: withdrawn, lost (4 = missing), checked out, damaged, not
// for loan.
type kohaFlags struct {
	lost, notforloan, withdrawn, damaged int
	onloan                               bool
}

func (f kohaFlags) status() (Status, bool) {
	switch {
	case f.withdrawn != 0:
		return StatusWithdrawn, true
	case f.lost == 4:
		return StatusMissing, true
	case f.lost != 0:
		return StatusLost, true
	case f.onloan:
		return StatusCheckedOut, true
	case f.damaged != 0:
		return StatusDamaged, true
	case f.notforloan != 0:
		return StatusNotForLoan, true
	}
	return "", false
}

func kohaInt(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number (Koha writes 0 for none)", v)
	}
	return n, nil
}

func snipeStatus(v string) Status {
	switch s := strings.ToLower(v); {
	case strings.Contains(s, "lost") || strings.Contains(s, "stolen"):
		return StatusLost
	case strings.Contains(s, "repair") || strings.Contains(s, "broken"):
		return StatusInRepair
	case strings.Contains(s, "archived"):
		return StatusWithdrawn
	case strings.Contains(s, "deployed"):
		return StatusCheckedOut
	}
	return StatusAvailable
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "0", "false", "no", "n":
		return false, nil
	case "1", "true", "yes", "y":
		return true, nil
	}
	return false, fmt.Errorf("%q is not yes or no", v)
}

// ParseDate accepts the date forms exports use: 2024-05-31, 2024-05-31
// 13:45:00, 2024-05-31T13:45:00Z and the US 05/31/2024. The time of day is
// dropped: last-seen and due dates are days.
func ParseDate(v string) (time.Time, error) {
	if v == "" || v == "0000-00-00" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02 15:04:05", "2006-01-02 15:04", time.RFC3339, "01/02/2006", "1/2/2006"} {
		if t, err := time.Parse(layout, v); err == nil {
			y, m, d := t.Date()
			return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q is not YYYY-MM-DD", v)
}

// ParsePrice reads "12.99", "$12.99", "12" or "1,299.00" as cents.
func ParsePrice(v string) (int64, error) {
	s := strings.TrimSpace(strings.TrimLeft(v, "$€£ "))
	s = strings.ReplaceAll(s, ",", "")
	if s == "" {
		return 0, nil
	}
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 {
		return 0, fmt.Errorf("price %q has more than two decimals", v)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if whole == "" {
		w, err1 = 0, nil
	}
	if err1 != nil || err2 != nil || w < 0 || w > 1e9 {
		return 0, fmt.Errorf("price %q is not an amount such as 12.99", v)
	}
	return w*100 + f, nil
}

func csvLine(row []string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write(row)
	w.Flush()
	return strings.TrimRight(b.String(), "\n")
}
