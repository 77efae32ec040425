package koha

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/sync/koha/kohatest"
	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/relay"
)

const benchItems = 1000

func benchServer(b *testing.B) *kohatest.Server {
	srv := kohatest.New(kohatest.Opts{})
	b.Cleanup(srv.Close)
	for i := range benchItems {
		srv.AddItem(kohatest.Item{Barcode: fmt.Sprintf("3100%06d", i)})
	}
	return srv
}

// BenchmarkDeliver delivers seen events that each move an item's last-seen
// date: a lookup by exact barcode and a PUT per event, through the sink.
func BenchmarkDeliver(b *testing.B) {
	for _, conc := range []int{1, 4} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			srv := benchServer(b)
			o := DefaultOpts
			o.BaseURL, o.User, o.Password, o.Concurrency = srv.URL, "tally", "password", conc
			o.HTTPClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
			s, err := New(o)
			if err != nil {
				b.Fatal(err)
			}
			base := time.Date(2024, 5, 14, 8, 0, 0, 0, time.UTC)
			const batch = 100
			evs := make([]outbox.Event, 0, batch)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; {
				evs = evs[:0]
				for ; i < b.N && len(evs) < batch; i++ {
					at := base.Add(time.Duration(i) * time.Second).Format(time.RFC3339)
					bc := fmt.Sprintf("3100%06d", i%benchItems)
					evs = append(evs, outbox.Event{ID: int64(i), Kind: outbox.Seen, Barcode: bc, Data: outbox.Data{At: at, Date: at[:10]}})
				}
				for _, out := range s.Deliver(context.Background(), evs) {
					if out.Verdict != relay.Accept {
						b.Fatalf("%v", out.Err)
					}
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		})
	}
}

// BenchmarkRawGetPut is the baseline: the same GET and PUT per event with a
// bare HTTP client — no payload decoding, state checks, or verdicts.
func BenchmarkRawGetPut(b *testing.B) {
	srv := benchServer(b)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	auth := "Basic " + base64Encode("tally:password")
	do := func(method, u, body string) []byte {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, u, rd)
		req.Header.Set("Authorization", auth)
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			b.Fatalf("%s %s: %d %s", method, u, resp.StatusCode, out)
		}
		return out
	}
	base := time.Date(2024, 5, 14, 8, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		bc := fmt.Sprintf("3100%06d", i%benchItems)
		body := do("GET", srv.URL+"/api/v1/items?q="+url.QueryEscape(`{"external_id":"`+bc+`"}`), "")
		var items []struct {
			ItemID   int `json:"item_id"`
			BiblioID int `json:"biblio_id"`
		}
		if err := json.Unmarshal(body, &items); err != nil || len(items) != 1 {
			b.Fatalf("%v %s", err, body)
		}
		at := base.Add(time.Duration(i) * time.Second).Format(time.RFC3339)
		do("PUT", fmt.Sprintf("%s/api/v1/biblios/%d/items/%d", srv.URL, items[0].BiblioID, items[0].ItemID),
			`{"last_seen_date":"`+at+`"}`)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
