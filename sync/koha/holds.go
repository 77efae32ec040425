package koha

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Hold is a hold waiting to be pulled from the shelf: the copy to pull,
// where the patron picks it up and the day it was placed. The patron is
// never read: what the shelf's screen shows must not name them.
type Hold struct {
	HoldID  int64
	Barcode string
	Pickup  string // pickup_library_id
	Placed  string // hold_date, YYYY-MM-DD
}

// apiHold is the part of Koha's hold object (api/v1 definitions/hold.yaml)
// tally reads; patron_id and notes are left out on purpose.
type apiHold struct {
	HoldID           int64   `json:"hold_id"`
	BiblioID         int64   `json:"biblio_id"`
	ItemID           flexStr `json:"item_id"` // string or null in 24.05's definition; integer in older ones
	PickupLibraryID  flexStr `json:"pickup_library_id"`
	HoldDate         flexStr `json:"hold_date"`
	Status           flexStr `json:"status"` // null while pending; W, T, P once found (Koha::Hold::is_found)
	Suspended        bool    `json:"suspended"`
	CancellationDate flexStr `json:"cancellation_date"`
}

// HoldsSkipped counts the current holds that give nothing to pull.
type HoldsSkipped struct {
	Found     int // waiting, in transit or in processing: already off the shelf
	Suspended int
	NoCopy    int // no copy on the shelf to fill it (checked out, lost, withdrawn, not for loan, no barcode)
}

// FetchHolds reads Koha's current holds (GET /api/v1/holds, page by page)
// and returns those still to be pulled from the shelf: pending (no status
// yet) and not suspended. An item-level hold names its copy (GET
// /items/{item_id}); a record-level hold gets one copy on the shelf (GET
// /items?q={"biblio_id":N}), preferring one whose home library is the
// pickup library, then the lowest item_id, and never a copy another hold
// took — as Koha's holds queue picks one copy per hold. A copy held twice
// is listed once, for its earliest hold.
func FetchHolds(ctx context.Context, o Opts) ([]Hold, HoldsSkipped, error) {
	var sk HoldsSkipped
	if err := o.validate(); err != nil {
		return nil, sk, err
	}
	c, err := newClient(o)
	if err != nil {
		return nil, sk, err
	}
	var pending []apiHold
	seen := 0
	for page := 1; page <= maxPages; page++ {
		q := url.Values{"_page": {strconv.Itoa(page)}, "_per_page": {strconv.Itoa(o.PerPage)}, "_order_by": {"+hold_id"}}
		res, err := c.do(ctx, request{op: fmt.Sprintf("list holds (page %d)", page), method: http.MethodGet, path: "/holds", query: q})
		if err != nil {
			return nil, sk, err
		}
		var hs []apiHold
		if err := json.Unmarshal(res.body, &hs); err != nil {
			return nil, sk, fmt.Errorf("koha: list holds (page %d): %v: the response is not a JSON array of holds: %s", page, err, snippet(res.body))
		}
		seen += len(hs)
		for _, h := range hs {
			switch {
			case h.CancellationDate != "":
			case h.Status != "":
				sk.Found++
			case h.Suspended:
				sk.Suspended++
			default:
				pending = append(pending, h)
			}
		}
		if !morePages(res.header, len(hs), seen, o.PerPage) {
			break
		}
	}
	// Item-level holds first: they take their copy whatever the
	// record-level holds would have chosen.
	sort.SliceStable(pending, func(i, j int) bool { return pending[i].ItemID != "" && pending[j].ItemID == "" })
	taken := map[string]int{} // barcode → index in out
	var out []Hold
	copies := map[int64][]apiItem{}
	for _, h := range pending {
		hold := Hold{HoldID: h.HoldID, Pickup: string(h.PickupLibraryID), Placed: dateOnly(string(h.HoldDate))}
		var it *apiItem
		if h.ItemID != "" {
			res, err := c.do(ctx, request{op: "get item " + string(h.ItemID), method: http.MethodGet, path: "/items/" + url.PathEscape(string(h.ItemID))})
			if err != nil {
				return nil, sk, fmt.Errorf("koha: hold %d: %w", h.HoldID, err)
			}
			var one apiItem
			if err := json.Unmarshal(res.body, &one); err != nil {
				return nil, sk, fmt.Errorf("koha: hold %d: item %s: %v: %s", h.HoldID, h.ItemID, err, snippet(res.body))
			}
			if onShelf(&one) {
				it = &one
			}
		} else {
			cs, ok := copies[h.BiblioID]
			if !ok {
				q := url.Values{"q": {fmt.Sprintf(`{"biblio_id":%d}`, h.BiblioID)}, "_per_page": {"-1"}}
				res, err := c.do(ctx, request{op: fmt.Sprintf("list items of biblio %d", h.BiblioID), method: http.MethodGet, path: "/items", query: q})
				if err != nil {
					return nil, sk, fmt.Errorf("koha: hold %d: %w", h.HoldID, err)
				}
				if cs, err = decodeItems(res.body); err != nil {
					return nil, sk, fmt.Errorf("koha: hold %d: %w", h.HoldID, err)
				}
				copies[h.BiblioID] = cs
			}
			it = pickCopy(cs, hold.Pickup, taken)
		}
		if it == nil {
			sk.NoCopy++
			continue
		}
		hold.Barcode = it.barcode()
		if i, dup := taken[hold.Barcode]; dup {
			if hold.Placed != "" && (out[i].Placed == "" || hold.Placed < out[i].Placed) {
				out[i] = hold
			}
			continue
		}
		taken[hold.Barcode] = len(out)
		out = append(out, hold)
	}
	return out, sk, nil
}

// onShelf reports whether a copy can be on the shelf to pull: it has a
// barcode and is not checked out, lost, withdrawn or not for loan.
func onShelf(it *apiItem) bool {
	return it.barcode() != "" && it.CheckedOutDate == "" && it.LostStatus == 0 && it.Withdrawn == 0 && it.NotForLoanStatus == 0
}

// pickCopy chooses the copy a record-level hold pulls, or nil.
func pickCopy(cs []apiItem, pickup string, taken map[string]int) *apiItem {
	var best *apiItem
	for i := range cs {
		it := &cs[i]
		if _, ok := taken[it.barcode()]; ok || !onShelf(it) {
			continue
		}
		home := strings.EqualFold(string(it.HomeLibraryID), pickup)
		switch {
		case best == nil:
			best = it
		case home && !strings.EqualFold(string(best.HomeLibraryID), pickup):
			best = it
		case home == strings.EqualFold(string(best.HomeLibraryID), pickup) && it.ItemID < best.ItemID:
			best = it
		}
	}
	return best
}

// dateOnly keeps the day of a date or date-time.
func dateOnly(v string) string {
	if len(v) >= 10 {
		return v[:10]
	}
	return v
}

// morePages decides whether a paged list goes on after a page of n rows
// (seen so far in all): by the Link header's "next" when there is one,
// else by X-Total-Count, else by a full page.
func morePages(h http.Header, n, seen, per int) bool {
	if n == 0 {
		return false
	}
	if next, ok := linkRel(h.Values("Link"), "next"); ok {
		return next
	}
	if v := h.Get("X-Total-Count"); v != "" {
		if total, err := strconv.Atoi(v); err == nil && total >= 0 {
			return seen < total
		}
	}
	return n >= per
}
