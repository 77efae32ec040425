package agent_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent"
	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/sync/sinks"
	"github.com/tally-inventory/tally/sync/webhook"
	"github.com/tally-inventory/tally/sync/webhook/webhooktest"
)

// TestReadWakesRelay: with the relay polling once an hour, a read's
// upstream effects still go at once — the agent kicks the relay after the
// commit that queued them. Each read is submitted after the one before was
// delivered, so the relay is asleep for its hour when the read commits;
// without the kick it would arrive only at the next poll, long after the
// test gives up.
func TestReadWakesRelay(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rc := webhooktest.New(secret)
	defer rc.Close()
	a := webhookAgent(t, ctx, rc.URL(), time.Hour, agent.Opts{Log: io.Discard})
	defer a.Close()
	e := a.Engine()
	items := []catalog.Item{
		{Barcode: "B1", Title: "One", Library: "MAIN", Location: "FIC", Kind: catalog.KindBook, Status: catalog.StatusAvailable},
		{Barcode: "B2", Title: "Two", Library: "MAIN", Location: "FIC", Kind: catalog.KindBook, Status: catalog.StatusAvailable},
	}
	if _, err := e.DB.Import(ctx, e.Index, "test", "csv", items, false, 0); err != nil {
		t.Fatal(err)
	}
	inv, err := e.DB.CreateInventory(ctx, "Fiction", catalog.Scope{Locations: []string{"FIC"}}, reconcile.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := e.DB.StartSession(ctx, inv.ID, "shelf", "", "ana", "desk")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()

	giveUp := time.After(30 * time.Second) // an hour's poll would come much later
	for _, bc := range []string{"B1", "B2"} {
		if _, err := e.Submit(ctx, sess.ID, drivers.Read{Device: "desk", Kind: drivers.KindScanner, Code: bc, Time: time.Now()}); err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprintf("inv%d/%s/seen", inv.ID, bc)
		for {
			if _, ok := rc.Applied()[key]; ok {
				break
			}
			select {
			case <-giveUp:
				t.Fatalf("%s not delivered: the relay was not woken after the commit (receiver holds %d)", key, len(rc.Applied()))
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
}

// secret signs the webhook requests of the agents webhookAgent makes.
var secret = []byte("a webhook secret")

// webhookAgent is an agent on a fresh database whose one sink is a webhook
// to url, polled every interval.
func webhookAgent(t *testing.T, ctx context.Context, url string, interval time.Duration, opts agent.Opts) *agent.Agent {
	t.Helper()
	cfg := agent.DefaultConfig()
	cfg.Database, cfg.Listen, cfg.Metrics.Listen = filepath.Join(t.TempDir(), "tally.db"), "", ""
	cfg.Sync.Interval = agent.Duration(interval)
	secretFile := filepath.Join(t.TempDir(), "webhook.secret")
	if err := os.WriteFile(secretFile, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Sync.Sinks = map[string]sinks.Config{"webhook": &webhook.Config{URL: url, SecretFile: secretFile}}
	a, err := agent.New(ctx, &cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
