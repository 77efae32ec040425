// Package outbox is the contract between the read engine, which writes an
// outbox row for every upstream effect of a read or a finalize, and the
// sinks the relay delivers those rows to: the kinds of event, the fields
// each kind carries, and the event as a sink (and a webhook receiver) sees
// it. Its JSON form is the webhook body documented in
// schema/webhook-event.schema.json.
//
// It imports nothing but the standard library, so both sides — the engine
// and the store in agent/, the relay and every sink in sync/ — share it
// and no import points up.
package outbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind is what happened to an item.
type Kind string

// The kinds of event, as written in the outbox and sent to sinks.
const (
	Seen              Kind = "seen"                 // read during an inventory (first time)
	Found             Kind = "found"                // read while the catalog had it lost, missing or withdrawn
	Missing           Kind = "missing"              // not read by the time the inventory was finalized
	Misplaced         Kind = "misplaced"            // read away from its home library or location
	CheckedOutOnShelf Kind = "checked_out_on_shelf" // read while the catalog had it on loan
	Unknown           Kind = "unknown"              // a code read that is not in the catalog
	CartMissing       Kind = "cart_missing"         // a cart's device not read when the cart was finalized
	CartForeign       Kind = "cart_foreign"         // a device read in a cart it does not belong to
)

// Kinds lists every kind, in the order of the webhook schema.
var Kinds = []Kind{Seen, Found, Missing, Misplaced, CheckedOutOnShelf, Unknown, CartMissing, CartForeign}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if k == v {
			return true
		}
	}
	return false
}

// ParseKind returns s as a Kind, or an error naming the kinds there are.
func ParseKind(s string) (Kind, error) {
	if k := Kind(s); k.Valid() {
		return k, nil
	}
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return "", fmt.Errorf("unknown event kind %q: this tally knows %s (a newer tally wrote it, or the outbox was edited)",
		s, strings.Join(names, ", "))
}

// MarshalText refuses a kind that is not one of Kinds, so an event of an
// unknown kind never reaches the wire.
func (k Kind) MarshalText() ([]byte, error) {
	if _, err := ParseKind(string(k)); err != nil {
		return nil, err
	}
	return []byte(k), nil
}

// UnmarshalText takes any well-formed kind name ([a-z_]+), known or not:
// a receiver built on Event keeps decoding bodies when a newer tally adds a
// kind, as the webhook schema asks receivers to ignore what they do not
// know. Row.Event and MarshalText still refuse kinds this tally does not
// know.
func (k *Kind) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		return errors.New("empty event kind")
	}
	for i, c := range b {
		if c != '_' && (c < 'a' || c > 'z') {
			return fmt.Errorf("event kind %q: byte %d (%q) is not a lower-case letter or _", b, i, c)
		}
	}
	*k = Kind(b)
	return nil
}

// Key is the idempotency key of an upstream effect: one per inventory,
// item and kind, so a rescan or a retry never makes a second upstream
// change.
func Key(inventoryID int64, barcode string, kind Kind) string {
	return fmt.Sprintf("inv%d/%s/%s", inventoryID, barcode, kind)
}

// Data is the payload of an event: the fields of every kind in one
// struct, each set only by the kinds it belongs to (see the comments and
// the schema's per-kind required fields). Fields a kind requires even when
// false or zero are pointers, so they are written for that kind and left
// out for the others. Times and dates are kept as written (RFC 3339 date-
// times, YYYY-MM-DD dates) so a sink can say which one it could not read.
type Data struct {
	InventoryID int64  `json:"inventory_id"`
	Inventory   string `json:"inventory"` // the inventory's name
	Barcode     string `json:"barcode,omitempty"`
	Date        string `json:"date"`                 // YYYY-MM-DD of the read (sightings) or of the finalize (missing)
	At          string `json:"at,omitempty"`         // sightings: time of the read, RFC 3339
	SessionID   int64  `json:"session_id,omitempty"` // sightings
	Device      string `json:"device,omitempty"`     // sightings: the reader's name

	Code      string `json:"code,omitempty"`       // unknown: the code read
	Was       string `json:"was,omitempty"`        // found: the catalog status before (lost, missing, withdrawn…)
	ClearLost *bool  `json:"clear_lost,omitempty"` // found: the inventory's policy clears the lost status
	Home      string `json:"home,omitempty"`       // misplaced: where the item belongs
	Library   string `json:"library,omitempty"`    // misplaced
	Location  string `json:"location,omitempty"`   // misplaced
	CheckIn   *bool  `json:"check_in,omitempty"`   // checked_out_on_shelf: the policy checks the item in
	DueDate   string `json:"due_date,omitempty"`   // checked_out_on_shelf, YYYY-MM-DD
	Cart      string `json:"cart,omitempty"`       // cart_foreign: the cart it was read in
	HomeCart  string `json:"home_cart,omitempty"`  // cart_foreign: the cart it belongs in
	AssetTag  string `json:"asset_tag,omitempty"`  // cart_foreign
	Serial    string `json:"serial,omitempty"`     // cart_foreign

	LostValue  *int   `json:"lost_value,omitempty"`  // missing, cart_missing: the lost value to set (0: report only)
	Since      string `json:"since,omitempty"`       // missing, cart_missing: start of the inventory, RFC 3339
	Title      string `json:"title,omitempty"`       // missing, cart_missing
	CallNumber string `json:"call_number,omitempty"` // missing, cart_missing
	Container  string `json:"container,omitempty"`   // missing, cart_missing: the cart it belongs in
	PriceCents int64  `json:"price_cents,omitempty"` // missing, cart_missing
}

// Flag is *p, false when p is nil: for ClearLost and CheckIn.
func Flag(p *bool) bool { return p != nil && *p }

// Int is *p, 0 when p is nil: for LostValue.
func Int(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// Check reports a field a kind requires that d lacks (the schema's
// per-kind required fields), or an unknown kind.
func (d Data) Check(kind Kind) error {
	if _, err := ParseKind(string(kind)); err != nil {
		return err
	}
	var missing []string
	need := func(ok bool, name string) {
		if !ok {
			missing = append(missing, name)
		}
	}
	need(d.InventoryID != 0, "inventory_id")
	need(d.Date != "", "date")
	if kind != Unknown {
		need(d.Barcode != "", "barcode")
	}
	switch kind {
	case Seen:
		need(d.At != "", "at")
		need(d.SessionID != 0, "session_id")
	case Found:
		need(d.Was != "", "was")
		need(d.ClearLost != nil, "clear_lost")
	case Misplaced:
		need(d.Home != "", "home")
	case CheckedOutOnShelf:
		need(d.CheckIn != nil, "check_in")
	case CartForeign:
		need(d.Cart != "", "cart")
	case Missing, CartMissing:
		need(d.LostValue != nil, "lost_value")
		need(d.Since != "", "since")
	case Unknown:
		need(d.Code != "", "code")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s event without %s", kind, strings.Join(missing, ", "))
	}
	return nil
}

// Event is one outbox row as a sink sees it, and, as JSON, the body of one
// webhook request (schema/webhook-event.schema.json).
type Event struct {
	ID          int64     `json:"id"`  // outbox row id (per agent)
	Key         string    `json:"key"` // idempotency key (see Key): the same key never makes a second upstream change
	Kind        Kind      `json:"kind"`
	InventoryID int64     `json:"inventory_id"`
	Barcode     string    `json:"barcode"` // the item's barcode; for unknown, the code read
	CreatedAt   time.Time `json:"created_at"`
	Attempt     int       `json:"attempt"` // 1 on the first try to this sink
	Data        Data      `json:"data"`
}

// Row is an outbox row as the store keeps it.
type Row struct {
	ID          int64           `json:"id"`
	Key         string          `json:"key"`
	Kind        string          `json:"kind"` // as written, so a row of an unknown kind can still be listed
	InventoryID int64           `json:"inventory_id"`
	Barcode     string          `json:"barcode"`
	Payload     json.RawMessage `json:"payload"` // Data, as JSON
	CreatedAt   time.Time       `json:"created_at"`
	State       string          `json:"state"` // pending, done, dead, cancelled
	Attempts    int             `json:"attempts"`
	NextAt      time.Time       `json:"next_at,omitzero"`
	LastError   string          `json:"last_error,omitempty"`
}

// ErrBadRow marks a row Event cannot turn into an event: an unknown kind
// or a payload that is not Data.
var ErrBadRow = errors.New("bad outbox row")

// Event decodes the row into the event sent for its attempt-th try.
func (r Row) Event(attempt int) (Event, error) {
	ev := Event{ID: r.ID, Key: r.Key, Kind: Kind(r.Kind), InventoryID: r.InventoryID, Barcode: r.Barcode,
		CreatedAt: r.CreatedAt.UTC(), Attempt: attempt}
	if _, err := ParseKind(r.Kind); err != nil {
		return ev, fmt.Errorf("%w %d (%s): %w", ErrBadRow, r.ID, r.Key, err)
	}
	if len(r.Payload) > 0 {
		if err := json.Unmarshal(r.Payload, &ev.Data); err != nil {
			return ev, fmt.Errorf("%w %d (%s): payload: %w", ErrBadRow, r.ID, r.Key, err)
		}
	}
	return ev, nil
}
