package catalog

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Columns of the tally CSV, in the documented order.
var Columns = []string{"barcode", "title", "author", "call_number", "library", "location",
	"collection", "item_type", "status", "due_date", "last_seen", "price", "kind", "container",
	"asset_tag", "serial", "rfid", "hold", "year", "last_borrowed", "condition"}

// headerColumns maps other spellings of a column to tally's. Koha's status
// columns map to flags that combine into one Status; the item search's
// status texts set it when not empty.
var headerColumns = map[string]string{
	// Koha's items table (installer/data/mysql/kohastructure.sql), as a
	// report's "SELECT * FROM items" names them.
	"homebranch": "library", "itemcallnumber": "call_number", "ccode": "collection", "itype": "item_type",
	"datelastseen": "last_seen", "onloan": "due_date", "replacementprice": "price",
	"permanent_location": "location", "itemlost": "itemlost", "notforloan": "notforloan",
	"withdrawn": "withdrawn", "damaged": "damaged",
	// items.datelastborrowed: "the date the item was last checked out".
	"datelastborrowed": "last_borrowed",
	// A report joining biblio and biblioitems (kohastructure.sql):
	// biblio.copyrightdate (smallint) and biblioitems.publicationyear (text).
	"copyrightdate": "year", "publicationyear": "year",
	// Koha's item search "Export CSV" (csv_headers/catalogue/itemsearch.tt),
	// old and new header texts.
	"home library": "library", "shelving location": "location", "item type": "item_type",
	"itemtype": "item_type", "call number": "call_number", "not for loan status": "notforloan_text",
	"lost status": "lost_text", "lost": "lost_text", "withdrawn status": "withdrawn_text", "due date": "due_date",
	// itemsearch_item.csv.inc: biblioitem.publicationyear || biblio.copyrightdate
	"publication date": "year",
	// Other common spellings.
	"branch": "library", "callnumber": "call_number", "date_due": "due_date", "shelving_location": "location",
}

// preferredColumn ranks the header names that may legitimately appear
// together for one tally column: Koha's items table has both price
// (purchase) and replacementprice, and both location and
// permanent_location. The higher rank is read.
var preferredColumn = map[string]int{
	"replacementprice": 2, "price": 1,
	"location": 3, "shelving location": 2, "shelving_location": 2, "permanent_location": 1,
	// Koha's item search prefers publicationyear to copyrightdate.
	"year": 3, "publicationyear": 2, "copyrightdate": 1,
}

// Snipe-IT headers (hardware list export, resources/lang/en-US; the Custom
// Asset Report, app/Http/Controllers/ReportsController.php) to tally
// columns. "Checked Out To" (list) and "Checked Out" + "Type" (custom
// report) name the assignee: a cart when it is an asset.
var snipeColumns = map[string]string{
	"asset tag": "barcode", "serial": "serial", "model": "model", "asset name": "title",
	"name": "title", "location": "location", "status": "snipe_status", "checked out to": "assigned",
	"checked out": "assigned", "type": "assigned_type", "category": "item_type", "company": "library",
	"purchase cost": "price", "cost": "price", "last audit": "last_seen", "rfid": "rfid",
}

// ignoredColumns are known columns an inventory does not need; every other
// column whose name looks meaningful (meaningfulWords) and is not read
// gets a warning, so that nothing is dropped silently.
var ignoredColumns = map[string]bool{
	// Koha items table
	"itemnumber": true, "biblionumber": true, "biblioitemnumber": true, "dateaccessioned": true,
	"booksellerid": true, "replacementpricedate": true, "stack": true,
	"damaged_on": true, "itemlost_on": true, "withdrawn_on": true, "coded_location_qualifier": true,
	"issues": true, "renewals": true, "reserves": true, "restricted": true, "itemnotes": true,
	"itemnotes_nonpublic": true, "holdingbranch": true, "timestamp": true, "deleted_on": true,
	"cn_source": true, "cn_sort": true, "materials": true, "uri": true, "more_subfields_xml": true,
	"enumchron": true, "copynumber": true, "stocknumber": true, "new_status": true,
	"exclude_from_local_holds_priority": true,
	// Koha item search: the current (holding) library is not the home one;
	// Checkouts counts past loans, it is not a status.
	"publisher": true, "serial enumeration": true, "current library": true,
	"current location": true, "inventory number": true, "checkouts": true,
	// a rejects file written by tally import --skip-invalid
	"error": true,
}

var snipeIgnored = map[string]bool{
	"default location": true, "title": true /* the assignee's job title */, "model no.": true,
	"username": true, "employee no.": true, "employee number": true, "checkout date": true,
	"expected checkin": true, "last checkout": true, "purchased": true, "purchase date": true,
	"current value": true, "value": true, "diff": true, "error": true, "manager": true, "department": true,
}

var meaningfulWords = []string{"barcode", "title", "author", "call", "library", "branch", "location",
	"collection", "type", "status", "lost", "withdrawn", "damaged", "loan", "due", "seen", "price",
	"cost", "cart", "container", "assigned", "checked", "rfid", "serial", "tag"}

// csvSource is one CSV file being read.
type csvSource struct {
	file  string
	res   *Result
	cols  []string
	snipe bool
	// Snipe-IT assignees, resolved once every asset of the file is known.
	assign []snipeAssign
}

type snipeAssign struct {
	rec      int // index in res.Records
	line     int
	name     string
	typ      string // user, asset, location; "" in the list export
	deployed bool
}

func parseCSV(text, file string) (*Result, error) {
	text = strings.TrimPrefix(text, "\ufeff")
	comma := sniffComma(text)
	res := &Result{Format: FormatCSV, Comma: comma}
	cr := csv.NewReader(strings.NewReader(text))
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	// Koha's older item search wrote `"a", "b"`: a space before each quote.
	cr.TrimLeadingSpace = comma != '\t'

	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: file is empty: the first line must be a header such as %q", file, strings.Join(Columns[:4], ","))
		}
		return nil, fmt.Errorf("%s:1: cannot read the header: %w", file, err)
	}
	src := &csvSource{file: file, res: res}
	if err := src.mapHeader(header); err != nil {
		return nil, fmt.Errorf("%s:1: %w", file, err)
	}
	res.Header = append([]string(nil), header...)
	// One record a line, sized once: a Record is a few hundred bytes.
	res.Records = make([]Record, 0, strings.Count(text, "\n")+1)
	if src.snipe {
		res.Format = FormatSnipeIT
	}
	seen := map[string]int{}
	prev := cr.InputOffset()
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		end := cr.InputOffset()
		raw := strings.TrimRight(text[prev:end], "\r\n")
		prev = end
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				res.Errors = append(res.Errors, RowError{File: file, Line: pe.StartLine, Offset: -1, Raw: raw,
					Msg: fmt.Sprintf("%v (check the quotes on this line)", pe.Err)})
				continue
			}
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		line, _ := cr.FieldPos(0)
		if len(row) == 1 && strings.TrimSpace(row[0]) == "" {
			continue // blank line
		}
		if len(row) != len(header) {
			res.Errors = append(res.Errors, RowError{File: file, Line: line, Offset: -1, Raw: raw,
				Msg: fmt.Sprintf("has %d fields, the header has %d (an unquoted %s?)", len(row), len(header), commaName(comma))})
			continue
		}
		it, a, msgs, warns := src.rowItem(row)
		if it.Barcode != "" {
			if p, dup := seen[it.Barcode]; dup {
				msgs = append(msgs, fmt.Sprintf("barcode %q already on line %d", it.Barcode, p))
			} else if len(msgs) == 0 {
				seen[it.Barcode] = line
			}
		}
		if len(msgs) > 0 {
			for _, m := range msgs {
				res.Errors = append(res.Errors, RowError{File: file, Line: line, Offset: -1, Raw: raw, Msg: m})
			}
			continue
		}
		for _, w := range warns {
			res.Warnings = append(res.Warnings, RowError{File: file, Line: line, Offset: -1, Msg: w})
		}
		if a.name != "" || a.deployed {
			a.rec, a.line = len(res.Records), line
			src.assign = append(src.assign, a)
		}
		res.Records = append(res.Records, Record{Item: it, Line: line, Raw: raw})
	}
	if src.snipe {
		src.resolveAssignees()
	}
	return res, nil
}

// sniffComma picks the delimiter of the header line: the most frequent of
// comma, semicolon, tab and bar outside quotes (Koha's CSVDelimiter
// preference offers the first three; spreadsheets save "Tab separated
// text").
func sniffComma(text string) rune {
	var n [4]int
	delims := [4]byte{',', ';', '\t', '|'}
	quoted := false
	for i := 0; i < len(text) && (quoted || text[i] != '\n'); i++ {
		c := text[i]
		if c == '"' {
			quoted = !quoted
			continue
		}
		if quoted {
			continue
		}
		for k, d := range delims {
			if c == d {
				n[k]++
			}
		}
	}
	best := 0
	for k := range n {
		if n[k] > n[best] {
			best = k
		}
	}
	return rune(delims[best])
}

func commaName(c rune) string {
	switch c {
	case ';':
		return "semicolon"
	case '\t':
		return "tab"
	case '|':
		return "bar"
	}
	return "comma"
}

func headerKey(h string) string {
	return strings.Join(strings.Fields(strings.ToLower(strings.TrimPrefix(h, "\ufeff"))), " ")
}

// mapHeader turns header names into tally column names; "" marks a column
// that is not read. It tells Snipe-IT exports apart by their "Asset Tag".
func (src *csvSource) mapHeader(header []string) error {
	src.cols = make([]string, len(header))
	for _, h := range header {
		if headerKey(h) == "asset tag" {
			src.snipe = true
		}
	}
	known := map[string]bool{}
	for _, c := range Columns {
		known[c] = true
	}
	have := map[string]int{}
	var unread []string
	for i, h := range header {
		n := headerKey(h)
		var c string
		switch {
		case src.snipe:
			c = snipeColumns[n]
		case known[n]:
			c = n
		default:
			c = headerColumns[n]
		}
		if c == "" {
			if n != "" && !ignoredColumns[n] && !(src.snipe && snipeIgnored[n]) && meaningful(n) {
				unread = append(unread, fmt.Sprintf("%d (%q)", i+1, strings.TrimSpace(h)))
			}
			continue // an export carries many columns tally does not need
		}
		if j, dup := have[c]; dup {
			keep, drop := j, i
			rj, ri := preferredColumn[headerKey(header[j])], preferredColumn[n]
			if rj == 0 || ri == 0 || rj == ri {
				return fmt.Errorf("columns %d (%q) and %d (%q) both give %s: keep one", j+1, header[j], i+1, h, c)
			}
			if ri > rj {
				keep, drop = i, j
			}
			src.cols[drop] = ""
			src.cols[keep] = c
			have[c] = keep
			src.warn(fmt.Sprintf("columns %d (%q) and %d (%q) both give %s: reading %q", j+1, header[j], i+1, h, c, strings.TrimSpace(header[keep])))
			continue
		}
		have[c] = i
		src.cols[i] = c
	}
	if _, ok := have["barcode"]; !ok {
		if src.snipe {
			return errors.New(`no "Asset Tag" column`)
		}
		if len(header) > 0 && looksLikeBarcode(header[0]) {
			return fmt.Errorf("the first line %q looks like data, not a header: add a header line such as \"barcode\" (tally columns: %s)", strings.Join(header, string(rune(','))), strings.Join(Columns, ","))
		}
		return fmt.Errorf("no barcode column: the header must name one (tally columns: %s; Koha and Snipe-IT export headers work too)", strings.Join(Columns, ","))
	}
	if len(unread) > 0 {
		src.warn(fmt.Sprintf("column %s not read: tally does not know what it holds; rename it to a tally column (%s) if it matters", strings.Join(unread, ", "), strings.Join(Columns, ",")))
	}
	return nil
}

func (src *csvSource) warn(msg string) {
	src.res.Warnings = append(src.res.Warnings, RowError{File: src.file, Line: 1, Offset: -1, Msg: msg})
}

func meaningful(n string) bool {
	for _, w := range meaningfulWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// looksLikeBarcode: a header cell that is all digits (and letters) with at
// least 5 digits is a data row of a headerless list.
func looksLikeBarcode(s string) bool {
	s = strings.TrimSpace(s)
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c == '-':
		default:
			return false
		}
	}
	return digits >= 5
}

// rowItem maps one row. msgs reject the row; warns accept it with a caveat.
func (src *csvSource) rowItem(row []string) (it Item, a snipeAssign, msgs, warns []string) {
	it = Item{Kind: KindBook, Status: StatusAvailable}
	snipe := src.snipe
	if snipe {
		it.Kind = KindEquipment
	}
	var flags kohaFlags
	var model, snipeSt string
	for i, c := range src.cols {
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
			snipeSt = v
		case "assigned":
			a.name = v
		case "assigned_type":
			a.typ = strings.ToLower(v)
		case "due_date":
			if v == "" || v == "0000-00-00" {
				break
			}
			flags.onloan = true
			if it.DueDate, err = ParseDate(v); err != nil {
				warns = append(warns, fmt.Sprintf("due date %q is not a date tally reads (YYYY-MM-DD, MM/DD/YYYY, DD.MM.YYYY): imported as checked out without a due date", v))
				err = nil
			}
		case "last_seen":
			it.LastSeen, err = ParseDate(v)
		case "price":
			var w string
			it.Price, w = lenientPrice(v)
			if w != "" {
				warns = append(warns, w)
			}
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
		case "last_borrowed":
			// Lenient like the due date: weeding reads it, an inventory
			// does not need it.
			if it.LastBorrowed, err = ParseDate(v); err != nil {
				warns = append(warns, fmt.Sprintf("last checkout %q is not a date tally reads (YYYY-MM-DD, MM/DD/YYYY, DD.MM.YYYY): imported without it", v))
				err = nil
			}
		case "condition":
			it.Condition = strings.Join(strings.Fields(v), " ")
		case "year":
			// Lenient like the price: a year is for the collection report, an
			// inventory does not need it.
			if it.Year = FirstYear(v); it.Year == 0 && v != "" && v != "0" {
				warns = append(warns, fmt.Sprintf("year %q holds no four-digit year: imported without a year", v))
			}
		case "itemlost":
			flags.lost, err = kohaInt(v)
		case "notforloan":
			flags.notforloan, err = kohaInt(v)
		case "withdrawn":
			flags.withdrawn, err = kohaInt(v)
		case "damaged":
			flags.damaged, err = kohaInt(v)
		// The item search writes each status as its authorised value's
		// description, empty (or 0) when not set.
		case "lost_text":
			if statusText(v) {
				flags.lost = 1
				if strings.Contains(strings.ToLower(v), "missing") {
					flags.lost = 4
				}
			}
		case "notforloan_text":
			if statusText(v) {
				flags.notforloan = 1
			}
		case "withdrawn_text":
			if statusText(v) {
				flags.withdrawn = 1
			}
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
	if snipe {
		st, known := snipeStatus(snipeSt)
		if !known {
			warns = append(warns, fmt.Sprintf("status %q is not one tally recognises: imported as available (the Custom Asset Report's Status says \"(undeployable)\" or \"(archived)\" where it matters)", snipeSt))
		}
		it.Status = st
		a.deployed = st == StatusCheckedOut
		if it.DueDate.IsZero() {
			flags.onloan = false
		}
	} else if st, ok := flags.status(); ok && (it.Status == StatusAvailable || it.Status == "") {
		it.Status = st
	}
	if it.Status != StatusCheckedOut {
		it.DueDate = time.Time{}
	}
	return it, a, msgs, warns
}

// statusText reports whether an item search status column says something.
func statusText(v string) bool { return v != "" && v != "0" }

// lenientPrice reads a price, or returns 0 and a warning: an inventory does
// not need the price, so an unreadable one never costs the item.
func lenientPrice(v string) (int64, string) {
	c, err := ParsePrice(v)
	if err == nil {
		return c, ""
	}
	// 1.299,00: Snipe-IT's digit_separator setting and European exports.
	if s := strings.TrimSpace(strings.TrimLeft(v, "$€£ ")); strings.Count(s, ",") == 1 {
		if w, f, _ := strings.Cut(s, ","); len(f) == 2 {
			if c, err := ParsePrice(strings.ReplaceAll(w, ".", "") + "." + f); err == nil {
				return c, ""
			}
		}
	}
	return 0, fmt.Sprintf("price %q is not an amount such as 12.99: imported without a price", v)
}

// snipeStatus maps a Snipe-IT status: the custom report writes
// "Name (meta)" with meta deployed, deployable, pending, undeployable or
// archived; the list export writes the name, followed by "Deployed" when
// the asset is checked out. Default labels (database/seeders): Ready to
// Deploy, Pending, Archived, Out for Diagnostics, Out for Repair, Broken -
// Not Fixable, Lost/Stolen. known is false for a name it cannot place.
func snipeStatus(v string) (st Status, known bool) {
	s := strings.ToLower(strings.TrimSpace(v))
	name, meta := s, ""
	if i := strings.LastIndex(s, " ("); i >= 0 && strings.HasSuffix(s, ")") {
		name, meta = s[:i], s[i+2:len(s)-1]
	}
	has := func(w ...string) bool {
		for _, x := range w {
			if strings.Contains(name, x) {
				return true
			}
		}
		return false
	}
	switch {
	case has("lost", "stolen", "missing"):
		return StatusLost, true
	case meta == "archived" || has("archived", "retired", "disposed"):
		return StatusWithdrawn, true
	case meta == "deployed" || name == "deployed" || strings.HasSuffix(name, " deployed"):
		return StatusCheckedOut, true
	case meta == "undeployable" || has("repair", "broken", "diagnos", "damaged"):
		return StatusInRepair, true
	case meta == "pending" || name == "pending":
		return StatusNotForLoan, true
	case meta == "deployable" || s == "" || has("ready to deploy", "deployable", "available", "in stock"):
		return StatusAvailable, true
	}
	return StatusAvailable, false
}

// resolveAssignees applies what each Snipe-IT asset is checked out to: an
// asset (a cart) makes it the item's container and the item at home there;
// a location sets the location; a user means checked out. The list export
// does not say which, so an assignee is a cart when it names an asset of
// the same file (by tag, by name, or as "Name (TAG) - Model"), a location
// when it equals the row's Location, and otherwise a person.
func (src *csvSource) resolveAssignees() {
	recs := src.res.Records
	tags := map[string]string{}  // normalized tag -> tag
	names := map[string]string{} // lower-case name -> tag
	for _, r := range recs {
		tags[r.Item.Barcode] = r.Item.Barcode
		if r.Item.Title != "" {
			names[strings.ToLower(r.Item.Title)] = r.Item.Barcode
		}
	}
	var people []string
	for _, a := range src.assign {
		it := &recs[a.rec].Item
		if a.name == "" {
			continue // deployed with no assignee column: stays checked out
		}
		typ, tag := a.typ, ""
		// Snipe-IT's asset display name is "Name (TAG) - Model".
		inner := ""
		if i := strings.LastIndex(a.name, "("); i >= 0 {
			if j := strings.Index(a.name[i:], ")"); j > 0 {
				inner = strings.TrimSpace(a.name[i+1 : i+j])
			}
		}
		if t, ok := tags[NormalizeID(inner)]; ok && inner != "" {
			tag = t
		} else if t, ok := tags[NormalizeID(a.name)]; ok {
			tag = t
		} else if t, ok := names[strings.ToLower(a.name)]; ok {
			tag = t
		}
		if typ == "" {
			switch {
			case tag != "":
				typ = "asset"
			case strings.EqualFold(a.name, it.Location):
				typ = "location"
			default:
				typ = "user"
				if inner != "" {
					break // "First Last (username)": a person
				}
				if len(people) < 3 {
					people = append(people, fmt.Sprintf("%q (line %d)", a.name, a.line))
				}
				if len(people) == 3 {
					people = append(people, "…")
				}
			}
		}
		switch typ {
		case "asset":
			if tag == "" {
				tag = a.name
				if inner != "" {
					tag = NormalizeID(inner)
				}
			}
			it.Container = tag
			if it.Status == StatusCheckedOut {
				it.Status = StatusAvailable // at home in its cart
			}
		case "location":
			it.Location = a.name
			if it.Status == StatusCheckedOut {
				it.Status = StatusAvailable
			}
		default:
			if it.Status == StatusAvailable {
				it.Status = StatusCheckedOut
			}
		}
	}
	if len(people) > 0 {
		src.warn(fmt.Sprintf("devices checked out to names that are not assets in this file were imported as checked out to a person, not in a cart: %s; if one is a cart, export the carts too, or use the Custom Asset Report with \"Checked Out\" (its Type column tells carts from people)", strings.Join(people, ", ")))
	}
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
// 13:45:00, 2024-05-31T13:45:00Z, the US 05/31/2024 and 31.05.2024 (Koha's
// dmydot date format). The time of day is dropped: last-seen and due
// dates are days.
func ParseDate(v string) (time.Time, error) {
	if v == "" || v == "0000-00-00" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02 15:04:05", "2006-01-02 15:04", time.RFC3339, "01/02/2006", "1/2/2006", "02.01.2006"} {
		if t, err := time.Parse(layout, v); err == nil {
			y, m, d := t.Date()
			return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q is not YYYY-MM-DD", v)
}

// ParsePrice reads "12.99", "$12.99", "12" or "1,299.00" as cents. A comma
// must separate thousands: "12,99" is refused, not read as 1299.00
// (lenientPrice reads it as a decimal comma).
func ParsePrice(v string) (int64, error) {
	s := strings.TrimSpace(strings.TrimLeft(v, "$€£ "))
	if whole, _, _ := strings.Cut(s, "."); strings.Contains(whole, ",") {
		groups := strings.Split(whole, ",")
		for i, g := range groups {
			if i > 0 && len(g) != 3 || len(g) == 0 || len(g) > 3 {
				return 0, fmt.Errorf("price %q has a comma that does not separate thousands", v)
			}
		}
	}
	if _, frac, _ := strings.Cut(s, "."); strings.Contains(frac, ",") {
		return 0, fmt.Errorf("price %q has a comma after the decimal point", v)
	}
	s = strings.ReplaceAll(s, ",", "")
	if s == "" {
		return 0, nil
	}
	whole, frac, _ := strings.Cut(s, ".")
	// Digits only: ParseInt alone would take a sign ("12.-5", "-0.50").
	if !allDigits(whole) || !allDigits(frac) {
		return 0, fmt.Errorf("price %q is not an amount such as 12.99", v)
	}
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

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
