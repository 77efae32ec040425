package koha

import (
	"fmt"
	"testing"
	"time"

	"github.com/tally-inventory/tally/sync/koha/kohatest"
	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/relay"
	"github.com/tally-inventory/tally/sync/sinktest"
)

// contractKoha stages the contract's failures on the loopback Koha.
type contractKoha struct{ srv *kohatest.Server }

func (k contractKoha) Changes(bc string) int { return k.srv.ChangesPerBarcode()[bc] }

// Reject makes Koha refuse the item's update, as it does a body its
// OpenAPI validation fails.
func (k contractKoha) Reject(bc string) string {
	it, _ := k.srv.Item(bc)
	msg := "Item is locked by a cataloguing rule"
	k.srv.Inject(kohatest.Fault{Kind: kohatest.Status, Status: 400, Method: "PUT",
		Path: fmt.Sprintf("/biblios/%d/items/%d", it.BiblioID, it.ItemID), Msg: msg})
	return msg
}

func (k contractKoha) ThrottleNext(after time.Duration) {
	k.srv.Inject(kohatest.Fault{Kind: kohatest.RateLimit, RetryAfter: after})
}

func (k contractKoha) DropNextAfterApply() {
	k.srv.Inject(kohatest.Fault{Kind: kohatest.Reset, Method: "PUT"})
}

func TestContract(t *testing.T) {
	sinktest.Run(t, sinktest.Harness{
		Start: func(t *testing.T, barcodes []string) (relay.Sink, sinktest.Upstream) {
			f := newFixture(t, kohatest.Opts{}, nil)
			for _, bc := range barcodes {
				f.srv.AddItem(kohatest.Item{Barcode: bc, Title: "Book " + bc, HomeLibrary: "MAIN", HoldingLibrary: "MAIN",
					LastSeen: time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)})
			}
			return f.sink, contractKoha{f.srv}
		},
		Event: func(id int64, bc string) outbox.Event {
			ev := seenEv(bc, "2027-03-01T10:15:00Z")
			ev.ID = id
			return ev
		},
	})
}
