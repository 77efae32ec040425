package agent_test

import (
	"context"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent"
	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/store"
	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/feedback"
	"github.com/tally-inventory/tally/drivers/hidscanner"
	"github.com/tally-inventory/tally/drivers/sim"
)

// signalRecorder is a feedback sink that keeps what it was told to play.
type signalRecorder chan string

func (r signalRecorder) Signal(_ context.Context, outcome string) error {
	r <- outcome
	return nil
}

// A student walking a shelf with a scanner and no screen hears a swap of
// two neighbours at the next read, and a book that moved as soon as a later
// read proves it — through the agent's public API: simulated USB-HID
// scanner, hidscanner decoder, devices, engine, feedback.
func TestShelfOrderSignalled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := agent.DefaultConfig()
	cfg.Database, cfg.Listen, cfg.Metrics.Listen = filepath.Join(t.TempDir(), "tally.db"), "", ""
	rec := make(signalRecorder, 64)
	results := make(chan *engine.Result, 64)
	sc := sim.NewScanner("us")
	a, err := agent.New(ctx, &cfg, agent.Opts{Log: io.Discard, Feedback: rec,
		Devices: []engine.DeviceSpec{{Name: "scanner", Kind: drivers.KindScanner,
			Open: func(context.Context) (drivers.Reader, error) {
				return hidscanner.New("scanner", sc, hidscanner.DefaultOpts)
			}}},
		OnRead: func(_ string, _ drivers.Read, res *engine.Result, err error) {
			if err != nil {
				t.Errorf("read not stored: %v", err)
			}
			results <- res
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() }) // after runAgent's cleanup: Run ends first
	var items []catalog.Item
	for i, c := range []string{"ADA", "BAK", "CAR", "DAH", "EVA", "FOX", "GRA", "HAL", "ITO"} {
		items = append(items, catalog.Item{Barcode: "B" + string(rune('1'+i)), CallNumber: "FIC " + c, Title: "Book " + c,
			Library: "MAIN", Location: "Fiction", Kind: catalog.KindBook, Status: catalog.StatusAvailable})
	}
	inv, sess := shelfSession(t, ctx, a, "scanner", items)
	runAgent(t, ctx, a)

	// B4 and B3 (FIC DAH, FIC CAR) are swapped: told at B5. B9 (FIC ITO)
	// stands before B6: certain at B7, while the student is two books on.
	walk := []string{"B1", "B2", "B4", "B3", "B5", "B9", "B6", "B7", "B8"}
	want := []string{feedback.OK, feedback.OK, feedback.OK, feedback.OK, feedback.Swap,
		feedback.OK, feedback.OK, feedback.OutOfOrder, feedback.OK}
	for _, code := range walk {
		if err := sc.Scan(ctx, code); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	var res []*engine.Result
	for range walk {
		select {
		case s := <-rec:
			got = append(got, s)
			res = append(res, <-results)
		case <-time.After(20 * time.Second):
			t.Fatalf("only %d of %d reads signalled: %v", len(got), len(walk), got)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("signals %v\nwant    %v", got, want)
	}
	sw := res[4]
	if sw.Outcome != reconcile.OK || !sw.Flags.Has(reconcile.FlagSwap) || sw.Detail.SwapA != "B4" || sw.Detail.SwapB != "B3" ||
		sw.Detail.Swap != "swap: FIC DAH (Book DAH) ↔ FIC CAR (Book CAR)" {
		t.Errorf("swap read: %s %v %+v", sw.Outcome, sw.Flags, sw.Detail)
	}
	if r := res[7]; len(r.Retro) != 1 || r.Retro[0].Barcode != "B9" || r.Retro[0].PrevCall != "FIC GRA" {
		t.Errorf("retro at B7: %+v", r.Retro)
	}
	// The journal keeps the swap: a reload of the screen says it too.
	var swaps []string
	err = a.Engine().DB.Reads(ctx, inv.ID, sess.ID, func(r *store.ReadRow) error {
		if reconcile.ParseFlags(r.Flags).Has(reconcile.FlagSwap) {
			swaps = append(swaps, r.Barcode+" "+r.Detail)
		}
		return nil
	})
	if err != nil || len(swaps) != 1 || !strings.Contains(swaps[0], `"swap_a":"B4","swap_b":"B3"`) {
		t.Errorf("journaled swaps %q, %v", swaps, err)
	}
}
