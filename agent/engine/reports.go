package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/report"
	"github.com/tally-inventory/tally/agent/store"
)

// ReportNames lists the reports, in the order `tally report` prints them.
var ReportNames = []string{"summary", "missing", "still_missing", "misplaced", "out_of_order", "found",
	"checked_out_on_shelf", "withdrawn_on_shelf", "hold_pickup", "unknown", "invalid", "carts", "pulled", "pull_not_found"}

// Reports builds the named reports of an inventory ("all" or none: every one).
func (e *Engine) Reports(ctx context.Context, invID int64, names ...string) ([]report.Table, error) {
	if len(names) == 0 || len(names) == 1 && names[0] == "all" {
		names = ReportNames
	}
	inv, err := e.DB.Inventory(ctx, invID)
	if err != nil {
		return nil, err
	}
	j, err := e.journal(ctx, invID)
	if err != nil {
		return nil, err
	}
	var out []report.Table
	for _, n := range names {
		t, err := e.reportOne(ctx, inv, j, n)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// journalView is an inventory's journal loaded once for all its reports.
type journalView struct {
	reads    []*store.ReadRow
	sessions map[int64]*store.Session
	first    map[string]*store.ReadRow // first counted read of each item
}

func (e *Engine) journal(ctx context.Context, invID int64) (*journalView, error) {
	j := &journalView{sessions: map[int64]*store.Session{}, first: map[string]*store.ReadRow{}}
	ss, err := e.DB.Sessions(ctx, invID)
	if err != nil {
		return nil, err
	}
	for _, s := range ss {
		j.sessions[s.ID] = s
	}
	err = e.DB.Reads(ctx, invID, 0, func(r *store.ReadRow) error {
		if r.Undone {
			return nil
		}
		j.reads = append(j.reads, r)
		if r.Barcode != "" && r.Outcome != string(reconcile.Duplicate) {
			if _, ok := j.first[r.Barcode]; !ok {
				j.first[r.Barcode] = r
			}
		}
		return nil
	})
	return j, err
}

func has(r *store.ReadRow, o reconcile.Outcome) bool {
	return r.Outcome == string(o) || reconcile.ParseFlags(r.Flags).Has(string(o))
}

func money(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }

func (j *journalView) where(r *store.ReadRow) string {
	s := j.sessions[r.SessionID]
	if s == nil {
		return fmt.Sprintf("session %d", r.SessionID)
	}
	w := fmt.Sprintf("session %d", s.ID)
	if s.Cart != "" {
		w += " (cart " + s.Cart + ")"
	}
	if s.Operator != "" {
		w += ", " + s.Operator
	}
	return w
}

func (e *Engine) reportOne(ctx context.Context, inv *store.Inventory, j *journalView, name string) (report.Table, error) {
	item := func(bc string) catalog.Item { it, _ := e.Index.Get(bc); return it }
	byOutcome := func(o reconcile.Outcome, title, note string, extra func(*store.ReadRow, catalog.Item) []string, cols ...string) report.Table {
		t := report.Table{Name: name, Title: title, Note: note,
			Columns: append([]string{"barcode", "title", "call_number", "library", "location", "status", "seen_at", "where"}, cols...)}
		for _, r := range j.reads {
			if r.Barcode == "" || j.first[r.Barcode] != r || !has(r, o) {
				continue
			}
			it := item(r.Barcode)
			var d reconcile.Detail
			_ = json.Unmarshal([]byte(r.Detail), &d)
			row := []string{r.Barcode, it.Title, it.CallNumber, it.Library, it.Location, d.Status,
				r.At.Local().Format("2006-01-02 15:04"), j.where(r)}
			if extra != nil {
				row = append(row, extra(r, it)...)
			}
			t.Rows = append(t.Rows, row)
		}
		return t
	}
	switch name {
	case "summary":
		return e.summary(ctx, inv, j)
	case "still_missing":
		v, err := e.viewOf(ctx, inv, j)
		if err != nil {
			return report.Table{}, err
		}
		_, still := e.missing(v)
		t := report.Table{Name: name, Title: "Still missing", Note: "Lost, missing or withdrawn before this inventory began, and not seen in it: known already, so not sent upstream again as missing.",
			Columns: []string{"barcode", "title", "call_number", "library", "location", "status_before", "replacement_value"}}
		for _, m := range still {
			t.Rows = append(t.Rows, []string{m.Barcode, m.Title, m.CallNumber, m.Library, m.Location, string(v.start[m.Barcode].Status), money(m.Price)})
		}
		return t, nil
	case "missing":
		var ms []MissingItem
		if inv.Open() {
			v, err := e.viewOf(ctx, inv, j)
			if err != nil {
				return report.Table{}, err
			}
			ms, _ = e.missing(v)
		} else {
			var err error
			if ms, err = e.finalizedMissing(ctx, inv.ID); err != nil {
				return report.Table{}, err
			}
		}
		t := report.Table{Name: name, Title: "Missing", Columns: []string{"barcode", "title", "call_number", "library", "location", "cart", "replacement_value"}}
		if inv.Open() {
			t.Note = "Not seen so far: the inventory is still open, so this is the list of what remains to be found."
		}
		var total int64
		for _, m := range ms {
			total += m.Price
			t.Rows = append(t.Rows, []string{m.Barcode, m.Title, m.CallNumber, m.Library, m.Location, m.Container, money(m.Price)})
		}
		if len(ms) > 0 {
			t.Note = strings.TrimSpace(t.Note + fmt.Sprintf(" Replacement value: %s.", money(total)))
		}
		return t, nil
	case "misplaced":
		return byOutcome(reconcile.WrongLocation, "Misplaced (found outside the inventory's scope)", "",
			func(r *store.ReadRow, it catalog.Item) []string {
				return []string{catalog.HomeSummary(&it)}
			}, "belongs"), nil
	case "out_of_order":
		return e.outOfOrder(ctx, inv, j)
	case "found":
		return byOutcome(reconcile.Found, "Found (were lost or missing)", "", nil), nil
	case "checked_out_on_shelf":
		return byOutcome(reconcile.CheckedOutOnShelf, "Checked out, but on the shelf", "", func(r *store.ReadRow, it catalog.Item) []string {
			d := ""
			if !it.DueDate.IsZero() {
				d = it.DueDate.Format("2006-01-02")
			}
			return []string{d}
		}, "due_date"), nil
	case "withdrawn_on_shelf":
		return byOutcome(reconcile.WithdrawnOnShelf, "Withdrawn, but on the shelf", "Pull these.", nil), nil
	case "hold_pickup":
		return byOutcome(reconcile.HoldPickup, "Holds waiting", "Pull these for the hold shelf.", nil), nil
	case "unknown", "invalid":
		o := reconcile.Outcome(name)
		title := "Unknown barcodes (not in the catalog)"
		if o == reconcile.Invalid {
			title = "Invalid reads (check digit or format, patron cards)"
		}
		t := report.Table{Name: name, Title: title, Columns: []string{"code", "times", "first_at", "where", "problem"}}
		idx := map[string]int{}
		for _, r := range j.reads {
			if r.Outcome != string(o) {
				continue
			}
			if i, ok := idx[r.Code]; ok {
				n, _ := strconv.Atoi(t.Rows[i][1])
				t.Rows[i][1] = strconv.Itoa(n + 1)
				continue
			}
			var d reconcile.Detail
			_ = json.Unmarshal([]byte(r.Detail), &d)
			idx[r.Code] = len(t.Rows)
			t.Rows = append(t.Rows, []string{r.Code, "1", r.At.Local().Format("2006-01-02 15:04"), j.where(r), d.Problem})
		}
		return t, nil
	case "carts":
		return e.carts(inv, j), nil
	case "pulled", "pull_not_found":
		return e.pullReport(ctx, inv, j, name)
	}
	return report.Table{}, fmt.Errorf("unknown report %q: want one of %s", name, strings.Join(ReportNames, ", "))
}

// viewOf is the inventory's scope as it began, with what its journal saw.
func (e *Engine) viewOf(ctx context.Context, inv *store.Inventory, j *journalView) (scopeView, error) {
	start, err := e.DB.InventoryStart(ctx, inv.ID)
	if err != nil {
		return scopeView{}, err
	}
	return scopeView{sc: &inv.Scope, start: start, seen: seenOf(j)}, nil
}

func seenOf(j *journalView) map[string]int64 {
	m := make(map[string]int64, len(j.first))
	for bc, r := range j.first {
		m[bc] = r.SessionID
	}
	return m
}

func (e *Engine) finalizedMissing(ctx context.Context, invID int64) ([]MissingItem, error) {
	rows, err := e.DB.SQL.QueryContext(ctx, "SELECT kind, payload FROM outbox WHERE inventory_id = ? AND kind IN ('missing','cart_missing') ORDER BY id", invID)
	if err != nil {
		return nil, fmt.Errorf("missing report: %w", err)
	}
	defer rows.Close()
	var out []MissingItem
	for rows.Next() {
		var kind, payload string
		if err := rows.Scan(&kind, &payload); err != nil {
			return nil, err
		}
		var p struct {
			Barcode    string `json:"barcode"`
			Title      string `json:"title"`
			CallNumber string `json:"call_number"`
			Container  string `json:"container"`
			Price      int64  `json:"price_cents"`
		}
		_ = json.Unmarshal([]byte(payload), &p)
		it, _ := e.Index.Get(p.Barcode)
		out = append(out, MissingItem{Barcode: p.Barcode, Title: p.Title, CallNumber: p.CallNumber, Library: it.Library,
			Location: it.Location, Container: p.Container, Price: p.Price, Kind: kind, sortKey: e.Index.SortKeyOf(p.Barcode)})
	}
	// Shelf order, as the list was before the finalize: the rows are in
	// barcode order (see store.QueueMissing).
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].sortKey != out[b].sortKey {
			return out[a].sortKey < out[b].sortKey
		}
		return out[a].Barcode < out[b].Barcode
	})
	return out, rows.Err()
}

// outOfOrder runs the exact shelf-order analysis over each shelf session.
func (e *Engine) outOfOrder(ctx context.Context, inv *store.Inventory, j *journalView) (report.Table, error) {
	t := report.Table{Name: "out_of_order", Title: "Out of shelf order",
		Note:    "Only the books that moved are listed, each with the two books it belongs between.",
		Columns: []string{"barcode", "title", "call_number", "belongs_after", "belongs_before", "session", "position", "certain"}}
	shelves := map[int64]*reconcile.Shelf{}
	var order []int64
	for _, r := range j.reads {
		s := j.sessions[r.SessionID]
		if s == nil || s.Kind != store.SessionShelf || j.first[r.Barcode] != r || !inShelfSequence(r) {
			continue
		}
		sh := shelves[s.ID]
		if sh == nil {
			sh = reconcile.NewShelf()
			shelves[s.ID] = sh
			order = append(order, s.ID)
		}
		sh.Add(r.Barcode, e.Index.SortKeyOf(r.Barcode))
	}
	label := func(bc, end string) string {
		if bc == "" {
			return end
		}
		it, _ := e.Index.Get(bc)
		return strings.TrimSpace(it.CallNumber + " " + bc)
	}
	for _, sid := range order {
		for _, m := range shelves[sid].Analyze() {
			it, _ := e.Index.Get(m.ID)
			certain := "yes"
			if !m.Certain {
				certain = "either this or a neighbour moved"
			}
			t.Rows = append(t.Rows, []string{m.ID, it.Title, it.CallNumber, label(m.Prev, "(start of shelf)"), label(m.Next, "(end of shelf)"),
				strconv.FormatInt(sid, 10), strconv.Itoa(m.Pos + 1), certain})
		}
	}
	return t, nil
}

// carts reports, per cart session, what was present, foreign and missing.
func (e *Engine) carts(inv *store.Inventory, j *journalView) report.Table {
	t := report.Table{Name: "carts", Title: "Cart checks", Columns: []string{"cart", "expected", "present", "foreign", "missing", "missing_items", "foreign_items"}}
	type acc struct {
		present map[string]bool
		foreign []string
	}
	carts := map[string]*acc{}
	var names []string
	for _, s := range j.sessions {
		if s.Kind == store.SessionCart {
			n := catalog.NormalizeID(s.Cart)
			if carts[n] == nil {
				carts[n] = &acc{present: map[string]bool{}}
				names = append(names, n)
			}
		}
	}
	for bc, r := range j.first {
		s := j.sessions[r.SessionID]
		if s == nil || s.Kind != store.SessionCart {
			continue
		}
		a := carts[catalog.NormalizeID(s.Cart)]
		if has(r, reconcile.Foreign) {
			a.foreign = append(a.foreign, bc)
		} else {
			a.present[bc] = true
		}
	}
	sort.Strings(names)
	for _, n := range names {
		a := carts[n]
		members := e.Index.Container(n)
		var missing []string
		for _, m := range members {
			// Present in this cart, or seen anywhere else in the inventory.
			if _, seen := j.first[m.Barcode]; !seen {
				missing = append(missing, m.Barcode)
			}
		}
		sort.Strings(missing)
		sort.Strings(a.foreign)
		t.Rows = append(t.Rows, []string{n, strconv.Itoa(len(members)), strconv.Itoa(len(a.present)), strconv.Itoa(len(a.foreign)),
			strconv.Itoa(len(missing)), strings.Join(missing, " "), strings.Join(a.foreign, " ")})
	}
	return t
}

func (e *Engine) summary(ctx context.Context, inv *store.Inventory, j *journalView) (report.Table, error) {
	t := report.Table{Name: "summary", Title: "Summary", Columns: []string{"measure", "value"}}
	add := func(k string, v any) { t.Rows = append(t.Rows, []string{k, fmt.Sprint(v)}) }
	st, err := e.inventory(ctx, inv.ID)
	if err != nil {
		return t, err
	}
	e.mu.Lock()
	expected, seenIn, also, outside := st.expected, st.seenIn, st.also, st.outside
	e.mu.Unlock()
	add("inventory", fmt.Sprintf("%d — %s", inv.ID, inv.Name))
	state := "open"
	if !inv.Open() {
		state = "finalized " + inv.FinalizedAt.Local().Format("2006-01-02 15:04")
	}
	add("state", state)
	add("sessions", len(j.sessions))
	add("reads", len(j.reads))
	add("items expected", fmt.Sprintf("%d (as the inventory began)", expected))
	add("items seen (in scope)", seenIn)
	if expected > 0 {
		add("progress", report.Percent(seenIn, expected))
	}
	add("items found not expected (on loan, lost… on the shelf)", also)
	add("items seen from elsewhere", outside)
	counts := map[string]int{}
	for _, r := range j.reads {
		counts[r.Outcome]++
	}
	for _, o := range reconcile.Outcomes {
		if counts[string(o)] > 0 {
			add("reads: "+string(o), counts[string(o)])
		}
	}
	view, err := e.viewOf(ctx, inv, j)
	if err != nil {
		return t, err
	}
	ms, still := e.missing(view)
	if !inv.Open() {
		if ms, err = e.finalizedMissing(ctx, inv.ID); err != nil {
			return t, err
		}
	}
	var v int64
	for _, m := range ms {
		v += m.Price
	}
	add("missing", len(ms))
	add("missing replacement value", money(v))
	add("still missing (lost, missing or withdrawn before)", len(still))
	return t, nil
}
