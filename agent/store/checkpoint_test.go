package store

import (
	"context"
	"path/filepath"
	"testing"

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
	c, err := startCheckpointer(db.ckptDSN, 1<<40)
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
