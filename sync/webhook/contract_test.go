package webhook_test

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/relay"
	"github.com/tally-inventory/tally/sync/sinktest"
	"github.com/tally-inventory/tally/sync/webhook"
	"github.com/tally-inventory/tally/sync/webhook/webhooktest"
)

// upstream stages the contract's failures on the loopback receiver.
type upstream struct {
	rc       *webhooktest.Receiver
	mu       sync.Mutex
	reject   string
	throttle bool
	drop     bool
}

func (u *upstream) fault(m outbox.Event, _ int) webhooktest.Fault {
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case u.throttle:
		u.throttle = false
		return webhooktest.TooMany
	case u.drop:
		u.drop = false
		return webhooktest.ResetAfter
	case m.Barcode == u.reject:
		return webhooktest.Reject
	}
	return webhooktest.OK
}

func (u *upstream) Changes(barcode string) int {
	n := 0
	for _, m := range u.rc.Applied() {
		if m.Barcode == barcode {
			n++
		}
	}
	return n
}

func (u *upstream) Reject(barcode string) string {
	u.mu.Lock()
	u.reject = barcode
	u.mu.Unlock()
	return "no item with barcode " + barcode
}

func (u *upstream) ThrottleNext(after time.Duration) {
	u.rc.SetRetryAfter(strconv.Itoa(int(after / time.Second)))
	u.mu.Lock()
	u.throttle = true
	u.mu.Unlock()
}

func (u *upstream) DropNextAfterApply() { u.mu.Lock(); u.drop = true; u.mu.Unlock() }

func TestContract(t *testing.T) {
	sinktest.Run(t, sinktest.Harness{
		Start: func(t *testing.T, _ []string) (relay.Sink, sinktest.Upstream) {
			rc := webhooktest.New(secret)
			t.Cleanup(rc.Close)
			u := &upstream{rc: rc}
			rc.SetFault(u.fault)
			s, err := webhook.New(rc.URL(), webhook.Opts{Secret: secret, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			return s, u
		},
		Event: func(id int64, bc string) outbox.Event {
			return outbox.Event{ID: id, Key: "1/" + bc + "/seen", Kind: outbox.Seen, InventoryID: 1, Barcode: bc,
				Data: outbox.Data{InventoryID: 1, Barcode: bc, Date: "2027-03-01"}, CreatedAt: time.Now()}
		},
	})
}
