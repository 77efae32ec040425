package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// One process writes a database. A second writer would decide reads from
// memory the first one no longer matches (two `tally scan` on one session
// end in a UNIQUE constraint failure; a CLI scan beside the agent makes the
// agent call the books it recorded duplicates). So a writing process holds
// an exclusive lock on PATH.lock for as long as the database is open, and
// writes into it who it is, so that a process refused the lock can name the
// holder and say what to do. The lock is the operating system's (flock):
// it goes away with the process, even after SIGKILL.
//
// Catalog imports are the exception: they only write the items table, in
// one transaction, and the running writer picks the change up (see
// CatalogRev), so a librarian can import beside a running agent.

// Holder is the process that writes a database.
type Holder struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"`      // "tally run", "tally scan --session 2"
	Agent   bool      `json:"agent"`        // a long-running agent, with a UI
	UI      string    `json:"ui,omitempty"` // the agent's UI address, once it listens
	Since   time.Time `json:"since"`
}

// LockedError is returned by Open when another process writes the database.
type LockedError struct {
	Path   string
	Holder Holder // zero when the holder did not say who it is
}

func (e *LockedError) Error() string {
	h := e.Holder
	base := filepath.Base(e.Path)
	if h.PID == 0 {
		return fmt.Sprintf("%s is in use by another tally process (%s.lock is held): wait for it to finish, or stop it", base, base)
	}
	since := ""
	if !h.Since.IsZero() {
		since = ", since " + h.Since.Local().Format("2006-01-02 15:04")
	}
	if h.Agent {
		ui := ""
		if h.UI != "" {
			ui = ", UI " + h.UI
		}
		return fmt.Sprintf("%s is in use by the running agent (`%s`, pid %d%s%s): do this in the agent's UI, or stop the agent first (e.g. `sudo systemctl stop tally`) — reports and `tally inventory list|show` still work beside it",
			base, h.Command, h.PID, ui, since)
	}
	return fmt.Sprintf("%s is in use by `%s` (pid %d%s): wait for it to finish or stop it; to scan with several devices at once, run the agent (`tally run`)",
		base, h.Command, h.PID, since)
}

// ErrLocked matches a *LockedError with errors.Is.
var ErrLocked = errors.New("database is in use by another process")

func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// writerLock is a held lock file. Opens in one process share it: the rule
// is one writing process, and tests or the demo may open a database twice.
type writerLock struct {
	path   string
	f      *os.File
	refs   int
	holder Holder
}

var (
	locksMu sync.Mutex
	locks   = map[string]*writerLock{}
)

// acquireLock takes the writer lock of the database at path.
func acquireLock(path string, h Holder) (*writerLock, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	locksMu.Lock()
	defer locksMu.Unlock()
	if l, ok := locks[abs]; ok {
		l.refs++
		return l, nil
	}
	lp := abs + ".lock"
	f, err := os.OpenFile(lp, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("take the writer lock: %w%s", err, dirHint(lp, err))
	}
	if err := flock(f); err != nil {
		f.Close()
		if !errors.Is(err, errWouldBlock) {
			return nil, fmt.Errorf("lock %s: %w", lp, err)
		}
		return nil, &LockedError{Path: path, Holder: readHolder(lp)}
	}
	h.PID = os.Getpid()
	if h.Since.IsZero() {
		h.Since = time.Now()
	}
	l := &writerLock{path: abs, f: f, refs: 1}
	if err := l.write(h); err != nil {
		funlock(f)
		f.Close()
		return nil, err
	}
	locks[abs] = l
	return l, nil
}

// readHolder reads who holds a lock; a holder that has just taken it may
// not have written yet, so it looks twice.
func readHolder(lp string) Holder {
	var h Holder
	for i := 0; i < 3; i++ {
		b, err := os.ReadFile(lp)
		if err == nil && json.Unmarshal(b, &h) == nil && h.PID != 0 {
			return h
		}
		time.Sleep(20 * time.Millisecond)
	}
	return Holder{}
}

func (l *writerLock) write(h Holder) error {
	b, _ := json.Marshal(h)
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("write %s: %w", l.f.Name(), err)
	}
	if _, err := l.f.WriteAt(append(b, '\n'), 0); err != nil {
		return fmt.Errorf("write %s: %w", l.f.Name(), err)
	}
	l.holder = h
	return nil
}

// last reports whether no other open in this process shares the lock.
func (l *writerLock) last() bool {
	locksMu.Lock()
	defer locksMu.Unlock()
	return l.refs == 1
}

func (l *writerLock) release() {
	locksMu.Lock()
	defer locksMu.Unlock()
	if l.refs--; l.refs > 0 {
		return
	}
	delete(locks, l.path)
	// The file stays: removing it would race a process that has just
	// opened it and is about to lock it.
	l.f.Truncate(0)
	funlock(l.f)
	l.f.Close()
}

// SetUI records the agent's UI address in the lock, so that a CLI command
// refused the database can point the librarian to it.
func (db *DB) SetUI(addr string) error {
	if db.lock == nil {
		return nil
	}
	locksMu.Lock()
	defer locksMu.Unlock()
	h := db.lock.holder
	h.UI = addr
	return db.lock.write(h)
}

// WriteHolder reads who holds the writer lock of the database at path, if
// anyone does; ok is false when no process writes it.
func WriteHolder(path string) (h Holder, ok bool) {
	lp := path + ".lock"
	f, err := os.OpenFile(lp, os.O_RDWR, 0)
	if err != nil {
		return Holder{}, false
	}
	defer f.Close()
	if err := flock(f); err == nil {
		funlock(f)
		return Holder{}, false
	}
	return readHolder(lp), true
}
