package sip2_test

import (
	"testing"

	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/relay"
	"github.com/tally-inventory/tally/sync/sinktest"
	"github.com/tally-inventory/tally/sync/sip2"
	"github.com/tally-inventory/tally/sync/sip2/sip2test"
)

// contractILS stages the contract's failures on the loopback SIP2 server.
// SIP2 has no 429, so that case is skipped.
type contractILS struct{ srv *sip2test.Server }

func (c contractILS) Changes(bc string) int { return len(c.srv.ChangesFor(bc)) }

func (c contractILS) Reject(bc string) string {
	c.srv.RemoveItem(bc)
	return "does not know barcode"
}

func (c contractILS) DropNextAfterApply() {
	c.srv.Inject(sip2.CodeItemInformation, sip2test.DropMidReply, 1)
}

func TestContract(t *testing.T) {
	sinktest.Run(t, sinktest.Harness{
		Start: func(t *testing.T, barcodes []string) (relay.Sink, sinktest.Upstream) {
			srv := startSinkServer(t, sinkAccount(sip2test.SeenKeepLost))
			for _, bc := range barcodes {
				srv.PutItem(sip2test.Item{Barcode: bc, Title: "Book " + bc, PermanentLocation: "LMC", CurrentLocation: "LMC"})
			}
			return newSink(t, srv.Addr(), nil), contractILS{srv}
		},
		Event: func(id int64, bc string) outbox.Event {
			ev := sinkEvent("seen", bc)
			ev.ID = id
			return ev
		},
	})
}
