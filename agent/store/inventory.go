package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/reconcile"
)

// Inventory is a campaign such as "Spring 2027 — Fiction": a scope and
// policies, many sessions, finalized once.
type Inventory struct {
	ID          int64            `json:"id"`
	Name        string           `json:"name"`
	Scope       catalog.Scope    `json:"scope"`
	Policy      reconcile.Policy `json:"policy"`
	CreatedAt   time.Time        `json:"created_at"`
	FinalizedAt time.Time        `json:"finalized_at,omitempty"`
}

// Open reports whether the inventory still takes reads.
func (inv *Inventory) Open() bool { return inv.FinalizedAt.IsZero() }

// SessionKind is what a session checks: a stretch of shelves, or one cart.
type SessionKind string

const (
	SessionShelf SessionKind = "shelf"
	SessionCart  SessionKind = "cart" // names its cart; finalized per cart
)

// SessionState is where a session is in its life. Only an open session
// takes reads; a paused one refuses them until resumed; ended is final.
type SessionState string

const (
	SessionOpen   SessionState = "open"
	SessionPaused SessionState = "paused"
	SessionEnded  SessionState = "ended"
)

// ParseSessionState returns s as a SessionState, or an error naming the
// states there are.
func ParseSessionState(s string) (SessionState, error) {
	switch st := SessionState(s); st {
	case SessionOpen, SessionPaused, SessionEnded:
		return st, nil
	}
	return "", fmt.Errorf("session state %q: want open, paused or ended", s)
}

// ParseSessionKind returns s as a SessionKind ("" is a shelf session), or
// an error naming the kinds there are.
func ParseSessionKind(s string) (SessionKind, error) {
	switch k := SessionKind(s); k {
	case "":
		return SessionShelf, nil
	case SessionShelf, SessionCart:
		return k, nil
	}
	return "", fmt.Errorf("session kind %q: want shelf or cart", s)
}

// Session is one stretch of scanning: one operator, one device, one day.
type Session struct {
	ID          int64        `json:"id"`
	InventoryID int64        `json:"inventory_id"`
	Kind        SessionKind  `json:"kind"`
	Cart        string       `json:"cart,omitempty"`
	Operator    string       `json:"operator,omitempty"`
	Device      string       `json:"device,omitempty"`
	State       SessionState `json:"state"`
	StartedAt   time.Time    `json:"started_at"`
	EndedAt     time.Time    `json:"ended_at,omitempty"`
}

// CreateInventory stores a new inventory, with its view of the scope as it
// begins: each item at home in the scope, its status then, and whether the
// scope expects it on the shelf. Expected counts and progress are computed
// from that view, so they never move with statuses the inventory itself sets
// (a found book's lost status cleared, missing books marked at finalize).
func (db *DB) CreateInventory(ctx context.Context, name string, scope catalog.Scope, pol reconcile.Policy) (*Inventory, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, errors.New("an inventory needs a name, such as \"Spring 2027 — Fiction\"")
	}
	if err := scope.Validate(); err != nil {
		return nil, err
	}
	sj, _ := json.Marshal(scope)
	pj, _ := json.Marshal(pol)
	at := time.Now().UTC()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("create inventory: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "INSERT INTO inventories (name, scope, policy, created_at) VALUES (?,?,?,?)",
		name, string(sj), string(pj), at.Format(time.RFC3339Nano))
	if err != nil {
		if IsConstraint(err) {
			return nil, fmt.Errorf("an inventory named %q exists already: pick another name, or resume it with `tally session start`", name)
		}
		return nil, fmt.Errorf("create inventory: %w", err)
	}
	id, _ := res.LastInsertId()
	if err := snapshotScope(ctx, tx, id, &scope); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("create inventory: %w", err)
	}
	return &Inventory{ID: id, Name: name, Scope: scope, Policy: pol, CreatedAt: at}, nil
}

// snapshotScope records the items at home in the scope as they are now.
func snapshotScope(ctx context.Context, tx *sql.Tx, invID int64, sc *catalog.Scope) error {
	rows, err := tx.QueryContext(ctx, "SELECT "+itemCols+" FROM items")
	if err != nil {
		return fmt.Errorf("create inventory: read items: %w", err)
	}
	type row struct {
		bc, status string
		expected   bool
	}
	var home []row
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("create inventory: read items: %w", err)
		}
		if sc.Home(&it) {
			home = append(home, row{it.Barcode, string(it.Status), sc.Expects(&it)})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("create inventory: read items: %w", err)
	}
	ins, err := tx.PrepareContext(ctx, "INSERT INTO inventory_items (inventory_id, barcode, status, expected) VALUES (?,?,?,?)")
	if err != nil {
		return fmt.Errorf("create inventory: %w", err)
	}
	defer ins.Close()
	for _, r := range home {
		if _, err := ins.ExecContext(ctx, invID, r.bc, r.status, r.expected); err != nil {
			return fmt.Errorf("create inventory: %w", err)
		}
	}
	return nil
}

// StartItem is an item as an inventory found it when it began.
type StartItem struct {
	Status   catalog.Status
	Expected bool
}

// InventoryStart returns the inventory's view of its scope when it began:
// each item then at home in it. Empty for inventories made before tally kept
// this view.
func (db *DB) InventoryStart(ctx context.Context, invID int64) (map[string]StartItem, error) {
	rows, err := db.SQL.QueryContext(ctx, "SELECT barcode, status, expected FROM inventory_items WHERE inventory_id = ?", invID)
	if err != nil {
		return nil, fmt.Errorf("inventory %d: read its scope: %w", invID, err)
	}
	defer rows.Close()
	out := map[string]StartItem{}
	for rows.Next() {
		var bc, st string
		var exp bool
		if err := rows.Scan(&bc, &st, &exp); err != nil {
			return nil, fmt.Errorf("inventory %d: read its scope: %w", invID, err)
		}
		out[bc] = StartItem{Status: catalog.Status(st), Expected: exp}
	}
	return out, rows.Err()
}

func scanInventory(sc interface{ Scan(...any) error }) (*Inventory, error) {
	var inv Inventory
	var sj, pj, created string
	var fin sql.NullString
	if err := sc.Scan(&inv.ID, &inv.Name, &sj, &pj, &created, &fin); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(sj), &inv.Scope); err != nil {
		return nil, fmt.Errorf("inventory %d: scope: %w", inv.ID, err)
	}
	if err := json.Unmarshal([]byte(pj), &inv.Policy); err != nil {
		return nil, fmt.Errorf("inventory %d: policy: %w", inv.ID, err)
	}
	inv.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
	if fin.Valid {
		inv.FinalizedAt, _ = time.Parse(time.RFC3339Nano, fin.String)
	}
	return &inv, nil
}

const invCols = "id, name, scope, policy, created_at, finalized_at"

// Inventory returns one inventory by id.
func (db *DB) Inventory(ctx context.Context, id int64) (*Inventory, error) {
	inv, err := scanInventory(db.SQL.QueryRowContext(ctx, "SELECT "+invCols+" FROM inventories WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("inventory %d: %w (list them with `tally inventory list`)", id, ErrNotFound)
	}
	return inv, err
}

// Inventories lists all inventories, newest first.
func (db *DB) Inventories(ctx context.Context) ([]*Inventory, error) {
	rows, err := db.SQL.QueryContext(ctx, "SELECT "+invCols+" FROM inventories ORDER BY id DESC")
	if err != nil {
		return nil, fmt.Errorf("list inventories: %w", err)
	}
	defer rows.Close()
	var out []*Inventory
	for rows.Next() {
		inv, err := scanInventory(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, rows.Err()
}

// StartSession opens a session of an open inventory; a cart session names
// the cart. A running agent starts sessions through its engine
// (engine.Engine.StartSession).
func (db *DB) StartSession(ctx context.Context, invID int64, kind SessionKind, cart, operator, device string) (*Session, error) {
	inv, err := db.Inventory(ctx, invID)
	if err != nil {
		return nil, err
	}
	if !inv.Open() {
		return nil, fmt.Errorf("inventory %d (%s) was finalized on %s: create a new inventory", inv.ID, inv.Name, inv.FinalizedAt.Format("2006-01-02"))
	}
	kind, err = ParseSessionKind(string(kind))
	if err != nil {
		return nil, err
	}
	if kind == SessionCart && strings.TrimSpace(cart) == "" {
		return nil, errors.New("a cart session needs the cart's name (--cart)")
	}
	at := time.Now().UTC()
	res, err := db.w.ExecContext(ctx, `INSERT INTO sessions (inventory_id, kind, cart, operator, device, state, started_at)
		VALUES (?,?,?,?,?, 'open', ?)`, invID, kind, strings.TrimSpace(cart), operator, device, at.Format(time.RFC3339Nano))
	if err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	id, _ := res.LastInsertId()
	return &Session{ID: id, InventoryID: invID, Kind: kind, Cart: cart, Operator: operator, Device: device, State: SessionOpen, StartedAt: at}, nil
}

const sessCols = "id, inventory_id, kind, cart, operator, device, state, started_at, ended_at"

func scanSession(sc interface{ Scan(...any) error }) (*Session, error) {
	var s Session
	var started string
	var ended sql.NullString
	if err := sc.Scan(&s.ID, &s.InventoryID, &s.Kind, &s.Cart, &s.Operator, &s.Device, &s.State, &started, &ended); err != nil {
		return nil, err
	}
	s.StartedAt, _ = time.Parse(time.RFC3339Nano, started)
	if ended.Valid {
		s.EndedAt, _ = time.Parse(time.RFC3339Nano, ended.String)
	}
	return &s, nil
}

// Session returns one session.
func (db *DB) Session(ctx context.Context, id int64) (*Session, error) {
	s, err := scanSession(db.SQL.QueryRowContext(ctx, "SELECT "+sessCols+" FROM sessions WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("session %d: %w (see `tally inventory show ID` for its sessions)", id, ErrNotFound)
	}
	return s, err
}

// Sessions lists the sessions of an inventory (all inventories when invID is 0).
func (db *DB) Sessions(ctx context.Context, invID int64) ([]*Session, error) {
	q := "SELECT " + sessCols + " FROM sessions"
	var args []any
	if invID != 0 {
		q += " WHERE inventory_id = ?"
		args = append(args, invID)
	}
	rows, err := db.SQL.QueryContext(ctx, q+" ORDER BY id", args...)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []*Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// SetSessionState moves a session between open, paused and ended. An ended
// session cannot be reopened: start a new one (the inventory keeps counting
// across sessions). A running agent changes states through its engine
// (engine.Engine.SetSessionState), which caches them.
func (db *DB) SetSessionState(ctx context.Context, id int64, state SessionState) (*Session, error) {
	s, err := db.Session(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := ParseSessionState(string(state)); err != nil {
		return nil, err
	}
	switch {
	case s.State == SessionEnded:
		return nil, fmt.Errorf("session %d has ended: start a new session of inventory %d", id, s.InventoryID)
	case s.State == state:
		return s, nil
	}
	var ended any
	if state == SessionEnded {
		ended = now()
	}
	if _, err := db.w.ExecContext(ctx, "UPDATE sessions SET state = ?, ended_at = ? WHERE id = ?", state, ended, id); err != nil {
		return nil, fmt.Errorf("session %d: %w", id, err)
	}
	return db.Session(ctx, id)
}
