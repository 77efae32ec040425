package web

import (
	"testing"

	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/reconcile"
)

// The UI's result of a pull-listed read says why to pull it, as its badge
// (not once more among the notes).
func TestPullNote(t *testing.T) {
	v := viewOf(&engine.Result{Outcome: reconcile.OK, Flags: reconcile.Flags{reconcile.FlagPull},
		Detail: reconcile.Detail{Pull: "pull: hold for Ana"}})
	if v.Pull != "pull: hold for Ana" || len(v.Notes) != 0 {
		t.Errorf("badge %q, notes %q", v.Pull, v.Notes)
	}
}
