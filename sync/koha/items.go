package koha

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tally-inventory/tally/drivers/barcode"
)

// apiItem is the part of Koha's item object (api/v1 definitions/item.yaml)
// tally reads. Numbers and strings are decoded leniently: Koha versions
// differ in whether they write prices and statuses as numbers or strings.
type apiItem struct {
	ItemID           int64   `json:"item_id"`
	BiblioID         int64   `json:"biblio_id"`
	ExternalID       flexStr `json:"external_id"` // the barcode
	Callnumber       flexStr `json:"callnumber"`
	HomeLibraryID    flexStr `json:"home_library_id"`
	Location         flexStr `json:"location"`
	CollectionCode   flexStr `json:"collection_code"`
	ItemTypeID       flexStr `json:"item_type_id"`
	EffectiveItype   flexStr `json:"effective_item_type_id"`
	LostStatus       flexInt `json:"lost_status"`
	Withdrawn        flexInt `json:"withdrawn"`
	DamagedStatus    flexInt `json:"damaged_status"`
	NotForLoanStatus flexInt `json:"not_for_loan_status"`
	// CheckedOutDate is items.onloan: NULL when not on loan; Koha stores the
	// due date there.
	CheckedOutDate   flexStr `json:"checked_out_date"`
	LastSeenDate     flexStr `json:"last_seen_date"` // RFC 3339 date-time
	ReplacementPrice flexNum `json:"replacement_price"`
	Biblio           *struct {
		Title    flexStr `json:"title"`
		Subtitle flexStr `json:"subtitle"`
		Author   flexStr `json:"author"`
	} `json:"biblio"`
}

// flexStr is a JSON string, number or null ("").
type flexStr string

func (s *flexStr) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexStr(v)
	case b[0] == '-' || b[0] >= '0' && b[0] <= '9':
		*s = flexStr(b)
	default:
		return fmt.Errorf("want a string, got %s", snippet(b))
	}
	return nil
}

// flexInt is a JSON integer, an integral number, a numeric string or null (0).
type flexInt int

func (n *flexInt) UnmarshalJSON(b []byte) error {
	var s flexStr
	if err := s.UnmarshalJSON(b); err != nil {
		return fmt.Errorf("want an integer: %v", err)
	}
	t := strings.TrimSpace(string(s))
	if t == "" {
		*n = 0
		return nil
	}
	if v, err := strconv.ParseInt(t, 10, 32); err == nil {
		*n = flexInt(v)
		return nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		return fmt.Errorf("want an integer, got %q", t)
	}
	*n = flexInt(f)
	return nil
}

// flexNum is a JSON number, a numeric string or null, kept as text.
type flexNum string

func (n *flexNum) UnmarshalJSON(b []byte) error {
	var s flexStr
	if err := s.UnmarshalJSON(b); err != nil {
		return fmt.Errorf("want a number: %v", err)
	}
	*n = flexNum(strings.TrimSpace(string(s)))
	return nil
}

// price is the price as "12.34" (the catalog CSV's form), or "" when it is
// missing, negative or not a number.
func (n flexNum) price() string {
	t := strings.TrimLeft(string(n), "$€£ ")
	if t == "" {
		return ""
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) || f > 1e9 {
		return ""
	}
	return strconv.FormatFloat(f, 'f', 2, 64)
}

// barcode is the item's barcode as tally keys it.
func (it *apiItem) barcode() string { return barcode.Key(string(it.ExternalID)) }

// lastSeen parses last_seen_date; zero when NULL.
func (it *apiItem) lastSeen() (time.Time, error) {
	return parseKohaTime(string(it.LastSeenDate))
}

// parseKohaTime reads the date-times Koha writes: RFC 3339 from the API,
// "2006-01-02 15:04:05" from SQL, or a bare date.
func parseKohaTime(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" || strings.HasPrefix(v, "0000-00-00") {
		return time.Time{}, nil
	}
	for _, l := range []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(l, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q is not an RFC 3339 date-time", v)
}

// decodeItems decodes a JSON array of Koha item objects (a GET /items page).
func decodeItems(b []byte) ([]apiItem, error) {
	t := bytes.TrimSpace(b)
	if len(t) == 0 || t[0] != '[' {
		var e struct {
			Error string `json:"error"`
		}
		if len(t) > 0 && t[0] == '{' && json.Unmarshal(t, &e) == nil && e.Error != "" {
			return nil, fmt.Errorf("koha items: byte 0: not a JSON array of items but an error: %s", e.Error)
		}
		return nil, fmt.Errorf("koha items: byte 0: not a JSON array of items: %s", snippet(b))
	}
	var items []apiItem
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&items); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, fmt.Errorf("koha items: byte %d: %v: the response is not a JSON array of items", se.Offset, se)
		case errors.As(err, &te):
			return nil, fmt.Errorf("koha items: byte %d: field %q: %v", te.Offset, te.Field, te)
		}
		return nil, fmt.Errorf("koha items: %w", err)
	}
	if d.More() {
		return nil, fmt.Errorf("koha items: byte %d: data after the array", d.InputOffset())
	}
	return items, nil
}

// itemColumns are the CSV columns items are turned into, with Koha's
// column names, so the catalog importer applies its own aliases and status
// precedence (withdrawn > lost (4 = missing) > checked out > damaged > not
// for loan) to Koha data however it arrives.
var itemColumns = []string{"barcode", "title", "author", "itemcallnumber", "homebranch", "location",
	"ccode", "itype", "itemlost", "withdrawn", "damaged", "notforloan", "onloan", "datelastseen", "replacementprice"}

func (it *apiItem) row() []string {
	var title, author string
	if it.Biblio != nil {
		title = trimISBD(string(it.Biblio.Title))
		if st := trimISBD(string(it.Biblio.Subtitle)); st != "" {
			title += ": " + st
		}
		author = trimISBD(string(it.Biblio.Author))
	}
	itype := string(it.ItemTypeID)
	if itype == "" {
		itype = string(it.EffectiveItype)
	}
	return []string{string(it.ExternalID), title, author, string(it.Callnumber), string(it.HomeLibraryID),
		string(it.Location), string(it.CollectionCode), itype, strconv.Itoa(int(it.LostStatus)),
		strconv.Itoa(int(it.Withdrawn)), strconv.Itoa(int(it.DamagedStatus)), strconv.Itoa(int(it.NotForLoanStatus)),
		string(it.CheckedOutDate), string(it.LastSeenDate), it.ReplacementPrice.price()}
}

// trimISBD drops the ISBD punctuation MARC titles end in ("Title /").
func trimISBD(s string) string {
	return strings.TrimRight(strings.TrimSpace(s), " /:;,=")
}

// Table is Koha data as rows in the vocabulary of tally's catalog CSV
// (Koha's column names: barcode, itemcallnumber, homebranch, itemlost,
// onloan…), for agent/catalog to map (catalog.ParseTable), so Koha data
// gets the catalog importer's aliases, checks and status precedence
// (withdrawn > lost (4 = missing) > checked out > damaged > not for loan)
// however it arrives.
type Table struct {
	Name    string // the source in messages: "koha items", "report"
	Columns []string
	Rows    [][]string
	Lines   []int    // the line to report for Rows[i]: its item's place in the list, its row in a report
	Notes   []string // a prefix for Rows[i]'s messages ("item_id 12"); nil for none
}

// FetchItems reads Koha's whole item list, page by page (GET /api/v1/items
// with x-koha-embed: biblio, ordered by item_id), as a Table with one row
// per item, noted with its item_id. Items without a barcode are skipped:
// nothing can scan them. progress, when not nil, is called after each page
// with the number of items read so far.
func FetchItems(ctx context.Context, o Opts, progress func(n int)) (*Table, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	c, err := newClient(o)
	if err != nil {
		return nil, err
	}
	per := o.PerPage
	t := &Table{Name: "koha items", Columns: itemColumns}
	seen := 0
	for page := 1; page <= maxPages; page++ {
		q := url.Values{"_page": {strconv.Itoa(page)}, "_per_page": {strconv.Itoa(per)}, "_order_by": {"+item_id"}}
		res, err := c.do(ctx, request{op: fmt.Sprintf("list items (page %d)", page), method: http.MethodGet,
			path: "/items", query: q, header: map[string]string{"x-koha-embed": "biblio"}})
		if err != nil {
			return nil, err
		}
		items, err := decodeItems(res.body)
		if err != nil {
			return nil, fmt.Errorf("koha: list items (page %d): %w", page, err)
		}
		seen += len(items)
		for i := range items {
			if strings.TrimSpace(string(items[i].ExternalID)) == "" {
				continue
			}
			t.Rows = append(t.Rows, items[i].row())
			t.Lines = append(t.Lines, len(t.Rows))
			t.Notes = append(t.Notes, fmt.Sprintf("item_id %d", items[i].ItemID))
		}
		if progress != nil {
			progress(seen)
		}
		if !morePages(res.header, len(items), seen, per) {
			break
		}
	}
	return t, nil
}

// maxPages stops a server that always answers "next".
const maxPages = 1 << 20

// linkRel reports whether an RFC 5988 Link header has the relation, and
// whether there was a Link header at all.
func linkRel(values []string, rel string) (has, present bool) {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			present = true
			for _, p := range strings.Split(part, ";")[1:] {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "rel") {
					for _, r := range strings.Fields(strings.Trim(strings.TrimSpace(val), `"`)) {
						if strings.EqualFold(r, rel) {
							has = true
						}
					}
				}
			}
		}
	}
	return has, present
}
