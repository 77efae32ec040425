package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/webhook/webhooktest"
)

// syncFixture is a small inventory scanned in part and finalized: seen,
// misplaced, missing… rows in the outbox, as the engine writes them.
func syncFixture(t *testing.T) (dir string, outbox map[string]int) {
	t.Helper()
	dir = t.TempDir()
	t.Setenv("TALLY_DB", filepath.Join(dir, "tally.db"))
	csv := tally(t, "", "sample", "collection", "--books", "300")
	os.WriteFile(filepath.Join(dir, "collection.csv"), []byte(csv), 0o644)
	tally(t, "", "import", filepath.Join(dir, "collection.csv"))
	tally(t, "", "inventory", "create", "--name", "Spring 2027 — Fiction", "--location", "Fiction")
	tally(t, "", "session", "start", "--inventory", "1", "--operator", "ana")
	walk := strings.Split(strings.TrimSpace(tally(t, "", "sample", "walk", "--location", "Fiction")), "\n")
	tally(t, strings.Join(walk[:len(walk)*2/3], "\n"), "scan", "--session", "1")
	tally(t, "", "inventory", "finalize", "1")

	db, err := sql.Open("sqlite3", filepath.Join(dir, "tally.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT kind, count(*) FROM outbox GROUP BY kind")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	outbox = map[string]int{}
	for rows.Next() {
		var k string
		var n int
		rows.Scan(&k, &n)
		outbox[k] = n
	}
	if outbox["seen"] == 0 || outbox["missing"] == 0 {
		t.Fatalf("fixture outbox %v: want seen and missing rows", outbox)
	}
	return dir, outbox
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func TestSyncOnceExportAndWebhook(t *testing.T) {
	dir, outbox := syncFixture(t)
	n := total(outbox)
	if out := tally(t, "", "sync", "status"); !strings.Contains(out, "no sink has run yet") {
		t.Errorf("status before any sync:\n%s", out)
	}
	secret := []byte("district-secret")
	os.WriteFile(filepath.Join(dir, "secret"), append(secret, '\n'), 0o600)
	rc := webhooktest.New(secret)
	defer rc.Close()
	exp := filepath.Join(dir, "export")
	args := []string{"--export-dir", exp, "--webhook-url", rc.URL(), "--webhook-secret-file", filepath.Join(dir, "secret")}

	out := tally(t, "", append([]string{"sync", "--once"}, args...)...)
	// Every row to each of the two sinks.
	if want := "delivered " + itoa(2*n) + ", retried 0, rejected 0; 0 pending, 0 dead letters"; !strings.Contains(out, want) {
		t.Errorf("sync --once:\n%s\nwant %q", out, want)
	}
	if got := len(rc.Applied()); got != n {
		t.Errorf("webhook received %d changes, want %d", got, n)
	}
	folder := filepath.Join(exp, "inventory-1-spring-2027-fiction")
	seen, err := os.ReadFile(filepath.Join(folder, "seen-barcodes.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(seen), "\n"); got != outbox["seen"] {
		t.Errorf("seen-barcodes.txt has %d lines, want %d", got, outbox["seen"])
	}
	missing, _ := os.ReadFile(filepath.Join(folder, "missing-barcodes.txt"))
	if got := strings.Count(string(missing), "\n"); got != outbox["missing"] {
		t.Errorf("missing-barcodes.txt has %d lines, want %d", got, outbox["missing"])
	}
	csv, _ := os.ReadFile(filepath.Join(folder, "koha-inventory.csv"))
	if !strings.HasPrefix(string(csv), "title,author,barcode,itemnumber,homebranch,") || !strings.Contains(string(csv), ",missing\n") {
		t.Errorf("koha-inventory.csv:\n%.400s", csv)
	}

	// Again: nothing is due, nothing is sent.
	if out := tally(t, "", append([]string{"sync", "once"}, args...)...); !strings.Contains(out, "delivered 0,") {
		t.Errorf("second run:\n%s", out)
	}
	if st := rc.Stats(); st.Requests != n || st.BadSignatures != 0 {
		t.Errorf("receiver %+v: want %d requests, all signed right", st, n)
	}

	var st syncStatus
	stJSON := tally(t, "", "sync", "status", "--json")
	if err := json.Unmarshal([]byte(stJSON), &st); err != nil {
		t.Fatal(err)
	}
	checkJSON(t, stJSON)
	if len(st.Sinks) != 2 || st.Outbox.Done != n || st.Outbox.Pending != 0 {
		t.Fatalf("status %+v", st)
	}
	for _, s := range st.Sinks {
		if s.Done != n || s.Pending != 0 || s.LastOK.IsZero() {
			t.Errorf("sink %+v: want %d done", s, n)
		}
	}
}

func TestSyncDeadLetterAndRetry(t *testing.T) {
	dir, rows := syncFixture(t)
	n := total(rows)
	secret := []byte("s")
	os.WriteFile(filepath.Join(dir, "secret"), secret, 0o600)
	rc := webhooktest.New(secret)
	defer rc.Close()
	var mu sync.Mutex // the sink sends several requests at once
	var badKey string
	rc.SetFault(func(m outbox.Event, _ int) webhooktest.Fault {
		mu.Lock()
		defer mu.Unlock()
		if m.Kind == outbox.Missing && (badKey == "" || badKey == m.Key) {
			badKey = m.Key
			return webhooktest.Reject
		}
		return webhooktest.OK
	})
	args := []string{"--webhook-url", rc.URL(), "--webhook-secret-file", filepath.Join(dir, "secret")}
	out := tally(t, "", append([]string{"sync", "once"}, args...)...)
	if !strings.Contains(out, "rejected 1;") || !strings.Contains(out, "1 dead letters") || !strings.Contains(out, "tally sync retry") {
		t.Errorf("once:\n%s", out)
	}
	status := tally(t, "", "sync", "status")
	if !strings.Contains(status, "outbox: 0 pending, "+itoa(n-1)+" done, 1 dead") ||
		!strings.Contains(status, "422 Unprocessable Entity: no item with barcode") {
		t.Errorf("status:\n%s", status)
	}
	// The dead letter's id, from the table under "dead letters".
	var id string
	lines := strings.Split(status, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "ID ") && i+1 < len(lines) {
			id = strings.Fields(lines[i+1])[0]
		}
	}
	if id == "" {
		t.Fatalf("no dead letter listed:\n%s", status)
	}
	if _, errOut := tallyFail(t, "", "sync", "retry", "nope"); !strings.Contains(errOut, "not an outbox row id") {
		t.Errorf("retry nope: %s", errOut)
	}
	rc.SetFault(nil)
	if out := tally(t, "", "sync", "retry", id); !strings.Contains(out, "1 dead letters back in the queue") {
		t.Errorf("retry:\n%s", out)
	}
	if out := tally(t, "", append([]string{"sync", "once"}, args...)...); !strings.Contains(out, "delivered 1,") || !strings.Contains(out, "0 dead letters") {
		t.Errorf("once after retry:\n%s", out)
	}
	if got := len(rc.Applied()); got != n {
		t.Errorf("receiver holds %d, want %d", got, n)
	}
}

func TestSyncConfigFile(t *testing.T) {
	dir, outbox := syncFixture(t)
	exp := filepath.Join(dir, "out")
	cfg := "database: " + filepath.Join(dir, "tally.db") + "\nsync:\n  interval: 5s\n  export:\n    dir: " + exp + "\n"
	os.WriteFile(filepath.Join(dir, "tally.yaml"), []byte(cfg), 0o644)
	t.Setenv("TALLY_DB", "") // the config names the database
	out := tally(t, "", "sync", "once", "--config", filepath.Join(dir, "tally.yaml"), "--json")
	var s struct{ Delivered, Pending int }
	if err := json.Unmarshal([]byte(out), &s); err != nil || s.Delivered != total(outbox) || s.Pending != 0 {
		t.Errorf("once --config: %s (%v)", out, err)
	}
	if _, err := os.Stat(filepath.Join(exp, "inventory-1-spring-2027-fiction", "koha-inventory.csv")); err != nil {
		t.Error(err)
	}
}

func TestSyncErrors(t *testing.T) {
	t.Setenv("TALLY_DB", filepath.Join(t.TempDir(), "tally.db"))
	if _, errOut := tallyFail(t, "", "sync", "once"); !strings.Contains(errOut, "--export-dir") {
		t.Errorf("once without sinks: %s", errOut)
	}
	if _, errOut := tallyFail(t, "", "sync", "once", "--webhook-url", "http://127.0.0.1:1/h"); !strings.Contains(errOut, "secret") {
		t.Errorf("webhook without a secret: %s", errOut)
	}
	if _, errOut := tallyFail(t, "", "sync", "frobnicate"); !strings.Contains(errOut, "unknown subcommand") {
		t.Errorf("unknown: %s", errOut)
	}
	if out := tally(t, "", "sync", "once", "--help"); !strings.Contains(out, "--max-time") {
		t.Errorf("help:\n%s", out)
	}
	_ = context.Background
}

// TestSyncOnceFlaky: through an upstream failing one request in five,
// one `sync once` keeps delivering until the backlog is empty (it used to
// stop at the first failed batch), each change applied once.
func TestSyncOnceFlaky(t *testing.T) {
	dir, outbox := syncFixture(t)
	n := total(outbox)
	os.WriteFile(filepath.Join(dir, "secret"), []byte("s"), 0o600)
	rc := webhooktest.New([]byte("s"))
	defer rc.Close()
	rc.SetFault(webhooktest.Flaky(3))
	out := tally(t, "", "sync", "once", "--webhook-url", rc.URL(), "--webhook-secret-file", filepath.Join(dir, "secret"), "--json")
	var s onceJSON
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if s.Delivered != n || s.Pending != 0 || s.Retried == 0 || s.MaxTimeReached {
		t.Errorf("once through a flaky upstream: %s\nwant %d delivered, some retried, none pending", out, n)
	}
	if got, st := len(rc.Applied()), rc.Stats(); got != n || st.Applied != n || st.Mismatches != 0 {
		t.Errorf("receiver holds %d (%+v), want %d", got, st, n)
	}
	checkJSON(t, out)
}

// TestSyncOnceMaxTime: with the upstream down, `sync once --max-time`
// stops, says what is left per sink and when it is next due, and the JSON
// says the same.
func TestSyncOnceMaxTime(t *testing.T) {
	dir, outbox := syncFixture(t)
	n := total(outbox)
	os.WriteFile(filepath.Join(dir, "secret"), []byte("s"), 0o600)
	rc := webhooktest.New([]byte("s"))
	rc.Down()
	args := []string{"sync", "once", "--webhook-url", rc.URL(), "--webhook-secret-file", filepath.Join(dir, "secret"), "--max-time", "1500ms"}
	out := tally(t, "", args...)
	for _, want := range []string{"delivered 0,", "; " + itoa(n) + " pending", "stopped within --max-time 1.5s with " + itoa(n) + " left",
		"webhook: " + itoa(n) + " pending, next due ", "last error: webhook inv1/", "dial tcp"} {
		if !strings.Contains(out, want) {
			t.Errorf("once with the upstream down:\n%s\nlacks %q", out, want)
		}
	}
	out = tally(t, "", append(args, "--json")...)
	var s onceJSON
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	if !s.MaxTimeReached || s.Pending != n || len(s.Sinks) != 1 || s.Sinks[0].Pending != n || s.Next.IsZero() ||
		(s.Sinks[0].NextDue.IsZero() && s.Sinks[0].BackoffUntil.IsZero()) {
		t.Errorf("once --json with the upstream down:\n%s", out)
	}
	checkJSON(t, out)
	if _, errOut := tallyFail(t, "", "sync", "once", "--max-time", "0s", "--export-dir", dir); !strings.Contains(errOut, "--max-time") {
		t.Errorf("--max-time 0: %s", errOut)
	}
	checkJSON(t, tally(t, "", "sync", "status", "--json"))
}

// checkJSON fails on a key that is not snake_case, and on a year-1 time,
// anywhere in the document.
func checkJSON(t *testing.T, doc string) {
	t.Helper()
	if strings.Contains(doc, "0001-01-01") {
		t.Errorf("a zero time in:\n%s", doc)
	}
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("%v:\n%s", err, doc)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if !snake.MatchString(k) {
					t.Errorf("key %s.%s is not snake_case", path, k)
				}
				if k == "payload" || k == "data" {
					continue // the outbox's own payload
				}
				walk(path+"."+k, x)
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), x)
			}
		}
	}
	walk("", v)
}

var snake = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
