package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/store"
)

func cmdInventoryPull(ctx context.Context, args []string) error {
	fs := newFlags("inventory pull", "ID FILE.csv", `
Attaches a pull list to an inventory: items to take off the shelf when the
walk meets them (holds to pull, weeding review). FILE.csv has the header
"barcode,reason"; a scan of a listed item plays the pull signal and shows
"pull: REASON". The list replaces the inventory's previous one; reports
"pulled" and "pull_not_found" show what the walk met and did not.
While the agent runs, the list is handed to it over its UI's API (the
agent is the database's one writer); set TALLY_TOKEN when its UI needs a
login token.`)
	db := dbFlag(fs)
	if err := parseArgs(fs, args, 2); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("give the inventory id and the CSV file, e.g. `tally inventory pull 1 holds.csv`")
	}
	file := fs.Arg(1)
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("%q is not an inventory id (list them with `tally inventory list`)", fs.Arg(0))
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("pull list: %w", err)
	}
	items, err := engine.ParsePullCSV(file, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	var a *engine.Attached
	d, err := openDB(ctx, *db)
	var locked *store.LockedError
	switch {
	case errors.As(err, &locked) && locked.Holder.Agent && locked.Holder.UI != "":
		if a, err = handOverPull(ctx, locked.Holder.UI, id, store.ListFile, file, raw); err != nil {
			return fmt.Errorf("%w\n(the agent, pid %d, holds %s; the list was not attached)", err, locked.Holder.PID, filepath.Base(*db))
		}
		fmt.Fprintf(stdout, "handed to the running agent (pid %d, UI %s)\n", locked.Holder.PID, locked.Holder.UI)
	case err != nil:
		return err
	default:
		defer d.Close()
		x, err := d.LoadIndex(ctx)
		if err != nil {
			return err
		}
		if a, err = engine.AttachPullList(ctx, d, x, id, store.ListFile, file, items); err != nil {
			return err
		}
	}
	for _, it := range a.Unknown {
		fmt.Fprintf(stdout, "%s:%d: %s is not in the catalog (kept: it counts once an import brings it)\n", file, it.Line, it.Barcode)
	}
	fmt.Fprintf(stdout, "inventory %d (%s): pull list of %d items from %s attached", id, a.Inventory.Name, a.Items, file)
	if len(a.Unknown) > 0 {
		fmt.Fprintf(stdout, ", %d not in the catalog", len(a.Unknown))
	}
	fmt.Fprintf(stdout, "\nreport: tally report --inventory %d pulled pull_not_found\n", id)
	return nil
}

// handOverPull posts the list to the running agent's API (POST
// /api/inventories/ID/pull), which checks and attaches it as the
// database's one writer. Without a token it takes a CSRF token as a
// browser would (GET /api/csrf); with TALLY_TOKEN it sends it as Bearer.
func handOverPull(ctx context.Context, ui string, id int64, list, file string, body []byte) (*engine.Attached, error) {
	base, err := url.Parse(ui)
	if err != nil {
		return nil, fmt.Errorf("the agent's UI address %q: %w", ui, err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 60 * time.Second}
	post, _ := url.Parse(fmt.Sprintf("api/inventories/%d/pull?file=%s&list=%s", id, url.QueryEscape(filepath.Base(file)), url.QueryEscape(list)))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base.ResolveReference(post).String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/csv; charset=utf-8")
	if tok := strings.TrimSpace(os.Getenv("TALLY_TOKEN")); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	} else {
		get, _ := url.Parse("api/csrf")
		creq, _ := http.NewRequestWithContext(ctx, http.MethodGet, base.ResolveReference(get).String(), nil)
		resp, err := c.Do(creq)
		if err != nil {
			return nil, fmt.Errorf("hand the list to the running agent: %w", err)
		}
		var tok struct{ CSRF, Header string }
		err = json.NewDecoder(resp.Body).Decode(&tok)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || tok.CSRF == "" {
			return nil, fmt.Errorf("hand the list to the running agent: GET %s: HTTP %d", get, resp.StatusCode)
		}
		req.Header.Set(tok.Header, tok.CSRF)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("hand the list to the running agent: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == http.StatusUnauthorized {
		return nil, errors.New("the agent's UI needs a login: set TALLY_TOKEN to its token, or upload the list on the inventory's page in the UI")
	}
	if resp.StatusCode != http.StatusCreated {
		var e struct{ Error string }
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return nil, errors.New(e.Error)
		}
		return nil, fmt.Errorf("the agent answered HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	var a engine.Attached
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("the agent's answer: %w", err)
	}
	return &a, nil
}
