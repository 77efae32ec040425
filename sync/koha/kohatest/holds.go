package kohatest

import (
	"net/http"
	"strconv"
	"time"
)

// Hold is one current hold (Koha's reserves table), in Go types; the server
// writes it with the API's field names (definitions/hold.yaml).
type Hold struct {
	HoldID    int
	PatronID  int
	BiblioID  int // 0: the item's biblio (ItemID must be set)
	ItemID    int // 0: a record-level hold
	Pickup    string
	Placed    time.Time
	Status    string // "" pending, "W" waiting, "T" in transit, "P" in processing (Koha::Hold is_found)
	Suspended bool
	Notes     string
}

// AddHold adds a current hold and returns it with its ids filled in.
func (s *Server) AddHold(h Hold) Hold {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h.BiblioID == 0 {
		if it, ok := s.items[h.ItemID]; ok {
			h.BiblioID = it.BiblioID
		}
	}
	if h.HoldID == 0 {
		s.nextID++
		h.HoldID = s.nextID
	}
	s.holds = append(s.holds, h)
	return h
}

// listHolds serves GET /holds: the current holds (not the old ones), in
// hold_id order, paged like /items.
func (s *Server) listHolds(w http.ResponseWriter, r *http.Request) {
	qv := r.URL.Query()
	if qv.Get("old") == "true" {
		writeJSON(w, http.StatusOK, []any{})
		return
	}
	page, perPage, ok := s.paging(w, qv)
	if !ok {
		return
	}
	s.mu.Lock()
	all := append([]Hold(nil), s.holds...)
	s.mu.Unlock()
	total := len(all)
	lo, hi, last := pageBounds(total, page, perPage)
	sel := all[lo:hi]
	out := make([]map[string]any, len(sel))
	for i, h := range sel {
		var item any
		if h.ItemID != 0 {
			item = strconv.Itoa(h.ItemID) // definitions/hold.yaml: item_id is string or null
		}
		var status any
		if h.Status != "" {
			status = h.Status
		}
		out[i] = map[string]any{"hold_id": h.HoldID, "patron_id": h.PatronID, "hold_date": date(h.Placed),
			"biblio_id": h.BiblioID, "item_group_id": nil, "pickup_library_id": strOrNull(h.Pickup), "desk_id": nil,
			"cancellation_date": nil, "cancellation_reason": nil, "notes": strOrNull(h.Notes), "priority": 1,
			"status": status, "timestamp": *s.dateTime(s.o.Now()), "item_id": item, "waiting_date": nil,
			"expiration_date": nil, "lowest_priority": false, "suspended": h.Suspended, "suspended_until": nil,
			"non_priority": false, "item_type": nil, "item_level": h.ItemID != 0}
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	w.Header().Set("X-Base-Total-Count", strconv.Itoa(total))
	if perPage > 0 {
		w.Header().Set("Link", s.links(r, page, perPage, last))
	}
	writeJSON(w, http.StatusOK, out)
}
