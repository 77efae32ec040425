// Package benchdb keeps the generated databases benchmarks start from (100k
// and 1M items) across packages and runs: making one imports every item
// through SQLite, minutes at 1M on a small machine, and each package's
// benchmarks used to make their own on every run.
//
// A database is kept under os.TempDir()/tally-bench, named by a hash of
// what went into it — every generated item, the schema version and the
// caller's own key — so a change to the generator, the schema or the
// caller's recipe makes a new one instead of reusing a stale one. Callers
// never write to the kept file: Copy it first.
package benchdb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/sample"
)

// Dir is where the databases are kept.
func Dir() string { return filepath.Join(os.TempDir(), "tally-bench") }

// Make writes a new database at path holding items (store.Create).
type Make func(ctx context.Context, path string, items []catalog.Item) error

// Path returns the kept database of the library o generates, made by mk
// (into a temporary name, then renamed: a half-made database is never
// kept) when there is none yet for this key. schema is the store's schema
// version; recipe names what mk does (e.g. ImportRecipe), to be changed
// when that changes.
func Path(o sample.Opts, schema int, recipe string, mk Make) (string, error) {
	name := "db-" + Key(o, schema, recipe)
	dir := Dir()
	path := filepath.Join(dir, name, "bench.db")
	defer pruneUnused(dir, name)
	if _, err := os.Stat(path); err == nil {
		now := time.Now()
		os.Chtimes(filepath.Join(dir, name), now, now) // used: see pruneUnused
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("bench fixtures: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, name+".tmp*")
	if err != nil {
		return "", fmt.Errorf("bench fixtures: %w", err)
	}
	defer os.RemoveAll(tmp) // after a successful rename, nothing is left
	if err := mk(context.Background(), filepath.Join(tmp, "bench.db"), sample.Generate(o)); err != nil {
		return "", fmt.Errorf("bench fixture %s: %w", name, err)
	}
	// Read-only, so that a benchmark that forgot to copy it fails
	// instead of changing what the next runs measure.
	if err := os.Chmod(filepath.Join(tmp, "bench.db"), 0o444); err != nil {
		return "", fmt.Errorf("bench fixtures: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		// Another process made the same one meanwhile: use theirs.
		if _, serr := os.Stat(path); serr == nil {
			return path, nil
		}
		return "", fmt.Errorf("bench fixtures: %w", err)
	}
	return path, nil
}

// unusedFor is how long a kept database no run asked for is kept: an old
// schema's or generator's is never asked for again.
const unusedFor = 48 * time.Hour

// pruneUnused removes the kept databases, other than keep, that no run
// has used for unusedFor (a directory's modification time is its last use).
func pruneUnused(dir, keep string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "db-") || e.Name() == keep {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > unusedFor {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

// fingerprintBooks is how many books of a library stand for the
// generator in its key: generating a million books takes many seconds,
// which a kept database is there to save, while any change to the
// generator shows in its first few thousand.
const fingerprintBooks = 3000

// Key is the hash naming the database of o for schema and recipe: o
// itself and every field of a small library generated with the same
// options, which changes whenever the generator does.
func Key(o sample.Opts, schema int, recipe string) string {
	h := sha256.New()
	fmt.Fprintf(h, "schema=%d recipe=%q opts=%+v\n", schema, recipe, o)
	small := o
	small.Books = min(o.Books, fingerprintBooks)
	items := sample.Generate(small)
	for i := range items {
		writeItem(h, &items[i])
	}
	return hex.EncodeToString(h.Sum(nil))[:20]
}

// writeItem hashes every field of it (by reflection, so a field added to
// Item counts without this code knowing of it); %v on a million structs
// costs seconds, this a fraction of that.
func writeItem(h hash.Hash, it *catalog.Item) {
	var b []byte
	v := reflect.ValueOf(it).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			b = strconv.AppendInt(b, int64(f.Len()), 10)
			b = append(b, ':')
			b = append(b, f.String()...)
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			b = strconv.AppendInt(b, f.Int(), 10)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			b = strconv.AppendUint(b, f.Uint(), 10)
		case reflect.Bool:
			b = strconv.AppendBool(b, f.Bool())
		default:
			if t, ok := f.Interface().(time.Time); ok {
				b = strconv.AppendInt(b, t.UnixNano(), 10)
			} else {
				b = fmt.Append(b, f.Interface())
			}
		}
		b = append(b, ',')
	}
	h.Write(append(b, '\n'))
}

// Copy copies the database at src, and the files beside it that start
// with its name (the index snapshot), into dir; it returns the copy's path.
func Copy(src, dir string) (string, error) {
	dst := filepath.Join(dir, filepath.Base(src))
	matches, err := filepath.Glob(src + "*")
	if err != nil {
		return "", err
	}
	for _, m := range matches {
		if err := copyFile(m, dst+m[len(src):]); err != nil {
			return "", fmt.Errorf("copy bench fixture: %w", err)
		}
	}
	if _, err := os.Stat(dst); err != nil {
		return "", fmt.Errorf("copy bench fixture: %w", err)
	}
	return dst, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close())
}

// RunCopy copies the kept database at src once for this process, into
// Dir()/run-PID, for benchmarks that write to it (every open by the
// writer does); a later call for the same src returns the same copy.
// Copies left by processes that ended are removed first.
func RunCopy(src string) (string, error) {
	runMu.Lock()
	defer runMu.Unlock()
	if p, ok := runCopies[src]; ok {
		return p, nil
	}
	if runCopies == nil {
		removeEnded()
		runCopies = map[string]string{}
	}
	dir := filepath.Join(Dir(), fmt.Sprintf("run-%d", os.Getpid()), filepath.Base(filepath.Dir(src)))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("copy bench fixture: %w", err)
	}
	p, err := Copy(src, dir)
	if err != nil {
		return "", err
	}
	runCopies[src] = p
	return p, nil
}

var (
	runMu     sync.Mutex
	runCopies map[string]string
)

// removeEnded removes the run copies of processes no longer running
// (Linux, where /proc says; elsewhere they are left to the OS's cleaning
// of its temporary directory).
func removeEnded() {
	if runtime.GOOS != "linux" {
		return
	}
	runs, _ := filepath.Glob(filepath.Join(Dir(), "run-*"))
	for _, r := range runs {
		pid := strings.TrimPrefix(filepath.Base(r), "run-")
		if _, err := os.Stat("/proc/" + pid); errors.Is(err, fs.ErrNotExist) {
			os.RemoveAll(r)
		}
	}
}

// ImportRecipe names the databases made by store.Create, which
// agent/store's and agent/engine's benchmarks share. Change it when
// Create changes.
const ImportRecipe = "store.Create v1"
