package engine

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/drivers/barcode"
)

func TestControlParseRoundTrip(t *testing.T) {
	for _, c := range []Control{{Cmd: CmdShelf, Inventory: 12}, {Cmd: CmdCart, Inventory: 3, Cart: "CART 01"},
		{Cmd: CmdPause}, {Cmd: CmdResume}, {Cmd: CmdEnd}, {Cmd: CmdUndo}, {Cmd: CmdOperator, Operator: "Ana"}} {
		got, err := ParseControl(barcode.Normalize(c.Code() + "\r"))
		if err != nil || got != c {
			t.Errorf("%s: parsed %+v, %v", c.Code(), got, err)
		}
	}
	for _, bad := range []string{"#TALLY:", "#TALLY:SHELF", "#TALLY:SHELF:x", "#TALLY:SHELF:0", "#TALLY:CART:1", "#TALLY:CART:1: ",
		"#TALLY:PAUSE:1", "#TALLY:OP:", "#TALLY:NAP", "TALLY:PAUSE"} {
		if c, err := ParseControl(bad); err == nil {
			t.Errorf("%q parsed as %+v", bad, c)
		}
	}
}

// A control barcode that reaches a session as a read (typed in the UI, or
// `tally scan`) is refused as an item, and journaled as such.
func TestControlRefusedAsItem(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, slices.Clone(fixture))
	inv, err := e.DB.CreateInventory(ctx, "Fiction", catalog.Scope{Locations: []string{"Fiction"}}, reconcile.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.DB.StartSession(ctx, inv.ID, "shelf", "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	r := scan(t, e, s.ID, Control{Cmd: CmdOperator, Operator: "Ana"}.Code())
	if r.Outcome != reconcile.Invalid || !strings.Contains(r.Detail.Problem, "control barcode") {
		t.Errorf("outcome %s, problem %q", r.Outcome, r.Detail.Problem)
	}
}
