package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
)

type leanJob struct{ testJob }

func (leanJob) Lean() {}

// Lean jobs run without savepoints; what they deferred is flushed before a
// job that is not Lean and before the commit, in order; a Lean job that
// cannot put the transaction back (ErrBatch) loses the whole batch.
func TestWriterLeanJobsAndFlush(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	if _, err := db.w.Exec("CREATE TABLE t (v TEXT)"); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var pending []string
	w := db.NewWriterWith(WriterOpts{MaxBatch: 64, Flush: func(tx *sql.Tx) error {
		mu.Lock()
		defer mu.Unlock()
		for _, v := range pending {
			if _, err := tx.Exec("INSERT INTO t VALUES (?)", v); err != nil {
				return err
			}
		}
		pending = pending[:0]
		return nil
	}})
	defer w.Close()
	lean := func(v string, fail error) Job {
		return &leanJob{testJob{run: func(tx *sql.Tx) error {
			if fail != nil {
				return fail
			}
			mu.Lock()
			pending = append(pending, v)
			mu.Unlock()
			return nil
		}}}
	}
	plain := func(v string) Job {
		return &testJob{run: func(tx *sql.Tx) error {
			_, err := tx.Exec("INSERT INTO t VALUES (?)", v)
			return err
		}}
	}
	// One batch: queued before the writer can take any (it is busy).
	block := make(chan struct{})
	started := make(chan struct{})
	go w.Do(ctx, Func(func(*sql.Tx) error { close(started); <-block; return nil }))
	<-started
	jobs := []Job{lean("a", nil), lean("b", nil), plain("c"), lean("x", errors.New("refused")), lean("d", nil)}
	var dones []<-chan error
	for _, j := range jobs {
		d, err := w.Enqueue(ctx, j)
		if err != nil {
			t.Fatal(err)
		}
		dones = append(dones, d)
	}
	close(block)
	for i, d := range dones {
		err := <-d
		if (i == 3) != (err != nil) {
			t.Errorf("job %d: %v", i, err)
		}
	}
	var got []string
	rows, _ := db.SQL.Query("SELECT v FROM t ORDER BY rowid")
	for rows.Next() {
		var v string
		rows.Scan(&v)
		got = append(got, v)
	}
	rows.Close()
	if fmt.Sprint(got) != "[a b c d]" {
		t.Errorf("rows %v, want [a b c d]: deferred writes flushed before the plain job, the refused job's not at all", got)
	}
	// ErrBatch: every job of the batch fails, Lean and not, and is Aborted.
	block2 := make(chan struct{})
	started2 := make(chan struct{})
	go w.Do(ctx, Func(func(*sql.Tx) error { close(started2); <-block2; return nil }))
	<-started2
	ok := &leanJob{testJob{run: func(*sql.Tx) error { return nil }}}
	d1, _ := w.Enqueue(ctx, ok)
	d2, _ := w.Enqueue(ctx, lean("", fmt.Errorf("half written: %w", ErrBatch)))
	close(block2)
	if err1, err2 := <-d1, <-d2; err1 == nil || err2 == nil || ok.aborted != 1 {
		t.Errorf("after ErrBatch: %v, %v, aborted %d", err1, err2, ok.aborted)
	}
}

// InsertOutboxRows keeps InsertOutbox's rule: a queued or delivered key is
// left alone, a cancelled one is queued again.
func TestInsertOutboxRows(t *testing.T) {
	db, _ := openTest(t)
	tx, _ := db.w.Begin()
	tw := db.Tx(tx)
	p := json.RawMessage(`{"n":1}`)
	if err := tw.InsertOutboxRows([]NewOutbox{{Key: "k1", Kind: "seen", InvID: 7, Barcode: "B1", Payload: p},
		{Key: "k2", Kind: "found", InvID: 7, Barcode: "B2", Payload: p}}); err != nil {
		t.Fatal(err)
	}
	tx.Exec("UPDATE outbox SET state = 'cancelled', attempts = 3 WHERE key = 'k2'")
	tx.Exec("UPDATE outbox SET state = 'done' WHERE key = 'k1'")
	if err := tw.InsertOutboxRows([]NewOutbox{{Key: "k1", Kind: "seen", InvID: 7, Barcode: "B1", Payload: json.RawMessage(`{"n":2}`)},
		{Key: "k2", Kind: "found", InvID: 7, Barcode: "B2", Payload: json.RawMessage(`{"n":2}`)}}); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	rows, _ := db.SQL.Query("SELECT key, kind, inventory_id, barcode, payload, state, attempts FROM outbox ORDER BY id")
	defer rows.Close()
	var got []string
	for rows.Next() {
		var k, kind, bc, pl, st string
		var inv, att int
		rows.Scan(&k, &kind, &inv, &bc, &pl, &st, &att)
		got = append(got, fmt.Sprint(k, kind, inv, bc, pl, st, att))
	}
	want := `[k1seen7B1{"n":1}done0 k2found7B2{"n":2}pending0]`
	if fmt.Sprint(got) != want {
		t.Errorf("outbox %v\nwant %v", got, want)
	}
}
