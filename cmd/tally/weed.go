package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/store"
	"github.com/tally-inventory/tally/agent/weed"
)

func cmdInventoryWeed(ctx context.Context, args []string) error {
	fs := newFlags("inventory weed", "ID RULES… [--apply]", `
Chooses books for weeding review by rules and attaches them to inventory ID
as its weeding pull list: a scan of a chosen book plays the pull signal and
shows "pull: weeding review: published 1998; last checkout 2016-03-02".
Every rule given must hold, as in the CREW method's "X years old and Y years
without a checkout" (MUSTIE — misleading, ugly, superseded, trivial,
irrelevant, elsewhere — is for the librarian once the book is in hand).
Only books at home in the inventory's scope, and not on loan, lost or
withdrawn, are chosen. Without --apply it prints what the rules choose and
attaches nothing. The last checkout comes from the import's
datelastborrowed (Koha) or last_borrowed column, the condition from a
condition column; books without one are not chosen by that rule, and the
dry run counts them. While the agent runs, --apply hands the list to it
over its UI's API (set TALLY_TOKEN when the UI needs a login token).`)
	db := dbFlag(fs)
	rng := fs.String("call-range", "", "call-number `range` in shelf order, e.g. 000-099, 500-599, QA1-QA99 (FROM..TO when call numbers have hyphens)")
	before := fs.String("published-before", "", "published before this `year`")
	older := fs.Int("older-than", 0, "published more than this many `years` ago")
	since := fs.String("not-circulated-since", "", "last checkout before this `date` (YYYY-MM-DD)")
	var conds multi
	fs.Var(&conds, "condition", "condition `words` (comma-separated or repeated): poor, damaged …")
	apply := fs.Bool("apply", false, "attach the list (without it, only print what the rules choose)")
	if err := parseArgs(fs, args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("give the inventory id and rules, e.g. `tally inventory weed 1 --call-range 000-099 --published-before 2005`")
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("%q is not an inventory id (list them with `tally inventory list`)", fs.Arg(0))
	}
	var r weed.Rules
	if *rng != "" {
		if r.CallFrom, r.CallTo, err = weed.ParseCallRange(*rng); err != nil {
			return fmt.Errorf("--call-range: %w", err)
		}
	}
	if *before != "" {
		if r.PublishedBefore, err = weed.ParseYear(*before); err != nil {
			return fmt.Errorf("--published-before: %w", err)
		}
	}
	if *older > 0 {
		y := weed.OlderThan(*older, time.Now())
		if r.PublishedBefore != 0 && r.PublishedBefore != y {
			return fmt.Errorf("--older-than %d means published before %d, --published-before says %d: give one", *older, y, r.PublishedBefore)
		}
		r.PublishedBefore = y
	}
	if *since != "" {
		d, err := catalog.ParseDate(*since)
		if err != nil {
			return fmt.Errorf("--not-circulated-since: %w", err)
		}
		r.NotCirculatedSince = d
	}
	r.Conditions = conds
	if r.Empty() {
		return fmt.Errorf("give at least one rule: --published-before YEAR, --older-than YEARS, --not-circulated-since DATE or --condition WORDS (--call-range says where, not what)")
	}
	// With --apply this process attaches the list as the database's writer;
	// while the agent runs, the agent does, over its API.
	var d *store.DB
	var agent *store.Holder
	if *apply {
		d, err = openDB(ctx, *db)
		var locked *store.LockedError
		if errors.As(err, &locked) && locked.Holder.Agent && locked.Holder.UI != "" {
			agent = &locked.Holder
			d, err = openReadOnly(ctx, *db)
		}
	} else {
		d, err = openReadOnly(ctx, *db)
	}
	if err != nil {
		return err
	}
	defer d.Close()
	inv, err := d.Inventory(ctx, id)
	if err != nil {
		return err
	}
	if !inv.Open() {
		return fmt.Errorf("inventory %d (%s) is finalized: a pull list acts while the walk goes on; create a new inventory", inv.ID, inv.Name)
	}
	sel := weed.NewSelector(r)
	skip := map[catalog.Status]bool{}
	for _, s := range inv.Scope.SkipStatuses {
		skip[s] = true
	}
	var hits []weed.Hit
	err = d.Candidates(ctx, func(it catalog.Item) error {
		if !inv.Scope.Home(&it) || skip[it.Status] {
			return nil
		}
		if h, ok := sel.Check(it); ok {
			hits = append(hits, h)
		}
		return nil
	})
	if err != nil {
		return err
	}
	printWeedCounts(r, sel.Counts)
	if !*apply {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		for i, h := range hits {
			if i == 20 {
				fmt.Fprintf(tw, "… and %d more\n", len(hits)-20)
				break
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", h.Item.Barcode, h.Item.CallNumber, h.Item.Title, h.Reason)
		}
		tw.Flush()
		fmt.Fprintf(stdout, "dry run: nothing attached; add --apply to attach these %d to inventory %d\n", len(hits), id)
		return nil
	}
	items := make([]store.PullItem, len(hits))
	for i, h := range hits {
		items[i] = store.PullItem{Barcode: h.Item.Barcode, Reason: h.Reason, Source: "weeding rules"}
	}
	if agent != nil && len(items) == 0 {
		fmt.Fprintln(stdout, "the rules chose nothing: the weeding list is unchanged")
		return nil
	}
	if agent != nil {
		var body bytes.Buffer
		w := csv.NewWriter(&body)
		w.Write([]string{"barcode", "reason"})
		for _, it := range items {
			w.Write([]string{it.Barcode, it.Reason})
		}
		w.Flush()
		if _, err := handOverPull(ctx, agent.UI, id, store.ListWeeding, "weeding rules", body.Bytes()); err != nil {
			return fmt.Errorf("%w\n(the agent, pid %d, holds the database; the weeding list was not attached)", err, agent.PID)
		}
		fmt.Fprintf(stdout, "handed to the running agent (pid %d, UI %s)\n", agent.PID, agent.UI)
	} else if err := d.SetPullListKind(ctx, id, store.ListWeeding, items); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "inventory %d (%s): weeding list of %d items attached (it replaces the previous weeding list)\nreport: tally report --inventory %d pulled pull_not_found\n", id, inv.Name, len(items), id)
	return nil
}

func printWeedCounts(r weed.Rules, n weed.Counts) {
	where := "books in the inventory's scope"
	if r.CallFrom != "" || r.CallTo != "" {
		where = fmt.Sprintf("books in %s–%s", r.CallFrom, r.CallTo)
	}
	fmt.Fprintf(stdout, "%s: %d\n", where, n.InRange)
	if r.PublishedBefore != 0 {
		fmt.Fprintf(stdout, "  published before %d: %d (%d with no year, not chosen)\n", r.PublishedBefore, n.ByYear, n.NoYear)
	}
	if !r.NotCirculatedSince.IsZero() {
		fmt.Fprintf(stdout, "  last checkout before %s: %d (%d with no last checkout, not chosen)\n", r.NotCirculatedSince.Format("2006-01-02"), n.ByCirculation, n.NoLastCheckout)
	}
	if len(r.Conditions) > 0 {
		fmt.Fprintf(stdout, "  condition %s: %d\n", strings.Join(r.Conditions, ","), n.ByCondition)
	}
	fmt.Fprintf(stdout, "chosen by every rule: %d\n", n.Chosen)
}
