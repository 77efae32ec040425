package snipeit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/relay"
	"github.com/tally-inventory/tally/sync/snipeit/snipeittest"
)

const token = "tok-3f9a"

// clock is a settable clock for the server.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// scanDay is when the cart was scanned; the server's clock starts an hour later.
var scanDay = time.Date(2024, 3, 4, 14, 0, 0, 0, time.UTC)

func testAssets() []snipeittest.Asset {
	return []snipeittest.Asset{
		{ID: 1, Tag: "CART-01", Name: "Cart 1 & Co", Model: "Bretford Cart", Category: "Carts", CategoryID: 9, LocationID: 10},
		{ID: 2, Tag: "CART-02", Name: "Cart 2", Model: "Bretford Cart", Category: "Carts", CategoryID: 9, LocationID: 10},
		{ID: 11, Tag: "DAB-0101", Name: "Chromebook 1", Model: "Chromebook 3110", Serial: "SN1", CategoryID: 3, Category: "Laptops", AssignedTo: 1, AssignedType: "asset"},
		{ID: 12, Tag: "DAB-0102", Name: "Chromebook 2", Model: "Chromebook 3110", Serial: "SN2", CategoryID: 3, Category: "Laptops", AssignedTo: 1, AssignedType: "asset", StatusID: 5},
		{ID: 13, Tag: "DAB-0103", Name: "", Model: "Chromebook 3110", Serial: "SN3", CategoryID: 3, Category: "Laptops", AssignedTo: 1, AssignedType: "asset",
			LastAuditDate: time.Date(2023, 9, 1, 8, 0, 0, 0, time.UTC)},
		{ID: 14, Tag: "DAB-0104", Name: "Chromebook 4", Model: "Chromebook 3110", CategoryID: 3, AssignedTo: 1, AssignedType: "asset", StatusID: 7}, // Lost/Stolen: archived
		{ID: 21, Tag: "DAB-0201", Name: "Hotspot 1", Model: "Hotspot MF833", CategoryID: 4, AssignedTo: 2, AssignedType: "asset"},
		{ID: 22, Tag: "dab-0202", Name: "Hotspot 2", Model: "Hotspot MF833", CategoryID: 4, AssignedTo: 2, AssignedType: "asset"},
		{ID: 31, Tag: "CALC-01", Name: "TI-84 <1>", Model: "TI-84 Plus CE", CategoryID: 5, AssignedTo: 20, AssignedType: "location"},
		{ID: 40, Tag: "T'40", Name: "Loose laptop", Model: "Chromebook 3110", CategoryID: 3, AssignedTo: 99, AssignedType: "user"},
		{ID: 41, Tag: "GONE-1", Name: "Deleted", Deleted: true},
	}
}

func testLocations() []snipeittest.Location {
	return []snipeittest.Location{{ID: 10, Name: "Tech Room"}, {ID: 20, Name: "Math Cart \"B\""}}
}

type fixture struct {
	srv   *snipeittest.Server
	sink  *Sink
	clock *clock
}

func start(t *testing.T, so snipeittest.Opts, edit func(*Opts)) *fixture {
	t.Helper()
	ck := &clock{t: scanDay.Add(time.Hour)}
	so.Token = token
	if so.Assets == nil {
		so.Assets = testAssets()
	}
	so.Locations = testLocations()
	so.Now = ck.Now
	srv := snipeittest.Start(t, so)
	o := DefaultOpts
	o.BaseURL = srv.URL()
	o.Token = token
	o.RatePerMinute = -1
	o.Timeout = 5 * time.Second
	if edit != nil {
		edit(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, sink: s, clock: ck}
}

var nextID int64

func event(kind outbox.Kind, barcode string, extra ...any) outbox.Event {
	nextID++
	p := map[string]any{"inventory_id": 7, "inventory": "Spring carts", "session_id": 3,
		"date": scanDay.Format(time.DateOnly), "at": scanDay.Format(time.RFC3339), "device": "wand-1", "barcode": barcode}
	for i := 0; i+1 < len(extra); i += 2 {
		p[extra[i].(string)] = extra[i+1]
	}
	b, _ := json.Marshal(p)
	var d outbox.Data
	if err := json.Unmarshal(b, &d); err != nil {
		panic(err)
	}
	return outbox.Event{ID: nextID, Key: fmt.Sprintf("7/%s/%s", barcode, kind), Kind: kind, InventoryID: 7, Barcode: barcode, Data: d, CreatedAt: scanDay}
}

func verdicts(out []relay.Outcome) string {
	names := map[relay.Verdict]string{relay.Accept: "accept", relay.Retry: "retry", relay.Reject: "reject", relay.Skip: "skip"}
	var v []string
	for _, o := range out {
		v = append(v, names[o.Verdict])
	}
	return strings.Join(v, ",")
}

func expect(t *testing.T, out []relay.Outcome, want string) {
	t.Helper()
	if got := verdicts(out); got != want {
		for i, o := range out {
			t.Logf("outcome %d: %v %v", i, o.Verdict, o.Err)
		}
		t.Fatalf("verdicts = %s, want %s", got, want)
	}
}

// eachVersion runs f against the routes of every Snipe-IT release schools
// run (snipeittest.Versions).
func eachVersion(t *testing.T, f func(t *testing.T, v snipeittest.Version)) {
	for _, v := range snipeittest.Versions {
		t.Run(string(v), func(t *testing.T) { f(t, v) })
	}
}

func ops(s *snipeittest.Server) string {
	var v []string
	for _, r := range s.Requests() {
		v = append(v, fmt.Sprintf("%s:%d", r.Op, r.Status))
	}
	return strings.Join(v, " ")
}

func TestAuditSeen(t *testing.T) {
	eachVersion(t, func(t *testing.T, v snipeittest.Version) {
		f := start(t, snipeittest.Opts{Version: v}, nil)
		out := f.sink.Deliver(context.Background(), []outbox.Event{event("seen", "DAB-0101")})
		expect(t, out, "accept")
		audits := f.srv.Audits()
		if len(audits) != 1 {
			t.Fatalf("audits = %+v, want one", audits)
		}
		a := audits[0]
		if a.AssetID != 11 || a.Route != "legacy" || a.LocationID != 0 || a.UpdateLocation {
			t.Errorf("audit = %+v", a)
		}
		if want := `tally inventory "Spring carts" 2024-03-04: seen (device wand-1)`; a.Note != want {
			t.Errorf("note = %q, want %q", a.Note, want)
		}
		if got, want := ops(f.srv), "bytag:200 audit:200"; got != want {
			t.Errorf("requests = %s, want %s", got, want)
		}
		as, _ := f.srv.Asset(11)
		if !as.LastAuditDate.Equal(f.clock.Now()) {
			t.Errorf("last audit = %v", as.LastAuditDate)
		}
	})
}

func TestResendMakesNoSecondAudit(t *testing.T) {
	eachVersion(t, func(t *testing.T, v snipeittest.Version) {
		f := start(t, snipeittest.Opts{Version: v}, nil)
		evs := []outbox.Event{event("seen", "DAB-0101"), event("seen", "DAB-0102")}
		expect(t, f.sink.Deliver(context.Background(), evs), "accept,accept")
		// The relay crashed before marking the rows done: it sends them again,
		// later the same day and on the next day.
		expect(t, f.sink.Deliver(context.Background(), evs), "accept,accept")
		f.clock.Add(24 * time.Hour)
		expect(t, f.sink.Deliver(context.Background(), evs), "accept,accept")
		if got := f.srv.AuditsPerTag(); len(got) != 2 || got["DAB-0101"] != 1 || got["DAB-0102"] != 1 {
			t.Fatalf("audits per tag = %v, want one each", got)
		}
		if got, want := ops(f.srv), "bytag:200 audit:200 bytag:200 audit:200 bytag:200 bytag:200 bytag:200 bytag:200"; got != want {
			t.Errorf("requests = %s\nwant       %s", got, want)
		}
	})
}

func TestEventsForOneAssetShareOneAudit(t *testing.T) {
	eachVersion(t, func(t *testing.T, v snipeittest.Version) {
		f := start(t, snipeittest.Opts{Version: v}, nil)
		evs := []outbox.Event{
			event("seen", "DAB-0201"),
			event("found", "DAB-0201", "was", "lost", "clear_lost", true),
			event("cart_foreign", "DAB-0201", "cart", "CART-01", "home_cart", "CART-02", "asset_tag", "DAB-0201", "serial", "SNX"),
			event("seen", "DAB-0101"),
		}
		expect(t, f.sink.Deliver(context.Background(), evs), "accept,accept,accept,accept")
		audits := f.srv.Audits()
		if len(audits) != 2 {
			t.Fatalf("audits = %+v, want 2", audits)
		}
		want := `tally inventory "Spring carts" 2024-03-04: seen; found (was lost); found in cart CART-01, belongs in cart CART-02 (device wand-1)`
		if audits[0].Tag != "DAB-0201" || audits[0].Note != want {
			t.Errorf("audit = %+v\nwant note %q", audits[0], want)
		}
	})
}

func TestAlreadyAuditedThatDay(t *testing.T) {
	eachVersion(t, func(t *testing.T, v snipeittest.Version) {
		assets := testAssets()
		assets[2].LastAuditDate = scanDay.Add(2 * time.Hour) // someone audited it after the scan
		assets[3].LastAuditDate = scanDay.Add(-24 * time.Hour)
		f := start(t, snipeittest.Opts{Version: v, Assets: assets}, nil)
		expect(t, f.sink.Deliver(context.Background(), []outbox.Event{event("seen", "DAB-0101"), event("seen", "DAB-0102")}), "accept,accept")
		if got := f.srv.AuditsPerTag(); len(got) != 1 || got["DAB-0102"] != 1 {
			t.Fatalf("audits = %v, want only DAB-0102 (audited the day before)", got)
		}
	})
}

// Snipe-IT reports dates in its APP_TIMEZONE: a scan at 02:00 UTC on the
// 5th is the 4th in Chicago, and an audit at 21:00 Chicago time on the
// 4th covers it.
func TestDayInSnipeITZone(t *testing.T) {
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	assets := testAssets()
	assets[2].LastAuditDate = time.Date(2024, 3, 4, 21, 0, 0, 0, chicago)
	ck := &clock{t: time.Date(2024, 3, 5, 9, 0, 0, 0, chicago)}
	srv := snipeittest.Start(t, snipeittest.Opts{Token: token, Assets: assets, Now: ck.Now, Zone: chicago})
	at := time.Date(2024, 3, 5, 2, 0, 0, 0, time.UTC)
	ev := event("seen", "DAB-0101", "at", at.Format(time.RFC3339), "date", "2024-03-05")
	for _, tc := range []struct {
		zone   *time.Location
		audits int
	}{{chicago, 0}, {time.UTC, 1}} {
		s, err := New(Opts{BaseURL: srv.URL(), Token: token, RatePerMinute: -1, Zone: tc.zone})
		if err != nil {
			t.Fatal(err)
		}
		expect(t, s.Deliver(context.Background(), []outbox.Event{ev}), "accept")
		if n := len(srv.Audits()); n != tc.audits {
			t.Errorf("zone %v: %d audits, want %d", tc.zone, n, tc.audits)
		}
	}
}

func TestLocationUpdate(t *testing.T) {
	eachVersion(t, func(t *testing.T, v snipeittest.Version) {
		f := start(t, snipeittest.Opts{Version: v}, func(o *Opts) { o.LocationID, o.UpdateLocation = 20, true })
		expect(t, f.sink.Deliver(context.Background(), []outbox.Event{event("seen", "DAB-0101")}), "accept")
		a := f.srv.Audits()[0]
		if a.LocationID != 20 || !a.UpdateLocation {
			t.Errorf("audit = %+v, want location 20 with update", a)
		}
		if as, _ := f.srv.Asset(11); as.LocationID != 20 {
			t.Errorf("asset location = %d, want 20", as.LocationID)
		}
		// Noted but not moved.
		g := start(t, snipeittest.Opts{Version: v}, func(o *Opts) { o.LocationID = 20 })
		expect(t, g.sink.Deliver(context.Background(), []outbox.Event{event("seen", "DAB-0101")}), "accept")
		if a := g.srv.Audits()[0]; a.LocationID != 20 || a.UpdateLocation {
			t.Errorf("audit = %+v, want location 20 without update", a)
		}
		if as, _ := g.srv.Asset(11); as.LocationID != 0 {
			t.Errorf("asset moved to %d", as.LocationID)
		}
	})
}

func TestValidationErrorIsRejected(t *testing.T) {
	eachVersion(t, func(t *testing.T, v snipeittest.Version) {
		f := start(t, snipeittest.Opts{Version: v}, func(o *Opts) { o.LocationID = 555 })
		out := f.sink.Deliver(context.Background(), []outbox.Event{event("seen", "DAB-0101"), event("seen", "DAB-0102")})
		expect(t, out, "reject,reject")
		if !strings.Contains(out[0].Err.Error(), "location_id: The selected location id is invalid.") {
			t.Errorf("err = %v", out[0].Err)
		}
		if n := len(f.srv.Audits()); n != 0 {
			t.Errorf("%d audits", n)
		}
	})
}

func TestUnknownAssetIsRejected(t *testing.T) {
	eachVersion(t, func(t *testing.T, v snipeittest.Version) {
		f := start(t, snipeittest.Opts{Version: v}, nil)
		out := f.sink.Deliver(context.Background(), []outbox.Event{event("seen", "NOPE-1"), event("seen", "GONE-1"), event("seen", "DAB-0101")})
		expect(t, out, "reject,reject,accept")
		for _, o := range out[:2] {
			var ae *APIError
			if !errors.As(o.Err, &ae) || ae.HTTPStatus != 200 || len(ae.Messages) != 1 || ae.Messages[0] != "Asset does not exist." {
				t.Errorf("err = %#v (%v), want Snipe-IT's message", o.Err, o.Err)
			}
		}
		if n := len(f.srv.Audits()); n != 1 {
			t.Errorf("%d audits, want 1", n)
		}
	})
}

func TestTagCaseAndEscaping(t *testing.T) {
	eachVersion(t, func(t *testing.T, v snipeittest.Version) {
		f := start(t, snipeittest.Opts{Version: v}, nil)
		expect(t, f.sink.Deliver(context.Background(), []outbox.Event{event("seen", "DAB-0202"), event("seen", "T'40")}), "accept,accept")
		if got := f.srv.AuditsPerTag(); got["dab-0202"] != 1 || got["T'40"] != 1 {
			t.Errorf("audits = %v", got)
		}
	})
}

func TestKindsSkipped(t *testing.T) {
	f := start(t, snipeittest.Opts{}, nil)
	evs := []outbox.Event{
		event("misplaced", "DAB-0101", "home", "x"), event("checked_out_on_shelf", "DAB-0101", "check_in", true),
		event("unknown", "ZZZ", "code", "ZZZ"), event("missing", "DAB-0101"), event("cart_missing", "DAB-0102"),
	}
	expect(t, f.sink.Deliver(context.Background(), evs), "skip,skip,skip,skip,skip")
	if r := f.srv.Requests(); len(r) != 0 {
		t.Errorf("requests = %v", r)
	}
}

func TestEquipmentFilter(t *testing.T) {
	f := start(t, snipeittest.Opts{}, func(o *Opts) {
		o.Equipment = func(bc string) bool { return strings.HasPrefix(bc, "DAB-") }
	})
	expect(t, f.sink.Deliver(context.Background(), []outbox.Event{event("seen", "31234000123456"), event("seen", "DAB-0101")}), "skip,accept")
	if got, want := ops(f.srv), "bytag:200 audit:200"; got != want {
		t.Errorf("requests = %s, want %s", got, want)
	}
}

func TestMissingSetsStatusOnce(t *testing.T) {
	eachVersion(t, func(t *testing.T, v snipeittest.Version) {
		f := start(t, snipeittest.Opts{Version: v}, func(o *Opts) { o.MissingStatusID = 7 })
		evs := []outbox.Event{event("cart_missing", "DAB-0101"), event("missing", "DAB-0102")}
		expect(t, f.sink.Deliver(context.Background(), evs), "accept,accept")
		expect(t, f.sink.Deliver(context.Background(), evs), "accept,accept")
		ups := f.srv.Updates()
		if len(ups) != 2 || ups[0].AssetID != 11 || ups[1].AssetID != 12 || ups[0].Fields["status_id"] != 7 {
			t.Fatalf("updates = %+v, want one per asset", ups)
		}
		if len(f.srv.Audits()) != 0 {
			t.Errorf("missing made an audit")
		}
		g := start(t, snipeittest.Opts{Version: v}, func(o *Opts) { o.MissingStatusID = 77 })
		out := g.sink.Deliver(context.Background(), []outbox.Event{event("missing", "DAB-0101")})
		expect(t, out, "reject")
		if !strings.Contains(out[0].Err.Error(), "status_id: The selected status id is invalid.") {
			t.Errorf("err = %v", out[0].Err)
		}
	})
}

func TestExpiredToken(t *testing.T) {
	f := start(t, snipeittest.Opts{}, nil)
	f.srv.ExpireToken()
	out := f.sink.Deliver(context.Background(), []outbox.Event{event("seen", "DAB-0101"), event("seen", "DAB-0102"), event("misplaced", "DAB-0101")})
	expect(t, out, "reject,reject,skip")
	for _, o := range out[:2] {
		if msg := o.Err.Error(); !strings.Contains(msg, "check the Snipe-IT API token") || !strings.Contains(msg, "HTTP 401") || !strings.Contains(msg, "Unauthorized or unauthenticated.") {
			t.Errorf("err = %v", o.Err)
		}
	}
	if got, want := ops(f.srv), "other:401"; !strings.HasPrefix(got, "bytag:401") || strings.Count(got, ":") != 1 {
		t.Errorf("requests = %s, want one rejected lookup (%s)", got, want)
	}
}

func TestTokenFileRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snipeit.token")
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := start(t, snipeittest.Opts{}, func(o *Opts) { o.Token, o.TokenFile = "", path })
	expect(t, f.sink.Deliver(context.Background(), []outbox.Event{event("seen", "DAB-0101")}), "accept")
	f.srv.SetToken("tok-new")
	if err := os.WriteFile(path, []byte("tok-new\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	expect(t, f.sink.Deliver(context.Background(), []outbox.Event{event("seen", "DAB-0102")}), "accept")
	if n := len(f.srv.Audits()); n != 2 {
		t.Errorf("%d audits, want 2", n)
	}
}

func TestTransientFailures(t *testing.T) {
	eachVersion(t, func(t *testing.T, v snipeittest.Version) {
		for _, tc := range []struct {
			op         string
			fault      snipeittest.Fault
			retryAfter time.Duration
			audits     int // audits on the server after the failed delivery
		}{
			{"bytag", snipeittest.InternalError, 0, 0},
			{"bytag", snipeittest.Unavailable, time.Second, 0},
			{"bytag", snipeittest.BadGateway, 0, 0},
			{"bytag", snipeittest.Reset, 0, 0},
			{"bytag", snipeittest.Hang, 0, 0},
			{"audit", snipeittest.InternalError, 0, 0},
			{"audit", snipeittest.Reset, 0, 0},
			{"audit", snipeittest.ResetAfter, 0, 1},
			{"audit", snipeittest.HangAfter, 0, 1},
		} {
			t.Run(tc.op+"/"+tc.fault.String(), func(t *testing.T) {
				f := start(t, snipeittest.Opts{Version: v}, func(o *Opts) { o.Timeout = 300 * time.Millisecond })
				f.srv.Inject(tc.op, tc.fault, 1)
				evs := []outbox.Event{event("seen", "DAB-0101"), event("seen", "DAB-0102"), event("unknown", "X")}
				out := f.sink.Deliver(context.Background(), evs)
				expect(t, out, "retry,retry,skip")
				if out[0].RetryAfter != tc.retryAfter {
					t.Errorf("RetryAfter = %v, want %v", out[0].RetryAfter, tc.retryAfter)
				}
				if f.srv.Pending() != 0 {
					t.Fatal("the fault did not fire")
				}
				if n := len(f.srv.Audits()); n != tc.audits {
					t.Fatalf("%d audits after the failure, want %d", n, tc.audits)
				}
				// The rest of the batch was not tried.
				if n := len(f.srv.Requests()); n != map[string]int{"bytag": 1, "audit": 2}[tc.op] {
					t.Errorf("requests = %s", ops(f.srv))
				}
				expect(t, f.sink.Deliver(context.Background(), evs), "accept,accept,skip")
				if got := f.srv.AuditsPerTag(); got["DAB-0101"] != 1 || got["DAB-0102"] != 1 {
					t.Errorf("audits per tag = %v, want one each", got)
				}
			})
		}
	})
}

func TestThrottle(t *testing.T) {
	for _, headers := range []bool{false, true} {
		t.Run(fmt.Sprint("headers=", headers), func(t *testing.T) {
			f := start(t, snipeittest.Opts{ThrottlePerMinute: 3, ThrottleHeaders: headers}, nil)
			f.clock.Add(-15 * time.Second) // the window opens 45 s before the 429
			evs := []outbox.Event{event("seen", "DAB-0101"), event("seen", "DAB-0102"), event("seen", "DAB-0103")}
			expect(t, f.sink.Deliver(context.Background(), evs[:1]), "accept")
			f.clock.Add(45 * time.Second)
			out := f.sink.Deliver(context.Background(), evs[1:])
			expect(t, out, "retry,retry")
			want := time.Minute // Snipe-IT drops the header: wait a whole window
			if headers {
				want = 15 * time.Second
			}
			if out[0].RetryAfter != want || out[1].RetryAfter != want {
				t.Errorf("RetryAfter = %v, %v, want %v", out[0].RetryAfter, out[1].RetryAfter, want)
			}
			if got, want := ops(f.srv), "bytag:200 audit:200 bytag:200 audit:429"; got != want {
				t.Errorf("requests = %s, want %s", got, want)
			}
			// Until the wait is over the sink sends nothing.
			out = f.sink.Deliver(context.Background(), evs[1:])
			expect(t, out, "retry,retry")
			if out[0].RetryAfter <= 0 || out[0].RetryAfter > want {
				t.Errorf("RetryAfter while paused = %v", out[0].RetryAfter)
			}
			if n := len(f.srv.Requests()); n != 4 {
				t.Errorf("requests while paused: %s", ops(f.srv))
			}
		})
	}
}

func TestLimiterPaces(t *testing.T) {
	l := newLimiter(120)
	now := time.Unix(1000, 0)
	var slept []time.Duration
	l.now = func() time.Time { return now }
	l.sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); now = now.Add(d); return nil }
	for range 13 {
		if _, err := l.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// A burst of 10, then one request each 500 ms.
	if len(slept) != 3 || slept[0] != 500*time.Millisecond || slept[2] != 500*time.Millisecond {
		t.Fatalf("slept %v, want 3 × 500ms after a burst of 10", slept)
	}
	l.pause(30 * time.Second)
	if left, err := l.wait(context.Background()); err == nil || left != 30*time.Second {
		t.Errorf("wait during pause = %v, %v", left, err)
	}
	now = now.Add(31 * time.Second)
	if _, err := l.wait(context.Background()); err != nil {
		t.Errorf("after pause: %v", err)
	}
	if n, per := (&Sink{o: Opts{RatePerMinute: 120}}).RateLimit(); n != 120 || per != time.Minute {
		t.Errorf("RateLimit = %d/%v", n, per)
	}
}

func TestCanceledContext(t *testing.T) {
	f := start(t, snipeittest.Opts{}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := f.sink.Deliver(ctx, []outbox.Event{event("seen", "DAB-0101"), event("seen", "DAB-0102")})
	expect(t, out, "retry,retry")
	if n := len(f.srv.Requests()); n != 0 {
		t.Errorf("%d requests after cancel", n)
	}
}

func TestNoTag(t *testing.T) {
	f := start(t, snipeittest.Opts{}, nil)
	none := outbox.Event{ID: 2, Kind: outbox.Seen}
	out := f.sink.Deliver(context.Background(), []outbox.Event{none})
	expect(t, out, "reject")
	if !strings.Contains(out[0].Err.Error(), "no asset tag") {
		t.Errorf("err = %v", out[0].Err)
	}
}

func TestWrongBaseURL(t *testing.T) {
	eachVersion(t, func(t *testing.T, v snipeittest.Version) {
		f := start(t, snipeittest.Opts{Version: v}, nil)
		s, err := New(Opts{BaseURL: f.srv.URL() + "/snipe", Token: token, RatePerMinute: -1})
		if err != nil {
			t.Fatal(err)
		}
		out := s.Deliver(context.Background(), []outbox.Event{event("seen", "DAB-0101"), event("seen", "DAB-0102")})
		expect(t, out, "reject,reject")
		if !strings.Contains(out[0].Err.Error(), "check the base URL") {
			t.Errorf("err = %v", out[0].Err)
		}
	})
}

func TestNew(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	for _, tc := range []struct {
		o    Opts
		want string
	}{
		{Opts{Token: "x"}, "no base URL"},
		{Opts{BaseURL: "assets.example.org", Token: "x"}, "not an http(s) URL"},
		{Opts{BaseURL: "https://a.example"}, "no API token"},
		{Opts{BaseURL: "https://a.example", TokenFile: "/nonexistent/token"}, "read API token"},
		{Opts{BaseURL: "https://a.example", TokenFile: empty}, "is empty"},
		{Opts{BaseURL: "https://a.example", Token: "x", UpdateLocation: true}, "UpdateLocation needs LocationID"},
		{Opts{BaseURL: "https://a.example", Token: "x", LocationID: -1}, "must be positive"},
	} {
		if _, err := New(tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want %q", tc.o, err, tc.want)
		}
	}
	s, err := New(Opts{BaseURL: "https://a.example/", Token: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "snipeit" || s.c.base != "https://a.example/api/v1" || s.o.RatePerMinute != 120 {
		t.Errorf("defaults: name %q base %q rate %d", s.Name(), s.c.base, s.o.RatePerMinute)
	}
}

// A relay-style loop over a server that keeps failing: every event ends
// accepted and every asset has exactly one audit.
func TestFlakyServerExactlyOnce(t *testing.T) {
	var assets []snipeittest.Asset
	var evs []outbox.Event
	for i := 1; i <= 60; i++ {
		tag := fmt.Sprintf("FL-%03d", i)
		assets = append(assets, snipeittest.Asset{ID: i, Tag: tag, Name: tag})
		evs = append(evs, event("seen", tag))
		if i%3 == 0 {
			evs = append(evs, event("cart_foreign", tag, "cart", "C1", "home_cart", "C2"))
		}
	}
	f := start(t, snipeittest.Opts{Assets: assets, ThrottlePerMinute: -1}, func(o *Opts) { o.Timeout = 200 * time.Millisecond })
	faults := []snipeittest.Fault{snipeittest.ResetAfter, snipeittest.InternalError, snipeittest.Reset, snipeittest.HangAfter, snipeittest.Unavailable}
	pending := evs
	for round := 0; len(pending) > 0; round++ {
		if round > 200 {
			out := f.sink.Deliver(context.Background(), pending)
			for _, o := range out {
				t.Log(o.Verdict, o.Err)
			}
			t.Fatalf("%d events still pending after 200 rounds", len(pending))
		}
		f.srv.SetDown(round%7 == 3)
		if round%3 == 0 {
			f.srv.Inject([]string{"audit", "bytag"}[round%2], faults[round%len(faults)], 1)
		}
		batch := pending[:min(len(pending), 8)]
		out := f.sink.Deliver(context.Background(), batch)
		var next []outbox.Event
		for i, o := range out {
			switch o.Verdict {
			case relay.Retry:
				next = append(next, batch[i])
			case relay.Accept:
			default:
				t.Fatalf("event %s: verdict %v: %v", batch[i].Key, o.Verdict, o.Err)
			}
		}
		pending = append(next, pending[len(batch):]...)
	}
	per := f.srv.AuditsPerTag()
	if len(per) != 60 {
		t.Errorf("%d assets audited, want 60", len(per))
	}
	for tag, n := range per {
		if n != 1 {
			t.Errorf("%s: %d audits", tag, n)
		}
	}
}
