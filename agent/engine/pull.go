package engine

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/report"
	"github.com/tally-inventory/tally/agent/store"
)

// ParsePullCSV reads a pull list: a header naming a barcode column and
// optionally a reason column ("barcode,reason"), then one item a line.
// Other columns (a title, say, from a spreadsheet) are ignored. Every bad
// row is reported as FILE:LINE; the list is taken whole or not at all.
func ParsePullCSV(file string, r io.Reader) ([]store.PullItem, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: file is empty: the first line must be the header \"barcode,reason\"", file)
	}
	if err != nil {
		return nil, fmt.Errorf("%s:1: cannot read the header: %w", file, err)
	}
	bcCol, reasonCol := -1, -1
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		case "barcode":
			bcCol = i
		case "reason":
			reasonCol = i
		}
	}
	if bcCol < 0 {
		return nil, fmt.Errorf("%s:1: no barcode column in the header %q: the first line must be \"barcode,reason\"", file, strings.Join(header, ","))
	}
	var items []store.PullItem
	at := map[string]int{} // barcode → line
	errs, err := catalog.EachRow(file, cr, func(rec []string, line int) error {
		if bcCol >= len(rec) {
			return fmt.Errorf("%s:%d: no barcode: the line has %d fields, the barcode is field %d", file, line, len(rec), bcCol+1)
		}
		bc := catalog.NormalizeID(rec[bcCol])
		reason := ""
		if reasonCol >= 0 && reasonCol < len(rec) {
			reason = strings.Join(strings.Fields(rec[reasonCol]), " ")
		}
		switch {
		case bc == "":
			return fmt.Errorf("%s:%d: the barcode is empty", file, line)
		case strings.IndexFunc(bc, unicode.IsControl) >= 0 || strings.ContainsRune(bc, unicode.ReplacementChar):
			return fmt.Errorf("%s:%d: barcode %q has control characters or bytes that are not UTF-8: is this a text CSV?", file, line, bc)
		case strings.IndexFunc(reason, unicode.IsControl) >= 0 || strings.ContainsRune(reason, unicode.ReplacementChar):
			return fmt.Errorf("%s:%d: the reason for %s has control characters or bytes that are not UTF-8", file, line, bc)
		}
		if first, dup := at[bc]; dup {
			return fmt.Errorf("%s:%d: barcode %s is already listed on line %d: keep one line per item", file, line, bc, first)
		}
		at[bc] = line
		items = append(items, store.PullItem{Barcode: bc, Reason: reason, Source: file, Line: line})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%d bad line(s), nothing attached:\n%w", len(errs), errors.Join(errs...))
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%s: no items after the header", file)
	}
	return items, nil
}

// Attached is what attaching a pull list did.
type Attached struct {
	Inventory store.Inventory  `json:"inventory"`
	Source    string           `json:"source"`
	Items     int              `json:"items"`
	Unknown   []store.PullItem `json:"unknown,omitempty"` // kept: they count once an import brings them
}

// AttachPullList makes items inventory invID's pull list of kind list
// (store.ListFile, store.ListWeeding), replacing the previous one of that
// kind. db must be the database's one writer: the CLI's own
// when no agent runs, the agent's (through its API) when one does.
func AttachPullList(ctx context.Context, db *store.DB, x *catalog.Index, invID int64, list, source string, items []store.PullItem) (*Attached, error) {
	inv, err := db.Inventory(ctx, invID)
	if err != nil {
		return nil, err
	}
	if !inv.Open() {
		return nil, fmt.Errorf("inventory %d (%s) is finalized: a pull list acts while the walk goes on; create a new inventory", inv.ID, inv.Name)
	}
	a := &Attached{Inventory: *inv, Source: source, Items: len(items)}
	for _, it := range items {
		if _, ok := x.Get(it.Barcode); !ok {
			a.Unknown = append(a.Unknown, it)
		}
	}
	if err := db.SetPullListKind(ctx, invID, list, items); err != nil {
		return nil, err
	}
	return a, nil
}

// PullText is what a read of a listed item tells the operator.
func PullText(reason string) string {
	if reason == "" {
		return "pull: on the pull list"
	}
	return "pull: " + reason
}

// pulled flags a read of an item on the inventory's pull list, with the
// list's reason, looked up in the pull lists and holds the batch holds
// (read again at a batch's start whenever they changed).
func (j *readJob) pulled(item *catalog.Hit, r *reconcile.Result) {
	if item == nil {
		return
	}
	reason, ok := j.e.batch.pulls.Reason(j.ss.inv.inv.ID, item.Barcode, item.HoldWaiting)
	if !ok {
		return
	}
	r.Flags = append(r.Flags, reconcile.FlagPull)
	r.Detail.Pull = PullText(reason)
}

// pullReport lists the pull list's items the walk met ("pulled") or never
// met ("pull_not_found").
func (e *Engine) pullReport(ctx context.Context, inv *store.Inventory, j *journalView, name string) (report.Table, error) {
	list, err := e.DB.PullList(ctx, inv.ID)
	if err != nil {
		return report.Table{}, err
	}
	t := report.Table{Name: name, Columns: []string{"barcode", "title", "call_number", "library", "location", "reason"}}
	if name == "pulled" {
		t.Title, t.Note = "Pulled (on the pull list and seen)", "Take these to where the list says."
		t.Columns = append(t.Columns, "seen_at", "where")
	} else {
		t.Title, t.Note = "Pull list: not found", "On the pull list but not seen in this inventory."
		t.Columns = append(t.Columns, "status", "list")
	}
	for _, p := range list {
		it, known := e.Index.Get(p.Barcode)
		r := j.first[p.Barcode]
		row := []string{p.Barcode, it.Title, it.CallNumber, it.Library, it.Location, p.Reason}
		switch {
		case name == "pulled" && r != nil:
			row = append(row, r.At.Local().Format("2006-01-02 15:04"), j.where(r))
		case name != "pulled" && r == nil:
			status := string(it.Status)
			if !known {
				status = "not in the catalog"
			}
			list := p.Source // "koha", "weeding rules": not a file
			if p.Line > 0 {
				list = fmt.Sprintf("%s:%d", p.Source, p.Line)
			}
			row = append(row, status, list)
		default:
			continue
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}
