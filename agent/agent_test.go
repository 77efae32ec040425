package agent_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent"
	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/engine"
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
	t.Cleanup(func() { a.Close() }) // after runAgent's cleanup: Run ends first
	items := []catalog.Item{{Barcode: "31234000123456", CallNumber: "FIC ADA", Title: "A", Library: "MAIN",
		Location: "Fiction", Kind: catalog.KindBook, Status: catalog.StatusAvailable}}
	inv, _ := shelfSession(t, ctx, a, "wand", items)
	runAgent(t, ctx, a)

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
