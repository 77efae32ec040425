package store

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/sample"
)

// The writer's commits never checkpoint (a commit that did waited for the
// whole WAL to be copied and synced); the checkpointer's connection moves
// the WAL into the file instead.
func TestCheckpointOffTheWriter(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var auto int
	if err := db.w.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&auto); err != nil {
		t.Fatal(err)
	}
	if auto != 0 {
		t.Fatalf("the writer's wal_autocheckpoint is %d: its commits would checkpoint", auto)
	}
	if db.ckpt == nil {
		t.Fatal("no checkpointer on a writing store")
	}
	// Stop the loop so the test drives the checkpoints itself.
	db.ckpt.stop()
	c, err := startCheckpointer(db.ckptDSN, 1<<40, db.backgroundFailed)
	if err != nil {
		t.Fatal(err)
	}
	db.ckpt = c
	o := sample.DefaultOpts
	o.Books, o.Carts = 3000, 0
	if _, err := db.Import(ctx, nil, "t", "csv", sample.Generate(o), false, 0); err != nil {
		t.Fatal(err)
	}
	frames, moved, err := c.run()
	if err != nil {
		t.Fatal(err)
	}
	if frames == 0 || moved != frames {
		t.Fatalf("checkpoint: %d of %d WAL frames moved; want all the import wrote", moved, frames)
	}
	if frames, moved, _ = c.run(); moved != frames {
		t.Fatalf("second checkpoint: %d of %d", moved, frames)
	}
}

// A checkpoint that fails is told, once until one succeeds: a disk that
// stays full is not silent, nor told four times a second.
func TestCheckpointFailureTold(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var told []error
	db, err := OpenWith(ctx, filepath.Join(t.TempDir(), "c.db"), Opts{OnBackgroundError: func(err error) {
		mu.Lock()
		told = append(told, err)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.ckpt.stop()
	c, err := startCheckpointer(db.ckptDSN, time.Millisecond, db.backgroundFailed)
	if err != nil {
		t.Fatal(err)
	}
	db.ckpt = c
	c.conn.Close() // every checkpoint fails from now on
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(told)
		mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // fifty more failing ticks
	mu.Lock()
	defer mu.Unlock()
	if len(told) != 1 || !strings.Contains(told[0].Error(), "checkpoint") {
		t.Fatalf("told %d times: %v; want once, of the checkpoint", len(told), told)
	}
}
