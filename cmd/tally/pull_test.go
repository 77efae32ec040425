package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tally-inventory/tally/agent/store"
)

// A pull list attached from the CLI: a scan of a listed item carries flag
// pull and "pull: REASON" through the real engine and SQLite (text and JSON
// scan output, and the journal behind the report), and the report lists
// what was pulled and what was not found.
func TestPullList(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TALLY_DB", filepath.Join(dir, "tally.db"))
	cat := "barcode,title,call_number,library,location,status\n" +
		"P1,Holes,FIC SAC,MAIN,Fiction,available\n" +
		"P2,Hatchet,FIC PAU,MAIN,Fiction,available\n" +
		"P3,Old Atlas,FIC ZZZ,MAIN,Fiction,available\n" +
		"P4,Wonder,FIC PAL,MAIN,Fiction,available\n"
	os.WriteFile(filepath.Join(dir, "c.csv"), []byte(cat), 0o644)
	tally(t, "", "import", filepath.Join(dir, "c.csv"))
	tally(t, "", "inventory", "create", "--name", "Fiction", "--location", "Fiction")
	list := filepath.Join(dir, "pull.csv")
	os.WriteFile(list, []byte("\ufeffbarcode,reason\nP1,hold for Ana\nP3,weeding review\nP4,hold for Ben\nNOPE9,lost label\n"), 0o644)
	out := tally(t, "", "inventory", "pull", "1", list)
	if !strings.Contains(out, "pull list of 4 items") || !strings.Contains(out, list+":5: NOPE9 is not in the catalog") {
		t.Fatalf("inventory pull: %s", out)
	}
	tally(t, "", "session", "start", "--inventory", "1", "--operator", "ana")

	out = tally(t, "P2\nP1\n", "scan", "--session", "1")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if strings.Contains(lines[0], "pull") {
		t.Errorf("P2 is not on the list: %q", lines[0])
	}
	if !strings.Contains(out, "(also: pull)") || !strings.Contains(out, "pull: hold for Ana") {
		t.Errorf("scan of P1 does not say pull: %s", out)
	}

	out = tally(t, "P3\nP1\n", "scan", "--session", "1", "--json")
	var got []scanLine
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var l scanLine
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("%v in %s", err, out)
		}
		got = append(got, l)
	}
	if len(got) != 2 || got[0].Barcode != "P3" || got[0].Detail.Pull != "pull: weeding review" || !slices.Contains(got[0].Flags, "pull") {
		t.Fatalf("scan --json: %+v", got)
	}
	if got[1].Outcome != "duplicate" || got[1].Detail.Pull != "pull: hold for Ana" {
		t.Errorf("a second read of a listed item still says pull: %+v", got[1])
	}

	var reps []struct {
		Name string              `json:"name"`
		Rows []map[string]string `json:"rows"`
	}
	out = tally(t, "", "report", "--inventory", "1", "--format", "json", "pulled", "pull_not_found")
	if err := json.Unmarshal([]byte(out), &reps); err != nil || len(reps) != 2 {
		t.Fatalf("report: %v\n%s", err, out)
	}
	col := func(rows []map[string]string, c string) string {
		var s []string
		for _, r := range rows {
			s = append(s, r[c])
		}
		return strings.Join(s, " ")
	}
	if b, r := col(reps[0].Rows, "barcode"), col(reps[0].Rows, "reason"); b != "P1 P3" || r != "hold for Ana weeding review" {
		t.Errorf("pulled: %s / %s", b, r)
	}
	if b, s := col(reps[1].Rows, "barcode"), col(reps[1].Rows, "status"); b != "P4 NOPE9" || s != "available not in the catalog" {
		t.Errorf("pull_not_found: %s / %s", b, s)
	}
	// The default report (all) includes both, as CSV too.
	if out := tally(t, "", "report", "--inventory", "1"); !strings.Contains(out, "P4,Wonder,FIC PAL,MAIN,Fiction,hold for Ben,available,"+list+":4") {
		t.Errorf("CSV report lacks the not-found row:\n%s", out)
	}
}

// A bad list is refused whole, each bad line named FILE:LINE, and nothing
// is attached.
func TestPullListRefused(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TALLY_DB", filepath.Join(dir, "tally.db"))
	tally(t, "", "inventory", "create", "--name", "All")
	for _, c := range []struct{ body, want string }{
		{"", "file is empty"},
		{"code,why\nP1,x\n", ":1: no barcode column"},
		{"barcode,reason\nP1,a\n,b\nP1,c\n", ":3: the barcode is empty"},
		{"barcode,reason\nP1,a\nP1,c\n", ":3: barcode P1 is already listed on line 2"},
		{"barcode,reason\nP1,\"a\n", ":2: "},
	} {
		f := filepath.Join(dir, "l.csv")
		os.WriteFile(f, []byte(c.body), 0o644)
		var out, errb bytes.Buffer
		if code := runMain(context.Background(), []string{"inventory", "pull", "1", f}, &out, &errb); code == 0 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%q: exit %d, %q; want %q", c.body, code, errb.String(), c.want)
		}
	}
	out := tally(t, "", "report", "--inventory", "1", "--format", "json", "pull_not_found")
	if !strings.Contains(out, `"rows": []`) {
		t.Errorf("a refused list was attached: %s", out)
	}
}

// While the agent runs it is the database's one writer: `tally inventory
// pull` hands the list to it over its API instead of being refused, a bad
// list is still refused with its FILE:LINE, and a holds list imported
// beside it counts at the agent's next read. Reads through the agent's API
// then say "pull: …".
func TestPullListThroughRunningAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	bin, dir := buildTally(t), t.TempDir()
	p, env := quietAgent(t, bin, dir)
	ro, err := store.OpenWith(context.Background(), p.db, store.Opts{Mode: store.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	var books []string
	rows, err := ro.SQL.Query("SELECT barcode FROM items WHERE location = 'Fiction' AND status = 'available' AND hold = 0 ORDER BY barcode DESC LIMIT 2")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var bc string
		rows.Scan(&bc)
		books = append(books, bc)
	}
	rows.Close()
	ro.Close()
	if len(books) != 2 {
		t.Fatalf("demo catalog: %v", books)
	}

	list := filepath.Join(dir, "pull.csv")
	os.WriteFile(list, []byte("barcode,reason\n"+books[0]+",repair the spine\n"), 0o644)
	code, out, errs := runBin(t, bin, env, "", "inventory", "pull", "1", list)
	if code != 0 || !strings.Contains(out, "handed to the running agent (pid "+fmt.Sprint(p.cmd.Process.Pid)) || !strings.Contains(out, "pull list of 1 items") {
		t.Fatalf("inventory pull beside the agent: exit %d\n%s%s", code, out, errs)
	}
	os.WriteFile(list, []byte("barcode,reason\n"+books[0]+",a\n"+books[0]+",b\n"), 0o644)
	if code, _, errs := runBin(t, bin, env, "", "inventory", "pull", "1", list); code == 0 || !strings.Contains(errs, "pull.csv:3: barcode "+books[0]+" is already listed on line 2") {
		t.Errorf("a bad list beside the agent: exit %d %s", code, errs)
	}
	holds := filepath.Join(dir, "holds.csv")
	os.WriteFile(holds, []byte("barcode,pickbranch,reservedate\n"+books[1]+",MPL,2026-11-30\n"), 0o644)
	if code, out, errs := runBin(t, bin, env, "", "holds", "import", holds); code != 0 || !strings.Contains(out, "holds to pull: 1") {
		t.Fatalf("holds import beside the agent: exit %d\n%s%s", code, out, errs)
	}

	c, tok := apiClient(t, p.ui)
	for i, want := range []string{"pull: repair the spine", "pull: hold for pickup at MPL, placed 2026-11-30"} {
		req, _ := http.NewRequest("POST", p.ui+"api/sessions/1/reads", strings.NewReader(`{"code":"`+books[i]+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(tok.Header, tok.CSRF)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Result struct {
				Flags  []string `json:"flags"`
				Detail struct {
					Pull string `json:"pull"`
				} `json:"detail"`
			} `json:"result"`
		}
		json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if got.Result.Detail.Pull != want || !slices.Contains(got.Result.Flags, "pull") {
			t.Errorf("read of %s through the agent: HTTP %d %+v, want %q", books[i], resp.StatusCode, got.Result, want)
		}
	}
	// Weeding rules applied beside the agent: chosen here from a read-only
	// view, attached by the agent.
	if code, out, errs := runBin(t, bin, env, "", "inventory", "weed", "1", "--older-than", "1", "--apply"); code != 0 ||
		!strings.Contains(out, "handed to the running agent") || !strings.Contains(out, "weeding list of ") {
		t.Errorf("weed --apply beside the agent: exit %d\n%s%s", code, out, errs)
	}
	if code, out, _ := runBin(t, bin, env, "", "report", "--inventory", "1", "pull_not_found"); code != 0 || !strings.Contains(out, "weeding review: published ") {
		t.Errorf("the weeding list the agent attached is not in the report:\n%.600s", out)
	}
}
