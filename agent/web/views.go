package web

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/report"
	"github.com/tally-inventory/tally/agent/store"
)

// Every outcome is told apart three ways: colour (CSS class o-<outcome>),
// icon (SVG symbol #o-<outcome>) and a word. Nobody has to rely on colour.
var labels = map[reconcile.Outcome]string{
	reconcile.OK:                "On shelf",
	reconcile.Duplicate:         "Already counted",
	reconcile.Unknown:           "Unknown",
	reconcile.Invalid:           "Invalid",
	reconcile.WrongLocation:     "Wrong place",
	reconcile.OutOfOrder:        "Misshelved",
	reconcile.CheckedOutOnShelf: "Checked out",
	reconcile.Found:             "Found",
	reconcile.WithdrawnOnShelf:  "Withdrawn",
	reconcile.HoldPickup:        "Hold waiting",
	reconcile.Present:           "In cart",
	reconcile.Foreign:           "Other cart",
	reconcile.Missing:           "Missing",
}

// shelfLegend and cartLegend are the counters each screen shows, in order.
var (
	shelfLegend = []reconcile.Outcome{reconcile.OK, reconcile.OutOfOrder, reconcile.WrongLocation, reconcile.Found,
		reconcile.CheckedOutOnShelf, reconcile.WithdrawnOnShelf, reconcile.HoldPickup, reconcile.Duplicate,
		reconcile.Unknown, reconcile.Invalid}
	cartLegend = []reconcile.Outcome{reconcile.Present, reconcile.Foreign, reconcile.Duplicate, reconcile.Found,
		reconcile.WithdrawnOnShelf, reconcile.Unknown, reconcile.Invalid}
)

func label(o string) string {
	if l, ok := labels[reconcile.Outcome(o)]; ok {
		return l
	}
	return o
}

// ReadView is one read as the screens show it; all text, never markup.
type ReadView struct {
	ID         int64    `json:"id"`
	At         string   `json:"at"`
	Device     string   `json:"device,omitempty"`
	Code       string   `json:"code"`
	Barcode    string   `json:"barcode,omitempty"`
	Title      string   `json:"title,omitempty"`
	CallNumber string   `json:"call_number,omitempty"`
	Outcome    string   `json:"outcome"`
	Label      string   `json:"label"`
	Headline   string   `json:"headline"` // "Misshelved — belongs between 599.75 ROW and 599.8 SMI"
	Item       string   `json:"item"`     // "Mammals: The Wolf · 599.78 SMI · 30234000012345"
	Notes      []string `json:"notes,omitempty"`
	// Pull is why to take the item off the shelf ("pull: hold for pickup
	// at MPL…"): the screens show it as a badge of its own.
	Pull   string `json:"pull,omitempty"`
	Undone bool   `json:"undone,omitempty"`
}

// RetroView is an earlier read a later one proved out of shelf order.
type RetroView struct {
	Barcode  string `json:"barcode"`
	Outcome  string `json:"outcome"`
	Label    string `json:"label"`
	Headline string `json:"headline"`
	Item     string `json:"item"`
}

func between(prev, prevCall, next, nextCall string) string {
	p, n := orCode(prevCall, prev), orCode(nextCall, next)
	switch {
	case p != "" && n != "":
		return "belongs between " + p + " and " + n
	case p != "":
		return "belongs after " + p + " (end of the run)"
	case n != "":
		return "belongs before " + n + " (start of the run)"
	}
	return ""
}

func orCode(call, code string) string {
	if call != "" {
		return call
	}
	return code
}

func dash(a, b string) string {
	if b == "" {
		return a
	}
	return a + " — " + b
}

// headline says what an outcome asks of the operator, with where the item
// belongs when that is known.
func headline(o reconcile.Outcome, d reconcile.Detail) string {
	switch o {
	case reconcile.OutOfOrder:
		return dash("Misshelved", between(d.Prev, d.PrevCall, d.Next, d.NextCall))
	case reconcile.WrongLocation:
		return dash("Belongs somewhere else", d.Home)
	case reconcile.Foreign:
		c := d.Cart
		if c == "" {
			c = d.Home
		} else {
			c = "belongs in " + c
		}
		return dash("Other cart", c)
	case reconcile.Invalid:
		p := d.Problem
		if p == "" {
			p = "rescan it or set it aside"
		}
		return dash("Not a valid item barcode", p)
	case reconcile.Unknown:
		if d.Problem != "" {
			return dash("Not in the catalog", d.Problem)
		}
	case reconcile.CheckedOutOnShelf:
		return "Checked out, but on the shelf — set it aside for check-in"
	}
	return reconcile.Meaning(o)
}

func itemLine(title, call, code string) string {
	parts := make([]string, 0, 3)
	for _, p := range []string{title, call, code} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " · ")
}

func notes(o reconcile.Outcome, f reconcile.Flags, d reconcile.Detail) []string {
	var out []string
	for _, x := range f {
		switch reconcile.Outcome(x) {
		case reconcile.OutOfOrder:
			out = append(out, dash("Also misshelved", between(d.Prev, d.PrevCall, d.Next, d.NextCall)))
		case reconcile.WrongLocation:
			out = append(out, dash("Also belongs somewhere else", d.Home))
		case reconcile.Foreign:
			out = append(out, dash("Also from another cart", d.Cart))
		default:
			switch x {
			case "patron_card":
				out = append(out, "This is a patron card")
			case "isbn":
				out = append(out, "This is an ISBN, not the library barcode")
			case reconcile.FlagSwap:
				out = append(out, d.Swap)
			case reconcile.FlagPull:
				// the badge (ReadView.Pull) says it
			default:
				if _, ok := labels[reconcile.Outcome(x)]; ok {
					out = append(out, "Also: "+reconcile.Meaning(reconcile.Outcome(x)))
				} else {
					out = append(out, x)
				}
			}
		}
	}
	if d.Status != "" && o != reconcile.Duplicate {
		out = append(out, "Status in the catalog: "+strings.ReplaceAll(d.Status, "_", " "))
	}
	return out
}

func viewOf(r *engine.Result) ReadView {
	code := r.Barcode
	if code == "" {
		code = r.Code
	}
	return ReadView{ID: r.ReadID, At: r.At.Local().Format("15:04:05"), Device: r.Device, Code: r.Code, Barcode: r.Barcode,
		Title: r.Title, CallNumber: r.CallNumber, Outcome: string(r.Outcome), Label: label(string(r.Outcome)),
		Headline: headline(r.Outcome, r.Detail), Item: itemLine(r.Title, r.CallNumber, code),
		Notes: notes(r.Outcome, r.Flags, r.Detail), Pull: pullOf(r)}
}

// pullOf is the badge of a read of an item on a pull list, or "".
func pullOf(r *engine.Result) string {
	if !r.Flags.Has(reconcile.FlagPull) {
		return ""
	}
	return r.Detail.Pull
}

func retroView(rt engine.Retro) RetroView {
	return RetroView{Barcode: rt.Barcode, Outcome: string(reconcile.OutOfOrder), Label: label(string(reconcile.OutOfOrder)),
		Headline: dash("Misshelved", between(rt.Prev, rt.PrevCall, rt.Next, rt.NextCall)),
		Item:     itemLine(rt.Title, rt.CallNumber, rt.Barcode)}
}

// resultOf turns a journal row back into the result it was, so the page
// and the live stream share one code path.
func resultOf(x *catalog.Index, r *store.ReadRow) *engine.Result {
	res := &engine.Result{ReadID: r.ID, SessionID: r.SessionID, InventoryID: r.InventoryID, At: r.At, Device: r.Device,
		Code: r.Code, Barcode: r.Barcode, Outcome: reconcile.Outcome(r.Outcome), Flags: reconcile.ParseFlags(r.Flags)}
	if r.Detail != "" {
		_ = json.Unmarshal([]byte(r.Detail), &res.Detail)
	}
	res.Meaning = reconcile.Meaning(res.Outcome)
	if r.Barcode != "" {
		if it, ok := x.Get(r.Barcode); ok {
			res.Title, res.CallNumber = it.Title, it.CallNumber
		}
	}
	return res
}

// Count is one outcome counter.
type Count struct {
	Outcome string `json:"outcome"`
	Label   string `json:"label"`
	N       int    `json:"n"`
}

// Progress is how much of the scope has been seen.
type Progress struct {
	Seen     int     `json:"seen"`
	Expected int     `json:"expected"`
	Percent  float64 `json:"percent"`
	Text     string  `json:"text"`
}

func progressOf(seen, expected int) Progress {
	p := Progress{Seen: seen, Expected: expected}
	if expected > 0 {
		p.Percent = float64(int(1000*float64(seen)/float64(expected))) / 10
	}
	p.Text = fmt.Sprintf("%s of %s seen (%s)", thousands(seen), thousands(expected), report.Percent(seen, expected))
	return p
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// MissingRow is one item of the live missing list.
type MissingRow struct {
	Barcode    string `json:"barcode"`
	Title      string `json:"title"`
	CallNumber string `json:"call_number"`
	Location   string `json:"location"`
}

// MissingView is the live missing list of a shelf session: the items of
// the stretch already walked that were not seen, in shelf order.
type MissingView struct {
	Heading string       `json:"heading"`
	Items   []MissingRow `json:"items"`
	Total   int          `json:"total"` // in the list, before capping
	More    int          `json:"more"`  // not shown
	Whole   int          `json:"whole"` // not seen in the whole inventory
	Text    string       `json:"text"`
}

// CartCell is one expected device of a cart.
type CartCell struct {
	Barcode string `json:"barcode"`
	Label   string `json:"label"` // asset tag
	Title   string `json:"title"`
	State   string `json:"state"` // present | waiting | skipped
	Note    string `json:"note,omitempty"`
}

// CartView is the cart check screen's state.
type CartView struct {
	Cart     string       `json:"cart"`
	Cells    []CartCell   `json:"cells"`
	Present  int          `json:"present"`
	Expected int          `json:"expected"`
	Complete bool         `json:"complete"`
	Waiting  []string     `json:"waiting"` // labels of expected devices not read yet
	Foreign  []ForeignRow `json:"foreign"`
	Text     string       `json:"text"`
}

// ForeignRow is a device read in a cart it does not belong to.
type ForeignRow struct {
	Barcode string `json:"barcode"`
	Item    string `json:"item"`
	Cart    string `json:"cart"` // where it belongs
}

// tracker is the state of one session's screen. It is built by replaying
// the journal through apply, and a live stream keeps applying committed
// results to its own copy, so a reload and a live page agree.
type tracker struct {
	x       *catalog.Index
	sess    *store.Session
	inv     *store.Inventory
	feedMax int

	counts   map[string]int
	first    map[string]string // barcode → primary outcome of its first sighting here
	feed     []ReadView        // newest first
	last     *ReadView
	progress Progress
	lastID   int64
	minKey   string
	maxKey   string
	minCall  string
	maxCall  string
	stretch  reconcile.Stretch // what the walk has passed, for the missing list

	cart      *CartView
	cartIdx   map[string]int
	foreignOf map[string]bool
	skip      map[catalog.Status]bool
}

func newTracker(x *catalog.Index, sess *store.Session, inv *store.Inventory, feedMax int) *tracker {
	t := &tracker{x: x, sess: sess, inv: inv, feedMax: feedMax, counts: map[string]int{}, first: map[string]string{}}
	if sess.Kind == store.SessionCart {
		t.skip = map[catalog.Status]bool{}
		for _, st := range inv.Scope.SkipStatuses {
			t.skip[st] = true
		}
		t.cart = &CartView{Cart: sess.Cart}
		t.cartIdx = map[string]int{}
		t.foreignOf = map[string]bool{}
		members := x.Container(sess.Cart)
		sort.Slice(members, func(a, b int) bool { return members[a].Barcode < members[b].Barcode })
		for _, m := range members {
			lbl := m.AssetTag
			if lbl == "" {
				lbl = m.Barcode
			}
			c := CartCell{Barcode: m.Barcode, Label: lbl, Title: m.Title, State: "waiting"}
			if t.skip[m.Status] {
				c.State, c.Note = "skipped", "not expected: "+strings.ReplaceAll(string(m.Status), "_", " ")
			}
			t.cartIdx[m.Barcode] = len(t.cart.Cells)
			t.cart.Cells = append(t.cart.Cells, c)
		}
		t.cartSums()
	}
	return t
}

// seenElsewhere lights the cells of devices an earlier session of the
// inventory saw: they are not missing.
func (t *tracker) seenElsewhere(seen map[string]int64) {
	if t.cart == nil {
		return
	}
	for bc, sid := range seen {
		if i, ok := t.cartIdx[bc]; ok && sid != t.sess.ID && t.cart.Cells[i].State != "present" {
			t.cart.Cells[i].State, t.cart.Cells[i].Note = "present", fmt.Sprintf("seen in session %d", sid)
		}
	}
	t.cartSums()
}

func (t *tracker) cartSums() {
	c := t.cart
	c.Present, c.Expected, c.Waiting = 0, 0, c.Waiting[:0]
	for _, cell := range c.Cells {
		switch cell.State {
		case "present":
			c.Present++
			c.Expected++
		case "waiting":
			c.Expected++
			c.Waiting = append(c.Waiting, cell.Label)
		}
	}
	c.Complete = c.Expected > 0 && c.Present == c.Expected
	switch {
	case c.Expected == 0:
		c.Text = "No devices are expected in " + c.Cart
	case c.Complete:
		c.Text = fmt.Sprintf("Cart complete — all %d devices present", c.Expected)
	default:
		c.Text = fmt.Sprintf("%d of %d devices present", c.Present, c.Expected)
	}
	if c.Waiting == nil {
		c.Waiting = []string{}
	}
	if c.Foreign == nil {
		c.Foreign = []ForeignRow{}
	}
}

// ReadEvent is what the live stream sends for each committed read.
type ReadEvent struct {
	Read     ReadView    `json:"read"`
	Retro    []RetroView `json:"retro,omitempty"`
	Counts   []Count     `json:"counts"`
	Progress *Progress   `json:"progress,omitempty"`
	Cart     *CartView   `json:"cart,omitempty"`
}

// apply adds one committed result of this session.
func (t *tracker) apply(r *engine.Result) ReadEvent {
	rv := viewOf(r)
	t.lastID = max(t.lastID, r.ReadID)
	t.counts[rv.Outcome]++
	t.last = &rv
	t.feed = append([]ReadView{rv}, t.feed...)
	if len(t.feed) > t.feedMax {
		t.feed = t.feed[:t.feedMax]
	}
	if r.Expected > 0 {
		p := progressOf(r.Seen, r.Expected)
		t.progress = p
	}
	if r.Barcode != "" && r.Outcome != reconcile.Duplicate {
		if _, ok := t.first[r.Barcode]; !ok {
			t.first[r.Barcode] = rv.Outcome
			if r.Outcome != reconcile.WrongLocation && !r.Flags.Has(string(reconcile.WrongLocation)) && r.Outcome != reconcile.Foreign {
				t.walked(r.Barcode, r.CallNumber, r.Outcome)
			}
		}
	}
	ev := ReadEvent{Read: rv}
	for _, rt := range r.Retro {
		if v, ok := t.retro(rt); ok {
			ev.Retro = append(ev.Retro, v)
		}
	}
	if t.cart != nil && r.Barcode != "" {
		if i, ok := t.cartIdx[r.Barcode]; ok && r.Outcome != reconcile.Foreign && !r.Flags.Has(string(reconcile.Foreign)) {
			if t.cart.Cells[i].State != "present" {
				t.cart.Cells[i].State, t.cart.Cells[i].Note = "present", ""
			}
		} else if (r.Outcome == reconcile.Foreign || r.Flags.Has(string(reconcile.Foreign))) && !t.foreignOf[r.Barcode] {
			t.foreignOf[r.Barcode] = true
			home := r.Detail.Cart
			if home == "" {
				home = "none (not a cart device)"
			}
			t.cart.Foreign = append(t.cart.Foreign, ForeignRow{Barcode: r.Barcode, Item: rv.Item, Cart: home})
		}
		t.cartSums()
		ev.Cart = t.cart
	}
	ev.Counts = t.countList()
	if t.progress.Expected > 0 {
		p := t.progress
		ev.Progress = &p
	}
	return ev
}

// retro marks an earlier first sighting as out of order.
func (t *tracker) retro(rt engine.Retro) (RetroView, bool) {
	v := retroView(rt)
	t.stretch.Out(t.x.SortKeyOf(rt.Barcode))
	if t.first[rt.Barcode] != string(reconcile.OK) {
		return v, false // its own outcome says more; keep it
	}
	t.first[rt.Barcode] = v.Outcome
	t.counts[string(reconcile.OK)]--
	t.counts[v.Outcome]++
	for i := range t.feed {
		if t.feed[i].Barcode == rt.Barcode && t.feed[i].Outcome == string(reconcile.OK) {
			t.feed[i].Outcome, t.feed[i].Label, t.feed[i].Headline = v.Outcome, v.Label, v.Headline
		}
	}
	if t.last != nil && t.last.Barcode == rt.Barcode && t.last.Outcome == string(reconcile.OK) {
		l := *t.last
		l.Outcome, l.Label, l.Headline = v.Outcome, v.Label, v.Headline
		t.last = &l
	}
	return v, true
}

func (t *tracker) walked(bc, call string, o reconcile.Outcome) {
	k := t.x.SortKeyOf(bc)
	if k == "" {
		return
	}
	if o != reconcile.OutOfOrder {
		t.stretch.Add(k)
	}
	if t.minKey == "" || k < t.minKey {
		t.minKey, t.minCall = k, call
	}
	if k > t.maxKey {
		t.maxKey, t.maxCall = k, call
	}
}

func (t *tracker) countList() []Count {
	legend := shelfLegend
	if t.sess.Kind == store.SessionCart {
		legend = cartLegend
	}
	out := make([]Count, 0, len(legend))
	for _, o := range legend {
		out = append(out, Count{Outcome: string(o), Label: label(string(o)), N: t.counts[string(o)]})
	}
	return out
}

// replay builds the tracker from the session's journal.
func (t *tracker) replay(ctx context.Context, db *store.DB) error {
	var shelf *reconcile.Shelf
	if t.sess.Kind == store.SessionShelf && t.inv.Policy.ShelfOrder {
		shelf = reconcile.NewShelf()
	}
	seenHere := map[string]bool{}
	err := db.Reads(ctx, t.sess.InventoryID, t.sess.ID, func(row *store.ReadRow) error {
		if row.Undone {
			return nil
		}
		r := resultOf(t.x, row)
		t.apply(r)
		if shelf != nil && r.Barcode != "" && !seenHere[r.Barcode] && inShelfSequence(r) {
			seenHere[r.Barcode] = true
			shelf.Add(r.Barcode, t.x.SortKeyOf(r.Barcode))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if shelf != nil {
		call := func(bc string) string {
			if bc == "" {
				return ""
			}
			it, _ := t.x.Get(bc)
			return it.CallNumber
		}
		for _, m := range shelf.Analyze() {
			if !m.Certain {
				continue
			}
			it, _ := t.x.Get(m.ID)
			t.retro(engine.Retro{Barcode: m.ID, Title: it.Title, CallNumber: it.CallNumber, Prev: m.Prev, PrevCall: call(m.Prev),
				Next: m.Next, NextCall: call(m.Next)})
		}
	}
	return nil
}

// inShelfSequence mirrors the engine: first sightings of items at home in
// the scope take part in the shelf order.
func inShelfSequence(r *engine.Result) bool {
	switch r.Outcome {
	case reconcile.Invalid, reconcile.Unknown, reconcile.Duplicate, reconcile.WrongLocation:
		return false
	}
	return !r.Flags.Has(string(reconcile.WrongLocation))
}

// progressBackend is a backend whose engine keeps progress counts.
type progressBackend interface {
	InventoryProgress(context.Context, int64) (engine.Progress, error)
}

// engineProgress is the engine's progress when the backend keeps it
// (ok false otherwise). The engine counts from the scope as the inventory
// began, and counts books found that it did not expect (on loan…) apart.
func engineProgress(ctx context.Context, b Backend, inv *store.Inventory) (Progress, bool, error) {
	pb, ok := b.(progressBackend)
	if !ok {
		return Progress{}, false, nil
	}
	ip, err := pb.InventoryProgress(ctx, inv.ID)
	if err != nil {
		return Progress{}, true, err
	}
	p := progressOf(ip.Seen, ip.Expected)
	if ip.Also > 0 {
		p.Text += fmt.Sprintf("; also found: %s not expected (on loan, lost…)", thousands(ip.Also))
	}
	return p, true, nil
}

// progressFor is an inventory's progress, without building its missing
// list when the engine keeps the counts.
func progressFor(ctx context.Context, b Backend, inv *store.Inventory) (Progress, error) {
	if p, ok, err := engineProgress(ctx, b, inv); ok || err != nil {
		return p, err
	}
	_, _, p, err := missingAndProgress(ctx, b, inv)
	return p, err
}

// missingAndProgress computes the inventory's missing list (shelf order)
// and progress from the store, the way the engine counts them.
func missingAndProgress(ctx context.Context, b Backend, inv *store.Inventory) ([]engine.MissingItem, map[string]int64, Progress, error) {
	ms, err := b.Missing(ctx, inv.ID)
	if err != nil {
		return nil, nil, Progress{}, err
	}
	seen, err := b.Store().Seen(ctx, inv.ID)
	if err != nil {
		return nil, nil, Progress{}, err
	}
	if p, ok, err := engineProgress(ctx, b, inv); ok || err != nil {
		return ms, seen, p, err
	}
	x := b.Catalog()
	home := 0
	for bc := range seen {
		if it, ok := x.Get(bc); ok && inv.Scope.Home(&it) {
			home++
		}
	}
	return ms, seen, progressOf(home, home+len(ms)), nil
}

// missingWindow picks, from the missing list in shelf order, the items in
// the stretch the session has walked; before the first read, the start of
// the list.
func (t *tracker) missingWindow(ms []engine.MissingItem, maxRows int) MissingView {
	v := MissingView{Whole: len(ms), Items: []MissingRow{}}
	lo, hi := 0, len(ms)
	if t.maxKey == "" {
		v.Heading = "Still to find, in shelf order"
	} else {
		// Only call numbers the walk has passed (see reconcile.Stretch).
		from, to := t.stretch.Bounds()
		key := func(i int) string { return t.x.SortKeyOf(ms[i].Barcode) }
		lo = sort.Search(len(ms), func(i int) bool { return key(i) >= from })
		hi = max(lo, sort.Search(len(ms), func(i int) bool { return key(i) >= to }))
		v.Heading = "Not seen in the stretch you walked"
		if t.minCall != "" && t.maxCall != "" {
			v.Heading += " (" + t.minCall + " to " + t.maxCall + ")"
		}
	}
	v.Total = hi - lo
	for i := lo; i < hi && len(v.Items) < maxRows; i++ {
		m := ms[i]
		v.Items = append(v.Items, MissingRow{Barcode: m.Barcode, Title: m.Title, CallNumber: m.CallNumber, Location: m.Location})
	}
	v.More = v.Total - len(v.Items)
	noun := "items"
	if v.Total == 1 {
		noun = "item"
	}
	v.Text = fmt.Sprintf("%s %s · %s not seen in the whole inventory", thousands(v.Total), noun, thousands(v.Whole))
	return v
}

// SessionView is everything a session's screen shows.
type SessionView struct {
	Session   *store.Session   `json:"session"`
	Inventory *store.Inventory `json:"inventory"`
	Open      bool             `json:"open"`
	Progress  Progress         `json:"progress"`
	Counts    []Count          `json:"counts"`
	Last      *ReadView        `json:"last,omitempty"`
	Feed      []ReadView       `json:"feed"`
	Missing   *MissingView     `json:"missing,omitempty"`
	Cart      *CartView        `json:"cart,omitempty"`
	LastID    int64            `json:"last_id"`
}

// load builds a session's tracker and view from the store.
func (s *Server) load(ctx context.Context, sessionID int64) (*tracker, *SessionView, error) {
	db := s.b.Store()
	sess, err := db.Session(ctx, sessionID)
	if err != nil {
		return nil, nil, err
	}
	inv, err := db.Inventory(ctx, sess.InventoryID)
	if err != nil {
		return nil, nil, err
	}
	t := newTracker(s.b.Catalog(), sess, inv, s.opts.Feed)
	if err := t.replay(ctx, db); err != nil {
		return nil, nil, err
	}
	ms, seen, p, err := missingAndProgress(ctx, s.b, inv)
	if err != nil {
		return nil, nil, err
	}
	t.progress = p
	t.seenElsewhere(seen)
	v := t.view()
	if t.cart == nil {
		mv := t.missingWindow(ms, s.opts.MissingMax)
		v.Missing = &mv
	}
	return t, v, nil
}

func (t *tracker) view() *SessionView {
	v := &SessionView{Session: t.sess, Inventory: t.inv, Open: t.sess.State == store.SessionOpen && t.inv.Open(), Progress: t.progress,
		Counts: t.countList(), Last: t.last, Feed: append([]ReadView{}, t.feed...), LastID: t.lastID}
	if t.cart != nil {
		c := *t.cart
		c.Cells = append([]CartCell(nil), t.cart.Cells...)
		c.Foreign = append([]ForeignRow{}, t.cart.Foreign...)
		c.Waiting = append([]string{}, t.cart.Waiting...)
		v.Cart = &c
	}
	return v
}
