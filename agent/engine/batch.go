package engine

import (
	"database/sql"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/store"
)

// batchWrites are the writes the reads of one transaction leave to its
// end, where they take a few set-based statements instead of several per
// read: journal rows, outbox rows, last-seen dates, status changes. Only the writer
// goroutine touches them.
type batchWrites struct {
	journal store.Journal
	outbox  []store.NewOutbox
	seen    map[time.Time][]string // day → barcodes first seen that day
	status  []statusChange
	pulls   *store.Pulls // the pull lists and holds, read again when their revision moves
}

type statusChange struct {
	barcode string
	status  catalog.Status
}

func (b *batchWrites) reset() {
	b.journal.Reset()
	b.outbox = b.outbox[:0]
	clear(b.seen)
	b.status = b.status[:0]
}

// beginBatch runs on the writer goroutine before a transaction's jobs.
func (e *Engine) beginBatch(tx *sql.Tx) error {
	e.batch.reset()
	if err := e.syncCatalog(tx); err != nil {
		return err
	}
	tw := e.DB.Tx(tx)
	rev, err := tw.PullRev()
	if err != nil {
		return err
	}
	if p := e.batch.pulls; p == nil || p.Rev != rev {
		if e.batch.pulls, err = tw.LoadPulls(rev); err != nil {
			return err
		}
	}
	return nil
}

// flushBatch writes what the reads since the last flush left for it.
func (e *Engine) flushBatch(tx *sql.Tx) error {
	tw := e.DB.Tx(tx)
	b := &e.batch
	if err := tw.InsertJournal(&b.journal); err != nil {
		return err
	}
	if err := tw.InsertOutboxRows(b.outbox); err != nil {
		return err
	}
	for _, s := range b.status {
		if err := tw.SetItemStatus(s.barcode, s.status); err != nil {
			return err
		}
	}
	for day, bcs := range b.seen {
		if err := tw.MarkSeen(day, bcs); err != nil {
			return err
		}
	}
	b.reset()
	return nil
}
