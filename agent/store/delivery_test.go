package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tally-inventory/tally/sync/relay"
)

func deliveryDB(t *testing.T) (*DB, *Writer) {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	w := db.NewWriter(0)
	t.Cleanup(func() { w.Close(); db.Close() })
	return db, w
}

func addOutbox(t *testing.T, db *DB, w *Writer, from, n int) {
	t.Helper()
	err := w.Do(context.Background(), Func(func(tx *sql.Tx) error {
		for i := from; i < from+n; i++ {
			bc := fmt.Sprintf("3%04d", i)
			if err := InsertOutbox(tx, OutboxKey(1, bc, "seen"), "seen", 1, bc, map[string]any{"barcode": bc}); err != nil {
				return err
			}
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
}

func exec(t *testing.T, w *Writer, q string, args ...any) {
	t.Helper()
	if err := w.Do(context.Background(), Func(func(tx *sql.Tx) error { _, err := tx.Exec(q, args...); return err })); err != nil {
		t.Fatal(err)
	}
}

func outboxState(t *testing.T, db *DB, id int64) string {
	t.Helper()
	var s string
	if err := db.SQL.QueryRow("SELECT state FROM outbox WHERE id = ?", id).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDeliveryLifecycle(t *testing.T) {
	ctx := context.Background()
	db, w := deliveryDB(t)
	sinks := []string{"a", "b"}
	now := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	addOutbox(t, db, w, 1, 5)

	// Rows not yet queued still count as pending.
	if bl, _ := db.SinkBacklog(ctx, "a"); bl.Pending != 5 || bl.OldestPending.IsZero() {
		t.Errorf("backlog before queueing %+v", bl)
	}
	if n, err := db.QueueDeliveries(ctx, w, sinks, false); err != nil || n != 10 {
		t.Fatalf("queue: %d, %v; want 10", n, err)
	}
	if n, _ := db.QueueDeliveries(ctx, w, sinks, false); n != 0 {
		t.Errorf("queue again: %d, want 0", n)
	}
	addOutbox(t, db, w, 6, 2)
	if n, _ := db.QueueDeliveries(ctx, w, sinks, false); n != 4 {
		t.Errorf("queue new rows: %d, want 4", n)
	}

	due, err := db.DueDeliveries(ctx, "a", 3, now)
	if err != nil || len(due) != 3 || due[0].ID != 1 || due[2].ID != 3 || due[0].Sink != "a" || due[0].SinkState != "pending" {
		t.Fatalf("due %+v, %v", due, err)
	}
	// a: 1 done, 2 retry in a minute (not tried), 3 dead. b: 1 done.
	err = db.MarkDeliveries(ctx, w, "a", sinks, now, []relay.Result{
		{OutboxID: 1, State: "done"},
		{OutboxID: 2, State: "pending", Next: now.Add(time.Minute), Error: "not sent", NotTried: true},
		{OutboxID: 3, State: "dead", Error: "422: no such item"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := outboxState(t, db, 1); s != "pending" {
		t.Errorf("row 1 done for a only: %s, want pending", s)
	}
	if s := outboxState(t, db, 3); s != "dead" {
		t.Errorf("row 3: %s, want dead", s)
	}
	db.MarkDeliveries(ctx, w, "b", sinks, now, []relay.Result{{OutboxID: 1, State: "done"}, {OutboxID: 3, State: "skipped"}})
	if s := outboxState(t, db, 1); s != "done" {
		t.Errorf("row 1 done for both: %s", s)
	}
	if s := outboxState(t, db, 3); s != "dead" {
		t.Errorf("row 3 skipped by b, dead for a: %s, want dead", s)
	}

	// Row 2 is not due for a minute, and was not charged an attempt.
	due, _ = db.DueDeliveries(ctx, "a", 10, now.Add(59*time.Second))
	for _, d := range due {
		if d.ID == 2 {
			t.Errorf("row 2 due before its time")
		}
	}
	due, _ = db.DueDeliveries(ctx, "a", 10, now.Add(time.Minute))
	if len(due) == 0 || due[0].ID != 2 || due[0].SinkAttempts != 0 {
		t.Errorf("row 2 at its time: %+v", due)
	}
	bl, err := db.SinkBacklog(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if bl.Pending != 5 || bl.Dead != 1 || !bl.NextDue.IsZero() || bl.LastError != "422: no such item" || !bl.LastOK.Equal(now) {
		t.Errorf("backlog %+v", bl)
	}

	dead, _ := db.DeadDeliveries(ctx, nil, 10)
	if len(dead) != 1 || dead[0].ID != 3 || dead[0].SinkError != "422: no such item" || dead[0].SinkAttempts != 1 {
		t.Errorf("dead %+v", dead)
	}
	if n, err := db.RetryDeadDeliveries(ctx, w, 99); err != nil || n != 0 {
		t.Errorf("retry an id that is not dead: %d, %v", n, err)
	}
	if n, err := db.RetryDeadDeliveries(ctx, w, 3); err != nil || n != 1 {
		t.Errorf("retry: %d, %v", n, err)
	}
	if s := outboxState(t, db, 3); s != "pending" {
		t.Errorf("row 3 after retry: %s", s)
	}

	// Dropping sink b: SettleOutbox no longer waits for it.
	db.MarkDeliveries(ctx, w, "a", sinks, now, []relay.Result{{OutboxID: 4, State: "done"}})
	if s := outboxState(t, db, 4); s != "pending" {
		t.Fatalf("row 4: %s", s)
	}
	if n, err := db.SettleOutbox(ctx, w, []string{"a"}, now); err != nil || n != 1 {
		t.Errorf("settle: %d, %v; want 1 (row 4)", n, err)
	}
	if s := outboxState(t, db, 4); s != "done" {
		t.Errorf("row 4 after dropping b: %s", s)
	}

	stats, err := db.SinkStatus(ctx, nil)
	if err != nil || len(stats) != 2 || stats[0].Sink != "a" || stats[0].Done != 2 || stats[1].Skipped != 1 {
		t.Errorf("status %+v, %v", stats, err)
	}
}

func TestDeliveryCancelled(t *testing.T) {
	ctx := context.Background()
	db, w := deliveryDB(t)
	sinks := []string{"a"}
	addOutbox(t, db, w, 1, 2)
	exec(t, w, "UPDATE outbox SET state = 'cancelled' WHERE id = 2") // undone before queueing
	db.QueueDeliveries(ctx, w, sinks, false)
	due, _ := db.DueDeliveries(ctx, "a", 10, time.Now())
	if len(due) != 2 || due[1].State != "cancelled" {
		t.Fatalf("due %+v", due)
	}
	db.MarkDeliveries(ctx, w, "a", sinks, time.Now(), []relay.Result{{OutboxID: 1, State: "done"}, {OutboxID: 2, State: "cancelled"}})
	if s := outboxState(t, db, 2); s != "cancelled" {
		t.Errorf("cancelled row settled to %s", s)
	}
	if n, _ := db.QueueDeliveries(ctx, w, sinks, false); n != 0 {
		t.Errorf("nothing to revive yet: %d", n)
	}
	// Scanned again: the row is pending again and its delivery revives.
	addOutbox(t, db, w, 2, 1)
	if n, _ := db.QueueDeliveries(ctx, w, sinks, false); n != 1 {
		t.Errorf("revive: %d, want 1", n)
	}
	if due, _ := db.DueDeliveries(ctx, "a", 10, time.Now()); len(due) != 1 || due[0].ID != 2 || due[0].State != "pending" {
		t.Errorf("due after revive %+v", due)
	}
}

func TestMarkDeliveriesErrors(t *testing.T) {
	ctx := context.Background()
	db, w := deliveryDB(t)
	addOutbox(t, db, w, 1, 1)
	if err := db.MarkDeliveries(ctx, w, "a", []string{"a"}, time.Now(), []relay.Result{{OutboxID: 1, State: "sent"}}); err == nil {
		t.Error("unknown state: want an error")
	}
	err := db.MarkDeliveries(ctx, w, "a", []string{"a"}, time.Now(), []relay.Result{{OutboxID: 1, State: "done"}})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("row not queued for the sink: %v, want ErrNotFound", err)
	}
	if _, err := db.SettleOutbox(ctx, w, nil, time.Now()); err == nil {
		t.Error("settle with no sinks: want an error")
	}
}
