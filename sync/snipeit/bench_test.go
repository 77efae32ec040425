package snipeit

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/relay"
	"github.com/tally-inventory/tally/sync/snipeit/snipeittest"
)

const benchAssets = 500

func benchServer(b *testing.B) *snipeittest.Server {
	assets := make([]snipeittest.Asset, benchAssets)
	for i := range assets {
		assets[i] = snipeittest.Asset{ID: i + 1, Tag: fmt.Sprintf("B-%04d", i+1), Name: "Chromebook", Model: "Chromebook 3110"}
	}
	now := scanDay.Add(-time.Hour) // every event's day is after the last audit: each one audits
	return snipeittest.Start(b, snipeittest.Opts{Token: token, Assets: assets, ThrottlePerMinute: -1, Now: func() time.Time { return now }})
}

// BenchmarkAudit is the sink's audit: a lookup (the dedupe check) and a
// POST per asset, delivered in batches of 50, pacing off.
func BenchmarkAudit(b *testing.B) {
	srv := benchServer(b)
	s, err := New(Opts{BaseURL: srv.URL(), Token: token, RatePerMinute: -1})
	if err != nil {
		b.Fatal(err)
	}
	const batch = 50
	evs := make([]outbox.Event, batch)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i += batch {
		m := min(batch, b.N-i)
		for k := range m {
			// A new day each pass over the assets, so nothing is deduped.
			day := scanDay.AddDate(0, 0, n/benchAssets)
			evs[k] = event("seen", fmt.Sprintf("B-%04d", n%benchAssets+1), "at", day.Format(time.RFC3339))
			n++
		}
		for _, o := range s.Deliver(context.Background(), evs[:m]) {
			if o.Verdict != relay.Accept {
				b.Fatalf("verdict %v: %v", o.Verdict, o.Err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "audits/s")
	if got := len(srv.Audits()); got != b.N {
		b.Fatalf("%d audits, want %d", got, b.N)
	}
}

// BenchmarkAuditBaseline is one bare legacy-route POST per audit, with no
// lookup and no dedupe: the floor the sink's check-first costs are
// measured against.
func BenchmarkAuditBaseline(b *testing.B) {
	srv := benchServer(b)
	c := &http.Client{}
	u := srv.URL() + "/api/v1/hardware/audit"
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		body := url.Values{"asset_tag": {fmt.Sprintf("B-%04d", i%benchAssets+1)}, "note": {"baseline"}}.Encode()
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "audits/s")
}
