// Package catalog is the collection: the Item model, the in-memory index
// every read is checked against, scope queries, and the importers that fill
// it (tally CSV with Koha aliases, Snipe-IT asset CSV, MARC 21).
package catalog

import (
	"fmt"
	"strings"
	"time"

	"github.com/tally-inventory/tally/drivers/barcode"
)

// Kind is what an item is: a book (or other library material) or a piece of
// equipment tracked by asset tag.
type Kind string

const (
	KindBook      Kind = "book"
	KindEquipment Kind = "equipment"
)

// Status is the circulation status of an item as the library system knows it.
type Status string

const (
	StatusAvailable  Status = "available"
	StatusCheckedOut Status = "checked_out"
	StatusLost       Status = "lost"
	StatusMissing    Status = "missing"
	StatusWithdrawn  Status = "withdrawn"
	StatusDamaged    Status = "damaged"
	StatusNotForLoan Status = "not_for_loan"
	StatusInTransit  Status = "in_transit"
	StatusOnHold     Status = "on_hold_shelf"
	StatusInRepair   Status = "in_repair"
)

// Statuses lists every status, in a stable order for help texts and pickers.
var Statuses = []Status{StatusAvailable, StatusCheckedOut, StatusLost, StatusMissing,
	StatusWithdrawn, StatusDamaged, StatusNotForLoan, StatusInTransit, StatusOnHold, StatusInRepair}

// ParseStatus accepts a status name, case-insensitively, with a few common
// spellings ("checked out", "on hold", "in-transit").
func ParseStatus(s string) (Status, error) {
	n := statusSpelling.Replace(strings.ToLower(strings.TrimSpace(s)))
	switch n {
	case "", "available", "ok", "on_shelf":
		return StatusAvailable, nil
	case "checked_out", "checkedout", "on_loan", "onloan", "issued":
		return StatusCheckedOut, nil
	case "on_hold", "hold", "on_hold_shelf", "waiting":
		return StatusOnHold, nil
	case "repair", "in_repair", "out_for_repair":
		return StatusInRepair, nil
	case "notforloan", "not_for_loan":
		return StatusNotForLoan, nil
	}
	for _, st := range Statuses {
		if n == string(st) {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown status %q (want one of %s)", s, statusNames())
}

// statusSpelling is built once: a Replacer per call was a tenth of a
// 100k-row CSV import.
var statusSpelling = strings.NewReplacer(" ", "_", "-", "_")

func statusNames() string {
	names := make([]string, len(Statuses))
	for i, s := range Statuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// Item is one copy in the collection or one piece of equipment.
//
// Barcode is the primary identifier, stored normalized (see NormalizeID).
// Every other identifier (RFID, asset tag, serial) also finds the item.
type Item struct {
	Barcode     string
	Title       string
	Author      string
	CallNumber  string
	Library     string // owning library / branch / site (Koha homebranch)
	Location    string // shelving location within the library
	Collection  string // collection code (Koha ccode)
	ItemType    string
	Status      Status
	DueDate     time.Time // when checked out; zero otherwise
	LastSeen    time.Time // zero when never seen
	Price       int64     // replacement price in cents; 0 when unknown
	Year        int       // publication year of this edition; 0 when unknown
	Kind        Kind
	Container   string // cart or kit the item belongs in (equipment)
	AssetTag    string
	Serial      string
	RFID        string // tag UID/EPC or tag-derived identifier, as read
	HoldWaiting bool   // a hold is waiting: the item should be pulled
	// LastBorrowed is the day of the last checkout (Koha
	// items.datelastborrowed); zero when unknown. Weeding rules read it.
	LastBorrowed time.Time `json:",omitzero"`
	// Condition is the copy's physical condition as the catalog words it
	// ("poor", "fair"), for weeding rules; "" when not recorded.
	Condition string `json:",omitempty"`
}

// NormalizeID is how every identifier is keyed in the index: barcode.Key
// (trimmed, NFC, upper-cased), so "t0001" and "T0001 " are one item.
func NormalizeID(s string) string { return barcode.Key(s) }

// RowError is one rejected input record: where it is and what is wrong.
// Line is 1-based for text formats; for binary MARC it is the record number
// and Offset the byte offset of the record.
type RowError struct {
	File   string
	Line   int
	Offset int64 // byte offset, -1 when not meaningful
	Msg    string
	Raw    string // the rejected row or record as it was in the file, when known
}

func (e RowError) Error() string {
	if e.Offset >= 0 && e.Line == 0 {
		return fmt.Sprintf("%s: byte %d: %s", e.File, e.Offset, e.Msg)
	}
	if e.Offset >= 0 {
		return fmt.Sprintf("%s:%d (byte %d): %s", e.File, e.Line, e.Offset, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Record is one parsed input row: the item, where it came from, and the raw
// text to copy into a rejects file.
type Record struct {
	Item Item
	Line int
	Raw  string
}
