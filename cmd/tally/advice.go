package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/store"
)

// The errors here say the next step that works, as a command of this CLI:
// a paused session is resumed, an ended one is followed by a new session
// of its inventory, and a finalized inventory by a new inventory with the
// same scope — never a step that only leads to another refusal.

// sessionBlocked returns nil when session sid can take reads (or, with
// pausedOK, be resumed), else an error naming the next step.
func sessionBlocked(ctx context.Context, d *store.DB, sid int64, pausedOK bool) error {
	s, err := d.Session(ctx, sid)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("there is no session %d: `tally inventory list` lists the inventories, `tally inventory show ID` their sessions; or start one with `tally session start --inventory ID`", sid)
		}
		return err
	}
	inv, err := d.Inventory(ctx, s.InventoryID)
	if err != nil {
		return err
	}
	switch {
	case !inv.Open():
		return finalizedAdvice(inv, fmt.Sprintf("session %d belongs to inventory %d (%s), which", sid, inv.ID, inv.Name))
	case s.State == store.SessionEnded:
		return fmt.Errorf("session %d has ended, and ended sessions are not reopened: start another with `tally session start --inventory %d%s` and scan into that (the inventory counts across sessions)", sid, inv.ID, operatorFlag(s))
	case s.State == store.SessionPaused && !pausedOK:
		return fmt.Errorf("session %d is paused: resume it with `tally session resume %d`, then scan again", sid, sid)
	}
	return nil
}

// finalizedAdvice: a finalized inventory takes no more sessions; its
// reports are final, and counting again is a new inventory.
func finalizedAdvice(inv *store.Inventory, subject string) error {
	return fmt.Errorf("%s was finalized on %s: its counts are final (see `tally report --inventory %d`); to count again, create a new inventory: `tally inventory create --name NAME%s`",
		subject, inv.FinalizedAt.Local().Format("2006-01-02"), inv.ID, scopeFlags(inv.Scope))
}

// inventoryBlocked returns nil when inventory id can take a new session.
func inventoryBlocked(ctx context.Context, d *store.DB, id int64) error {
	inv, err := d.Inventory(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("there is no inventory %d: `tally inventory list` lists them; `tally inventory create --name NAME` makes one", id)
		}
		return err
	}
	if !inv.Open() {
		return finalizedAdvice(inv, fmt.Sprintf("inventory %d (%s)", inv.ID, inv.Name))
	}
	return nil
}

func operatorFlag(s *store.Session) string {
	var b strings.Builder
	if s.Cart != "" {
		fmt.Fprintf(&b, " --cart %s", shellWord(s.Cart))
	}
	if s.Operator != "" {
		fmt.Fprintf(&b, " --operator %s", shellWord(s.Operator))
	}
	return b.String()
}

// scopeFlags are the `tally inventory create` flags for a scope.
func scopeFlags(sc catalog.Scope) string {
	var b strings.Builder
	list := func(flag string, vs []string) {
		if len(vs) > 0 {
			fmt.Fprintf(&b, " --%s %s", flag, shellWord(strings.Join(vs, ",")))
		}
	}
	list("library", sc.Libraries)
	list("location", sc.Locations)
	list("collection", sc.Collections)
	list("item-type", sc.ItemTypes)
	list("container", sc.Containers)
	var kinds, skips []string
	for _, k := range sc.Kinds {
		kinds = append(kinds, string(k))
	}
	for _, s := range sc.SkipStatuses {
		skips = append(skips, string(s))
	}
	list("kind", kinds)
	if sc.CallFrom != "" {
		fmt.Fprintf(&b, " --call-from %s", shellWord(sc.CallFrom))
	}
	if sc.CallTo != "" {
		fmt.Fprintf(&b, " --call-to %s", shellWord(sc.CallTo))
	}
	if len(skips) == 0 {
		skips = []string{"none"} // stored as it was made: without it, create would add the default skips
	}
	list("skip-status", skips)
	if !sc.SkipSeenSince.IsZero() {
		fmt.Fprintf(&b, " --skip-seen-since %s", sc.SkipSeenSince.Format("2006-01-02"))
	}
	return b.String()
}

// shellWord quotes s for a shell when it needs it.
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r == ',' || r == '/' || r == ':' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// nameTaken says what to do when an inventory of that name exists.
func nameTaken(ctx context.Context, d *store.DB, name string) error {
	invs, err := d.Inventories(ctx)
	if err != nil {
		return err
	}
	for _, inv := range invs {
		if !strings.EqualFold(inv.Name, name) {
			continue
		}
		if inv.Open() {
			return fmt.Errorf("inventory %d is named %q already: to go on with it, `tally session start --inventory %d`; for a new one, pick another --name", inv.ID, inv.Name, inv.ID)
		}
		return fmt.Errorf("inventory %d, named %q, was finalized on %s: pick another --name for the new one, e.g. `tally inventory create --name NAME%s`", inv.ID, inv.Name, inv.FinalizedAt.Local().Format("2006-01-02"), scopeFlags(inv.Scope))
	}
	return nil
}
