package store

import (
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// checkpointEvery is how often the background checkpointer copies the WAL's
// committed pages into the database file.
const checkpointEvery = 250 * time.Millisecond

// checkpointer moves the WAL into the database file off the writer's path.
//
// SQLite's automatic checkpoint runs inside the commit that crosses its
// threshold (1,000 pages): that commit then copies and fsyncs the whole
// WAL before it returns, so one batch of reads in every few hundred waits
// for it, and a finalize's commit spent most of its time there. The writer
// connection runs with wal_autocheckpoint=0 instead, and this loop runs
// PASSIVE checkpoints on a connection of its own: they never block the
// writer or readers (pages a reader still needs are left for the next
// one), and a checkpoint that caught up lets the next commit start the WAL
// over, so it stays small. Durability does not depend on it: a commit is
// durable in the WAL (synchronous=FULL), and Close still runs a TRUNCATE
// checkpoint.
type checkpointer struct {
	conn *sql.DB
	quit chan struct{}
	done sync.WaitGroup
	// failed is told of a checkpoint that failed after one that did not
	// (or the first): a disk that stays full is told once, not every tick.
	failed func(error)
}

func startCheckpointer(dsn string, every time.Duration, failed func(error)) (*checkpointer, error) {
	conn, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("checkpointer: %w", err)
	}
	conn.SetMaxOpenConns(1)
	c := &checkpointer{conn: conn, quit: make(chan struct{}), failed: failed}
	c.done.Add(1)
	go c.loop(every)
	return c, nil
}

func (c *checkpointer) loop(every time.Duration) {
	defer c.done.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	ok := true
	for {
		select {
		case <-c.quit:
			return
		case <-t.C:
		}
		// A checkpoint that fails (the disk full, say) is tried again on
		// the next tick; the WAL keeps every commit meanwhile.
		_, _, err := c.run()
		if err != nil && ok {
			c.failed(fmt.Errorf("%w: the WAL keeps every commit and grows until one succeeds", err))
		}
		ok = err == nil
	}
}

// run is one PASSIVE checkpoint: the WAL's frames and how many of them are
// now in the database file.
func (c *checkpointer) run() (frames, moved int, err error) {
	var busy int
	if err := c.conn.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &moved); err != nil {
		return 0, 0, fmt.Errorf("checkpoint: %w", err)
	}
	return frames, moved, nil
}

// stop ends the loop and closes its connection; the caller then runs the
// final checkpoint on the writer.
func (c *checkpointer) stop() error {
	close(c.quit)
	c.done.Wait()
	return c.conn.Close()
}
