// Package engine decides reads: Engine turns one read of a session into a
// committed outcome (journal row, catalog effects, outbox events) and keeps
// each open inventory's progress; Devices feeds it from the readers and
// scanners, Controller acts on control barcodes, Hub tells subscribers of
// each committed result. It knows nothing of configuration or HTTP: package
// agent builds it and runs it.
package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/store"
	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/barcode"
	"github.com/tally-inventory/tally/sync/outbox"
)

// Engine decides and records reads. All decisions happen on the store's
// writer goroutine, one read at a time, so two sessions of one inventory
// can never both count the same book first; the in-memory state a decision
// changes is undone if its transaction does not commit.
type Engine struct {
	DB      *store.DB
	Index   *catalog.Index
	Barcode barcode.Opts
	Now     func() time.Time

	w *store.Writer
	// catalogRev is the store's catalog revision the index matches; the
	// writer brings the index up to date before each batch (syncCatalog).
	catalogRev atomic.Int64
	batch      batchWrites // the writer goroutine's

	mu       sync.Mutex // guards invs and sessions for readers outside the writer
	invs     map[int64]*invState
	sessions map[int64]*sessState

	// OnResult, when set, is called (on the writer goroutine, after commit)
	// with every committed result: feedback, UI events and metrics hang here.
	OnResult func(*Result)
	// OnOutbox, when set, is called after a commit that queued outbox rows
	// (a read's upstream effects, a finalize's missing items): the runtime
	// wakes the relay (relay.Kick) instead of leaving the rows to its next
	// poll.
	OnOutbox func()
	// OnCatalog, when set, is told when the index took in a catalog change
	// another process (an import) committed.
	OnCatalog func(changed, removed int)
	// OnCommitError, when set, is told of every read the store could not
	// commit, with store.ErrorReason's reason: a failure is never silent.
	OnCommitError func(rd drivers.Read, reason string, err error)
}

type invState struct {
	inv      *store.Inventory
	seen     map[string]int64           // barcode → session of first sighting
	start    map[string]store.StartItem // the scope as the inventory began
	expected int                        // items the scope expects
	seenIn   int                        // of those, seen
	also     int                        // items at home seen that were not expected (on loan, lost… found on the shelf)
	outside  int                        // known items seen that belong elsewhere
}

func (st *invState) view() scopeView {
	return scopeView{sc: &st.inv.Scope, start: st.start, seen: st.seen}
}

type sessState struct {
	s     *store.Session
	inv   *invState
	shelf *reconcile.Shelf
}

// Result is the committed meaning of one read.
type Result struct {
	ReadID      int64             `json:"read_id"`
	SessionID   int64             `json:"session_id"`
	InventoryID int64             `json:"inventory_id"`
	At          time.Time         `json:"at"`
	Device      string            `json:"device,omitempty"`
	Code        string            `json:"code"`
	Barcode     string            `json:"barcode,omitempty"`
	Outcome     reconcile.Outcome `json:"outcome"`
	Flags       reconcile.Flags   `json:"flags"`
	Detail      reconcile.Detail  `json:"detail"`
	Meaning     string            `json:"meaning"`
	Title       string            `json:"title,omitempty"`
	CallNumber  string            `json:"call_number,omitempty"`
	Retro       []Retro           `json:"retro,omitempty"` // earlier reads this one proved out of order
	Seen        int               `json:"seen"`            // expected items seen so far in the inventory
	Expected    int               `json:"expected"`
	Also        int               `json:"also_seen,omitempty"` // found at home but not expected (on loan, lost…), counted apart
	Kind        drivers.Kind      `json:"device_kind,omitempty"`
	// Decide is how long the decision took (lookup, rules, shelf order),
	// without the store: the reconcile latency metric.
	Decide time.Duration `json:"-"`
	item   *catalog.Hit
}

// Retro is an earlier read of the session that a later read proved out of
// shelf order ("1 2 3 10 4 5": 10 is certain only at 5).
type Retro struct {
	Barcode    string `json:"barcode"`
	Title      string `json:"title,omitempty"`
	CallNumber string `json:"call_number,omitempty"`
	Prev       string `json:"prev,omitempty"`
	PrevCall   string `json:"prev_call,omitempty"`
	Next       string `json:"next,omitempty"`
	NextCall   string `json:"next_call,omitempty"`
}

// NewEngine loads the index and the open inventories' state and starts the
// writer.
func NewEngine(ctx context.Context, db *store.DB) (*Engine, error) {
	// The revision first: an import committed while the index loads is
	// then applied again at the first batch, which is harmless.
	rev, err := db.CatalogRev(ctx)
	if err != nil {
		return nil, err
	}
	x, err := db.LoadIndex(ctx)
	if err != nil {
		return nil, err
	}
	e := &Engine{DB: db, Index: x, Barcode: barcode.DefaultOpts, Now: time.Now,
		invs: map[int64]*invState{}, sessions: map[int64]*sessState{}}
	e.catalogRev.Store(rev)
	e.batch.seen = map[time.Time][]string{}
	if e.batch.pulls, err = db.Pulls(ctx); err != nil {
		return nil, err
	}
	e.w = db.NewWriterWith(store.WriterOpts{MaxBatch: 1024, Before: e.beginBatch, Flush: e.flushBatch})
	return e, nil
}

// syncCatalog runs on the writer goroutine at the start of every
// transaction: when an import (possibly by another process) changed the
// catalog since the index was built, the changed items are reloaded and
// the loaded inventories recounted, before any read is decided.
func (e *Engine) syncCatalog(tx *sql.Tx) error {
	tw := e.DB.Tx(tx)
	rev, err := tw.CatalogRev()
	if err != nil {
		return err
	}
	since := e.catalogRev.Load()
	if rev == since {
		return nil
	}
	var changed []catalog.Keyed
	removed := 0
	err = tw.CatalogChanges(since, func(bc string) {
		if e.Index.Remove(bc) {
			removed++
		}
	}, func(k catalog.Keyed) { changed = append(changed, k) })
	if err != nil {
		return err
	}
	e.Index.PutBatch(changed)
	e.catalogRev.Store(rev)
	e.mu.Lock()
	for _, st := range e.invs {
		e.countProgress(st)
	}
	e.mu.Unlock()
	if e.OnCatalog != nil {
		e.OnCatalog(len(changed), removed)
	}
	return nil
}

// Import imports items into the store and the index (see store.DB.Import).
// When nothing else changed the catalog in between, the engine takes the
// import's revision as its own, so the next batch does not read back from
// the store the items it has just put in the index.
func (e *Engine) Import(ctx context.Context, file, format string, items []catalog.Item, replace bool, rejected int) (store.ImportResult, error) {
	prev := e.catalogRev.Load()
	res, err := e.DB.Import(ctx, e.Index, file, format, items, replace, rejected)
	if err == nil && res.Rev == prev+1 {
		e.catalogRev.CompareAndSwap(prev, res.Rev)
	}
	return res, err
}

// RefreshCatalog brings the index up to date with the store now, if an
// import changed the catalog; reads do it anyway before they are decided.
func (e *Engine) RefreshCatalog(ctx context.Context) error {
	rev, err := e.DB.CatalogRev(ctx)
	if err != nil || rev == e.catalogRev.Load() {
		return err
	}
	return e.w.Do(ctx, store.Func(func(*sql.Tx) error { return nil }))
}

// WatchCatalog refreshes the index whenever an import changed the catalog,
// checking every interval until ctx ends, so an idle agent's UI shows an
// import within seconds. Failures go to report and the watch goes on.
func (e *Engine) WatchCatalog(ctx context.Context, interval time.Duration, report func(error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if err := e.RefreshCatalog(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, store.ErrClosed) && report != nil {
				report(fmt.Errorf("reload the catalog: %w", err))
			}
		}
	}
}

// Writer exposes the group-commit writer (for metrics hooks).
func (e *Engine) Writer() *store.Writer { return e.w }

// Close drains in-flight reads and stops the writer.
func (e *Engine) Close() error { return e.w.Close() }

// inventory returns the loaded state of an inventory, loading it on first use.
func (e *Engine) inventory(ctx context.Context, id int64) (*invState, error) {
	e.mu.Lock()
	st, ok := e.invs[id]
	e.mu.Unlock()
	if ok {
		return st, nil
	}
	inv, err := e.DB.Inventory(ctx, id)
	if err != nil {
		return nil, err
	}
	seen, err := e.DB.Seen(ctx, id)
	if err != nil {
		return nil, err
	}
	start, err := e.DB.InventoryStart(ctx, id)
	if err != nil {
		return nil, err
	}
	st = &invState{inv: inv, seen: seen, start: start}
	e.countProgress(st)
	e.mu.Lock()
	defer e.mu.Unlock()
	if prev, ok := e.invs[id]; ok {
		return prev, nil
	}
	e.invs[id] = st
	return st, nil
}

// countProgress counts expected and seen items from the scope as the
// inventory began; items at home that it did not expect (a checked-out book
// on the shelf) are counted apart, so the expected count never grows as
// they turn up.
func (e *Engine) countProgress(st *invState) {
	st.expected, st.seenIn, st.also, st.outside = 0, 0, 0, 0
	v := st.view()
	e.Index.Each(func(_ catalog.Ref, it *catalog.Item) bool {
		_, seen := st.seen[it.Barcode]
		switch {
		case v.expects(it):
			st.expected++
			if seen {
				st.seenIn++
			}
		case !seen:
		case v.sc.Home(it):
			st.also++
		default:
			st.outside++
		}
		return true
	})
}

// session returns the loaded state of a session, rebuilding its shelf
// sequence from the journal on first use.
func (e *Engine) session(ctx context.Context, id int64) (*sessState, error) {
	e.mu.Lock()
	ss, ok := e.sessions[id]
	e.mu.Unlock()
	if ok {
		return ss, nil
	}
	s, err := e.DB.Session(ctx, id)
	if err != nil {
		return nil, err
	}
	inv, err := e.inventory(ctx, s.InventoryID)
	if err != nil {
		return nil, err
	}
	ss = &sessState{s: s, inv: inv}
	if s.Kind == store.SessionShelf && inv.inv.Policy.ShelfOrder {
		if ss.shelf, err = e.shelfFromJournal(ctx, s.InventoryID, s.ID); err != nil {
			return nil, err
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if prev, ok := e.sessions[id]; ok {
		return prev, nil
	}
	e.sessions[id] = ss
	return ss, nil
}

// inShelfSequence says whether a journaled read took part in the shelf
// order: first sightings of items at home in the scope, scanned or typed
// (an RFID wand reads in no particular order).
func inShelfSequence(r *store.ReadRow) bool {
	if r.Undone || r.Barcode == "" || r.DeviceKind == string(drivers.KindRFID) {
		return false
	}
	switch reconcile.Outcome(r.Outcome) {
	case reconcile.Invalid, reconcile.Unknown, reconcile.Duplicate, reconcile.WrongLocation:
		return false
	}
	return !reconcile.ParseFlags(r.Flags).Has(string(reconcile.WrongLocation))
}

// shelfFromJournal rebuilds a session's shelf sequence from its reads.
func (e *Engine) shelfFromJournal(ctx context.Context, invID, sessionID int64) (*reconcile.Shelf, error) {
	sh := reconcile.NewShelf()
	err := e.DB.Reads(ctx, invID, sessionID, func(r *store.ReadRow) error {
		if inShelfSequence(r) {
			sh.Add(r.Barcode, e.Index.SortKeyOf(r.Barcode))
		}
		return nil
	})
	return sh, err
}

// Progress is how far an open inventory is. Expected is fixed when the
// inventory begins; Also counts items at home that it did not expect but
// found (on loan, lost… on the shelf), apart from Seen.
type Progress struct {
	ID             int64
	Name           string
	Seen, Expected int
	Also           int
}

// Progress reports every open inventory's progress, loading any not yet
// loaded.
func (e *Engine) Progress(ctx context.Context) ([]Progress, error) {
	invs, err := e.DB.Inventories(ctx)
	if err != nil {
		return nil, err
	}
	var out []Progress
	for _, inv := range invs {
		if !inv.Open() {
			continue
		}
		st, err := e.inventory(ctx, inv.ID)
		if err != nil {
			return nil, err
		}
		e.mu.Lock()
		out = append(out, Progress{ID: inv.ID, Name: inv.Name, Seen: st.seenIn, Expected: st.expected, Also: st.also})
		e.mu.Unlock()
	}
	return out, nil
}

// InventoryProgress is one inventory's progress, open or finalized: counted
// from its scope as it began, so finalize marking the unseen missing does
// not turn "3 of 3818" into "3 of 3".
func (e *Engine) InventoryProgress(ctx context.Context, invID int64) (Progress, error) {
	st, err := e.inventory(ctx, invID)
	if err != nil {
		return Progress{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return Progress{ID: invID, Name: st.inv.Name, Seen: st.seenIn, Expected: st.expected, Also: st.also}, nil
}

// Forget drops cached state of a session or inventory. SetSessionState and
// Finalize call it; code that changes the store behind the engine's back
// (a test) must too.
func (e *Engine) Forget(sessionID, invID int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if sessionID != 0 {
		delete(e.sessions, sessionID)
	}
	if invID != 0 {
		delete(e.invs, invID)
		for id, ss := range e.sessions {
			if ss.s.InventoryID == invID {
				delete(e.sessions, id)
			}
		}
	}
}

// ErrSessionClosed is returned for reads into a session that is paused or ended.
var ErrSessionClosed = errors.New("session is not open")

// Submit decides and records one read in a session. It returns once the
// read is committed: a nil error means the read is durable and the result
// may be announced as accepted.
func (e *Engine) Submit(ctx context.Context, sessionID int64, rd drivers.Read) (*Result, error) {
	wait, err := e.SubmitAsync(ctx, sessionID, rd)
	if err != nil {
		return nil, err
	}
	return wait()
}

// SubmitAsync queues a read and returns a function that waits for its
// committed result. Reads queued by one goroutine are decided in the order
// queued — shelf order depends on it — while several can share a commit.
func (e *Engine) SubmitAsync(ctx context.Context, sessionID int64, rd drivers.Read) (func() (*Result, error), error) {
	ss, err := e.session(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	if ss.s.State != store.SessionOpen {
		return nil, fmt.Errorf("session %d is %s: %w", sessionID, ss.s.State, ErrSessionClosed) // each interface says what to do
	}
	if !ss.inv.inv.Open() {
		return nil, fmt.Errorf("inventory %d is finalized: %w", ss.inv.inv.ID, ErrSessionClosed)
	}
	if rd.Time.IsZero() {
		rd.Time = e.Now()
	}
	j := &readJob{e: e, ss: ss, rd: rd}
	done, err := e.w.Enqueue(ctx, j)
	if err != nil {
		return nil, err
	}
	return func() (*Result, error) {
		if err := <-done; err != nil {
			if e.OnCommitError != nil {
				e.OnCommitError(rd, store.ErrorReason(err), err)
			}
			return nil, fmt.Errorf("not recorded: %w", err)
		}
		return j.res, nil
	}, nil
}

// readJob is one read on the writer goroutine.
type readJob struct {
	e   *Engine
	ss  *sessState
	rd  drivers.Read
	res *Result
	// undo state
	addedSeen    bool
	addedShelf   bool
	inScope      bool
	also         bool
	outside      bool
	statusChange catalog.Status
	queued       bool // outbox rows written: OnOutbox after commit
}

func (j *readJob) Run(tx *sql.Tx) error {
	e, ss, rd := j.e, j.ss, j.rd
	inv := ss.inv
	code := rd.Code
	if rd.Kind != drivers.KindRFID {
		code = barcode.Normalize(code)
	}
	code = catalog.NormalizeID(code)
	start := time.Now()
	res := &Result{SessionID: ss.s.ID, InventoryID: inv.inv.ID, At: rd.Time, Device: rd.Device, Code: code, Kind: rd.Kind}
	j.res = res

	// What the rules need of the item, without building an Item: its
	// strings share the index's memory.
	var item *catalog.Hit
	var check reconcile.Check
	if h, ok := e.Index.Find(code); ok {
		item = &h
		check.Valid = true
	} else if rd.Kind == drivers.KindRFID {
		check.Valid = true // a tag's id has no check digit to fail
	} else {
		c := barcode.Check(code, e.Barcode)
		check = reconcile.Check{Valid: c.Valid, ISBN: c.Class == barcode.ClassISBN, Problem: c.Problem}
		if c.Class == barcode.ClassPatron {
			check.Valid, check.Patron = false, true
			check.Problem = "this is a patron card, not an item"
		}
	}
	seenBefore := false
	if item != nil {
		_, seenBefore = inv.seen[item.Barcode]
	}
	mode := reconcile.ShelfMode
	if ss.s.Kind == store.SessionCart {
		mode = reconcile.CartMode
	}
	r := reconcile.Evaluate(check, item, seenBefore, &inv.inv.Scope, mode, ss.s.Cart)

	// Shelf order: first sightings of items at home in the scope, in order.
	// An RFID wand reads a shelf in no particular order, so only scanned
	// and typed reads take part.
	if ss.shelf != nil && item != nil && !seenBefore && rd.Kind != drivers.KindRFID &&
		r.Outcome != reconcile.WrongLocation && !r.Flags.Has(string(reconcile.WrongLocation)) {
		key := item.SortKey
		flagged := ss.shelf.Add(item.Barcode, key)
		j.addedShelf = true
		last := ss.shelf.Len() - 1
		for _, p := range flagged {
			if p == last {
				r.Promote(reconcile.OutOfOrder)
				r.Detail.Prev, r.Detail.Next = ss.shelf.Neighbours(key)
				r.Detail.PrevCall, r.Detail.NextCall = e.callNumber(r.Detail.Prev), e.callNumber(r.Detail.Next)
				continue
			}
			bc := ss.shelf.ID(p)
			it, _ := e.Index.Get(bc)
			rt := Retro{Barcode: bc, Title: it.Title, CallNumber: it.CallNumber}
			rt.Prev, rt.Next = ss.shelf.Neighbours(e.Index.SortKeyOf(bc))
			rt.PrevCall, rt.NextCall = e.callNumber(rt.Prev), e.callNumber(rt.Next)
			res.Retro = append(res.Retro, rt)
		}
		e.swapped(ss.shelf, &r)
	}
	j.pulled(item, &r)
	res.Outcome, res.Flags, res.Detail = r.Outcome, r.Flags, r.Detail
	res.Meaning = reconcile.Meaning(r.Outcome)
	if item != nil {
		res.Barcode, res.Title, res.CallNumber, res.item = item.Barcode, item.Title, item.CallNumber, item
	}
	res.Decide = time.Since(start)
	detail, _ := json.Marshal(r.Detail)
	row := &store.ReadRow{SessionID: ss.s.ID, InventoryID: inv.inv.ID, At: rd.Time, Device: rd.Device,
		DeviceKind: string(rd.Kind), Raw: rd.Raw, Code: code, Barcode: res.Barcode, Outcome: string(r.Outcome),
		Flags: r.Flags.String(), Detail: string(detail), Operator: rd.Operator}
	// No statement of its own per read, and no savepoint (readJob is Lean):
	// the journal row — a first sighting flagged in it — the outbox rows,
	// last-seen date and status change go to the batch's end, which writes
	// each kind in one statement. Nothing below can fail after the row is
	// gathered, so a failure leaves the batch as it found it.
	effs, err := j.effects(item, seenBefore, r)
	if err != nil {
		j.undoShelf()
		return err
	}
	first := item != nil && !seenBefore
	b := &e.batch
	id, err := e.DB.Tx(tx).AddRead(&b.journal, row, first)
	if err != nil {
		j.undoShelf()
		return err
	}
	res.ReadID = id
	b.outbox = append(b.outbox, effs...)
	j.queued = len(effs) > 0
	if first {
		y, m, d := rd.Time.UTC().Date()
		day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		b.seen[day] = append(b.seen[day], item.Barcode)
		if j.statusChange != "" {
			b.status = append(b.status, statusChange{item.Barcode, j.statusChange})
		}
	}
	// In-memory state last, so a failure above leaves it untouched; under
	// e.mu, as progress, reports and a catalog refresh read it from other
	// goroutines.
	j.e.mu.Lock()
	defer j.e.mu.Unlock()
	if item != nil && !seenBefore {
		inv.seen[item.Barcode] = ss.s.ID
		j.addedSeen = true
		// As countProgress counts: the scope as the inventory began decides;
		// a checked-out book found on the shelf is counted apart.
		switch v := inv.view(); {
		case v.expectsHit(item):
			inv.seenIn++
			j.inScope = true
		case v.sc.HomeHit(item):
			inv.also++
			j.also = true
		default:
			inv.outside++
			j.outside = true
		}
	}
	res.Seen, res.Expected, res.Also = inv.seenIn, inv.expected, inv.also
	return nil
}

func (e *Engine) callNumber(barcode string) string {
	if barcode == "" {
		return ""
	}
	it, _ := e.Index.Get(barcode)
	return it.CallNumber
}

// effects are the upstream effects of a read (and, in j.statusChange, the
// status it changes), for the batch to write.
func (j *readJob) effects(item *catalog.Hit, seenBefore bool, r reconcile.Result) ([]store.NewOutbox, error) {
	inv, ss, rd := j.ss.inv.inv, j.ss, j.rd
	day := rd.Time.UTC()
	// What every sighting's event carries; each kind adds its own fields.
	base := outbox.Data{InventoryID: inv.ID, Inventory: inv.Name, SessionID: ss.s.ID,
		Date: day.Format(time.DateOnly), At: day.Format(time.RFC3339), Device: rd.Device}
	var out []store.NewOutbox
	add := func(bc string, kind outbox.Kind, d outbox.Data) error {
		row, err := store.NewEvent(inv.ID, bc, kind, d)
		if err != nil {
			return err
		}
		out = append(out, row)
		return nil
	}
	if item == nil {
		if r.Outcome == reconcile.Unknown {
			d := base
			d.Code = j.res.Code
			return out, add(d.Code, outbox.Unknown, d)
		}
		return nil, nil
	}
	if seenBefore {
		return nil, nil
	}
	bc := item.Barcode
	base.Barcode = bc
	type eff struct {
		kind outbox.Kind
		data outbox.Data
	}
	effs := []eff{{outbox.Seen, base}}
	with := func(kind outbox.Kind, set func(d *outbox.Data)) {
		d := base
		set(&d)
		effs = append(effs, eff{kind, d})
	}
	has := func(o reconcile.Outcome) bool { return r.Outcome == o || r.Flags.Has(string(o)) }
	if has(reconcile.Found) {
		with(outbox.Found, func(d *outbox.Data) { d.Was, d.ClearLost = string(item.Status), new(inv.Policy.ClearLost) })
		if inv.Policy.ClearLost {
			j.statusChange = catalog.StatusAvailable
		}
	}
	if has(reconcile.WrongLocation) {
		with(outbox.Misplaced, func(d *outbox.Data) {
			d.Home, d.Library, d.Location = item.HomeSummary(), item.Library, item.Location
		})
	}
	if has(reconcile.CheckedOutOnShelf) {
		with(outbox.CheckedOutOnShelf, func(d *outbox.Data) {
			d.CheckIn, d.DueDate = new(inv.Policy.CheckIn), item.DueDate().Format(time.DateOnly)
		})
		if inv.Policy.CheckIn {
			j.statusChange = catalog.StatusAvailable
		}
	}
	if has(reconcile.Foreign) {
		it, _ := j.e.Index.Get(item.Barcode) // a foreign read is rare: the side identifiers from the whole item
		with(outbox.CartForeign, func(d *outbox.Data) {
			d.Cart, d.HomeCart, d.AssetTag, d.Serial = ss.s.Cart, item.Container, it.AssetTag, it.Serial
		})
	}
	for _, f := range effs {
		if err := add(bc, f.kind, f.data); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Lean: a read runs without a savepoint (see Run).
func (*readJob) Lean() {}

func (j *readJob) undoShelf() {
	if j.addedShelf {
		j.ss.shelf.Undo()
		j.addedShelf = false
	}
}

func (j *readJob) Committed() {
	if j.addedShelf {
		j.ss.shelf.Settle()
	}
	if j.e.OnResult != nil && j.res != nil {
		j.e.OnResult(j.res)
	}
	if j.queued && j.e.OnOutbox != nil {
		j.e.OnOutbox()
	}
	if j.res == nil || j.res.item == nil || !j.addedSeen {
		return
	}
	j.e.Index.Saw(j.res.item.Barcode, j.rd.Time.UTC(), j.statusChange)
}

func (j *readJob) Aborted(error) {
	inv := j.ss.inv
	if j.addedSeen {
		j.e.mu.Lock()
		defer j.e.mu.Unlock()
		delete(inv.seen, j.res.item.Barcode)
		if j.inScope {
			inv.seenIn--
		}
		if j.also {
			inv.also--
		}
		if j.outside {
			inv.outside--
		}
	}
	j.undoShelf()
}
