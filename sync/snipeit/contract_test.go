package snipeit

import (
	"sync"
	"testing"
	"time"

	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/relay"
	"github.com/tally-inventory/tally/sync/sinktest"
	"github.com/tally-inventory/tally/sync/snipeit/snipeittest"
)

// contractSnipeIT stages the contract's failures on the loopback Snipe-IT;
// an upstream change is an audit.
type contractSnipeIT struct {
	srv *snipeittest.Server
	mu  sync.Mutex
	ids map[string]int
}

func (c *contractSnipeIT) Changes(tag string) int { return c.srv.AuditsPerTag()[tag] }

func (c *contractSnipeIT) Reject(tag string) string {
	c.mu.Lock()
	id := c.ids[tag]
	c.mu.Unlock()
	c.srv.PutAsset(snipeittest.Asset{ID: id, Tag: tag, Deleted: true})
	return "Asset does not exist"
}

func (c *contractSnipeIT) ThrottleNext(time.Duration) { c.srv.Inject("*", snipeittest.Throttled, 1) }

func (c *contractSnipeIT) DropNextAfterApply() { c.srv.Inject("audit", snipeittest.ResetAfter, 1) }

// TestContract runs the contract against every release's routes.
func TestContract(t *testing.T) {
	eachVersion(t, func(t *testing.T, v snipeittest.Version) {
		sinktest.Run(t, sinktest.Harness{
			Start: func(t *testing.T, tags []string) (relay.Sink, sinktest.Upstream) {
				c := &contractSnipeIT{ids: map[string]int{}}
				var assets []snipeittest.Asset
				for i, tag := range tags {
					c.ids[tag] = 100 + i
					assets = append(assets, snipeittest.Asset{ID: 100 + i, Tag: tag, Name: "Chromebook " + tag, CategoryID: 3})
				}
				f := start(t, snipeittest.Opts{Version: v, Assets: assets}, nil)
				c.srv = f.srv
				return f.sink, c
			},
			Event: func(id int64, tag string) outbox.Event {
				ev := event("seen", tag)
				ev.ID = id
				return ev
			},
		})
	})
}
