package web

import (
	"slices"
	"testing"

	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/reconcile"
)

// The UI's result of a pull-listed read says why to pull it.
func TestPullNote(t *testing.T) {
	v := viewOf(&engine.Result{Outcome: reconcile.OK, Flags: reconcile.Flags{reconcile.FlagPull},
		Detail: reconcile.Detail{Pull: "pull: hold for Ana"}})
	if !slices.Contains(v.Notes, "pull: hold for Ana") || slices.Contains(v.Notes, "pull") {
		t.Errorf("notes %q", v.Notes)
	}
}
