package agent_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent"
	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/hidscanner"
	"github.com/tally-inventory/tally/drivers/sim"
	"github.com/tally-inventory/tally/sync/webhook/webhooktest"
)

// One read from driver to sink through the agent's public API: a simulated
// USB-HID scanner types a barcode, the real HID decoder reads it, the agent
// decides it in the scanner's session, and its "seen" event reaches the
// webhook sink the sync section configures: a receiver on loopback that
// checks the signature.
func TestAgentReadReachesSink(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	recv := webhooktest.New(secret)
	defer recv.Close()
	sc := sim.NewScanner("us")
	a := webhookAgent(t, ctx, recv.URL(), 50*time.Millisecond, agent.Opts{Log: io.Discard,
		Devices: []engine.DeviceSpec{{Name: "wand", Kind: drivers.KindScanner, Profile: "generic-keyboard-wedge",
			Open: func(context.Context) (drivers.Reader, error) {
				return hidscanner.New("wand", sc, hidscanner.DefaultOpts)
			}}}})
	defer a.Close()
	e := a.Engine()
	items := []catalog.Item{{Barcode: "31234000123456", CallNumber: "FIC ADA", Title: "A", Library: "MAIN",
		Location: "Fiction", Kind: catalog.KindBook, Status: catalog.StatusAvailable}}
	if _, err := e.DB.Import(ctx, e.Index, "test", "csv", items, false, 0); err != nil {
		t.Fatal(err)
	}
	inv, err := e.DB.CreateInventory(ctx, "Fiction", catalog.Scope{Locations: []string{"Fiction"}}, reconcile.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := e.DB.StartSession(ctx, inv.ID, "shelf", "", "", "wand")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Devices().Bind(ctx, "wand", sess.ID); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	if err := sc.Scan(ctx, "31234000123456"); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(20 * time.Second)
	for {
		for _, m := range recv.Applied() {
			if m.Kind == "seen" && m.Barcode == "31234000123456" && m.InventoryID == inv.ID {
				if st := recv.Stats(); st.BadSignatures != 0 {
					t.Errorf("receiver stats %+v", st)
				}
				return
			}
		}
		select {
		case <-deadline:
			t.Fatalf("no seen event reached the webhook; it has %v", recv.Applied())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
