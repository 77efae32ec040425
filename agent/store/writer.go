package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Job is one unit of work for the Writer: typically one read with its
// journal row (a first sighting flagged in it) and its outbox rows.
//
// Run executes inside the shared transaction, within a savepoint of its
// own: if Run fails only this job is rolled back, and Run must then leave
// in-memory state as it found it. When Run succeeded, exactly one of
// Committed or Aborted is called afterwards, on the writer goroutine, once
// the fate of the transaction is known, so in-memory state changed by Run
// can be kept or undone.
type Job interface {
	Run(tx *sql.Tx) error
	Committed()
	Aborted(err error)
}

// Writer is the one goroutine that writes to the database. Concurrent
// callers of Do share transactions (group commit): while one transaction
// commits, the next batch gathers, so throughput rises with load while an
// idle writer commits a single job at once.
type Writer struct {
	db       *DB
	jobs     chan *pending
	maxBatch int
	stopOnce sync.Once
	done     chan struct{}
	quit     chan struct{}
	// OnBatch, when set, is called after each commit with the batch size and
	// the commit duration (for metrics).
	OnBatch func(size int, commit time.Duration, err error)
	before  func(tx *sql.Tx) error
	flush   func(tx *sql.Tx) error
}

// WriterOpts configures NewWriterWith.
type WriterOpts struct {
	// MaxBatch bounds a transaction (default 1024 jobs).
	MaxBatch int
	// Before runs at the start of every transaction, before its jobs: the
	// engine brings its memory up to date with the store there (an import
	// by another process), so no job is decided from stale state. An error
	// fails the batch.
	Before func(tx *sql.Tx) error
	// Flush writes what Lean jobs left for the batch to write in a few
	// set-based statements (their outbox rows, say): it runs after a run
	// of Lean jobs, before the next job that is not Lean and before the
	// commit. An error fails the batch.
	Flush func(tx *sql.Tx) error
}

// Lean is a Job that runs without a savepoint of its own, which costs two
// statements per job. Its Run must leave the transaction as it found it
// when it returns an error — write nothing before the last thing that can
// fail, or take back what it wrote — or else return an error wrapping
// ErrBatch, which rolls the whole batch back.
type Lean interface {
	Job
	Lean()
}

// ErrBatch, wrapped in a Lean job's error, says the job could not put the
// transaction back as it found it: the whole batch is rolled back.
var ErrBatch = errors.New("the batch cannot be committed")

type pending struct {
	job  Job
	done chan error
}

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("store writer is closed")

// NewWriter starts the writer goroutine. maxBatch bounds a transaction.
func (db *DB) NewWriter(maxBatch int) *Writer {
	return db.NewWriterWith(WriterOpts{MaxBatch: maxBatch})
}

// NewWriterWith starts the writer goroutine with options.
func (db *DB) NewWriterWith(o WriterOpts) *Writer {
	maxBatch := o.MaxBatch
	if maxBatch <= 0 {
		maxBatch = 1024
	}
	w := &Writer{db: db, jobs: make(chan *pending, maxBatch), maxBatch: maxBatch,
		done: make(chan struct{}), quit: make(chan struct{}), before: o.Before, flush: o.Flush}
	go w.loop()
	return w
}

// Do hands job to the writer and waits until it is committed (nil) or has
// failed. When Do returns nil the job's rows are durable.
func (w *Writer) Do(ctx context.Context, job Job) error {
	done, err := w.Enqueue(ctx, job)
	if err != nil {
		return err
	}
	// Once queued the job will be decided; wait for it even if ctx ends, so
	// the caller never reports a read as lost that was in fact committed.
	return <-done
}

// Enqueue hands job to the writer without waiting; the channel yields its
// fate. Jobs enqueued by one goroutine run in the order enqueued, so a
// caller can keep many reads in flight and still have them decided in
// order.
func (w *Writer) Enqueue(ctx context.Context, job Job) (<-chan error, error) {
	p := &pending{job: job, done: make(chan error, 1)}
	select {
	case <-w.quit:
		return nil, ErrClosed
	default:
	}
	select {
	case w.jobs <- p:
		return p.done, nil
	case <-w.quit:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close stops accepting jobs, finishes the ones queued and waits.
func (w *Writer) Close() error {
	w.stopOnce.Do(func() { close(w.quit) })
	<-w.done
	return nil
}

func (w *Writer) loop() {
	defer close(w.done)
	batch := make([]*pending, 0, w.maxBatch)
	for {
		batch = batch[:0]
		select {
		case p := <-w.jobs:
			batch = append(batch, p)
		case <-w.quit:
			// Drain what was queued before Close.
			for {
				select {
				case p := <-w.jobs:
					batch = append(batch, p)
					if len(batch) == w.maxBatch {
						w.commit(batch)
						batch = batch[:0]
					}
					continue
				default:
				}
				break
			}
			if len(batch) > 0 {
				w.commit(batch)
			}
			return
		}
	gather:
		for len(batch) < w.maxBatch {
			select {
			case p := <-w.jobs:
				batch = append(batch, p)
			default:
				break gather
			}
		}
		w.commit(batch)
	}
}

func (w *Writer) commit(batch []*pending) {
	start := time.Now()
	results := make([]error, len(batch))
	ran := make([]bool, len(batch)) // Run succeeded: Committed or Aborted owed
	err := w.runBatch(batch, results, ran)
	if w.OnBatch != nil {
		w.OnBatch(len(batch), time.Since(start), err)
	}
	if err != nil {
		// Undo in reverse order: later jobs may have built on earlier ones.
		for i := len(batch) - 1; i >= 0; i-- {
			if ran[i] {
				batch[i].job.Aborted(err)
			}
		}
		for i, p := range batch {
			if results[i] == nil {
				results[i] = err
			}
			p.done <- results[i]
		}
		return
	}
	for i, p := range batch {
		if ran[i] {
			p.job.Committed()
		}
		p.done <- results[i]
	}
}

// runBatch runs every job in one transaction, each in a savepoint unless it
// is Lean, and commits. A job whose Run fails is rolled back to its
// savepoint alone; an error returned here means the whole transaction is
// lost.
func (w *Writer) runBatch(batch []*pending, results []error, ran []bool) error {
	tx, err := w.db.w.BeginTx(context.Background(), nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if w.before != nil {
		if err := w.before(tx); err != nil {
			tx.Rollback()
			return err
		}
	}
	deferred := false // Lean jobs ran since the last Flush
	flush := func() error {
		if !deferred || w.flush == nil {
			return nil
		}
		deferred = false
		if err := w.flush(tx); err != nil {
			tx.Rollback()
			return err
		}
		return nil
	}
	for i, p := range batch {
		if _, lean := p.job.(Lean); lean {
			if err := p.job.Run(tx); err != nil {
				if errors.Is(err, ErrBatch) {
					tx.Rollback()
					return err
				}
				results[i] = err
			} else {
				ran[i], deferred = true, true
			}
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		if _, err := w.exec(tx, qSavepoint); err != nil {
			tx.Rollback()
			return fmt.Errorf("savepoint: %w", err)
		}
		if err := p.job.Run(tx); err != nil {
			// Run leaves in-memory state as it found it when it fails.
			results[i] = err
			if _, err := w.exec(tx, qRollback); err != nil {
				tx.Rollback()
				return fmt.Errorf("rollback to savepoint: %w", err)
			}
		} else {
			ran[i] = true
		}
		if _, err := w.exec(tx, qRelease); err != nil {
			tx.Rollback()
			return fmt.Errorf("release savepoint: %w", err)
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (w *Writer) exec(tx *sql.Tx, q string) (sql.Result, error) {
	return w.db.Tx(tx).exec(q)
}

// Func is a Job made of a function, for writes with no in-memory state.
type Func func(tx *sql.Tx) error

func (f Func) Run(tx *sql.Tx) error { return f(tx) }
func (Func) Committed()             {}
func (Func) Aborted(error)          {}
