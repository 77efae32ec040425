package koha

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/sync/koha/kohatest"
	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/relay"
)

var verdictName = map[relay.Verdict]string{relay.Accept: "accept", relay.Retry: "retry", relay.Reject: "reject", relay.Skip: "skip"}

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// fixture is a Koha test server with a few items and a sink pointed at it.
type fixture struct {
	t    *testing.T
	srv  *kohatest.Server
	sink *Sink
}

func newFixture(t *testing.T, so kohatest.Opts, mod func(*Opts)) *fixture {
	t.Helper()
	srv := kohatest.New(so)
	t.Cleanup(srv.Close)
	o := DefaultOpts
	o.BaseURL = srv.URL
	o.ClientID, o.ClientSecret = "tally", "secret"
	o.Timeout = 2 * time.Second
	if mod != nil {
		mod(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, srv: srv, sink: s}
}

var nextID int64

func event(kind outbox.Kind, barcode string, p map[string]any) outbox.Event {
	nextID++
	if p == nil {
		p = map[string]any{}
	}
	p["inventory_id"] = 1
	p["inventory"] = "Spring"
	p["barcode"] = barcode
	b, _ := json.Marshal(p)
	var d outbox.Data
	if err := json.Unmarshal(b, &d); err != nil {
		panic(err)
	}
	return outbox.Event{ID: nextID, Key: fmt.Sprintf("1/%s/%s", barcode, kind), Kind: kind, InventoryID: 1,
		Barcode: barcode, Data: d, CreatedAt: time.Now()}
}

func seenEv(bc, at string) outbox.Event {
	return event("seen", bc, map[string]any{"date": at[:10], "at": at, "session_id": 3, "device": "wand"})
}

// deliver sends a batch and checks the verdicts.
func (f *fixture) deliver(evs []outbox.Event, want ...relay.Verdict) []relay.Outcome {
	f.t.Helper()
	out := f.sink.Deliver(context.Background(), evs)
	if len(out) != len(evs) {
		f.t.Fatalf("Deliver returned %d outcomes for %d events", len(out), len(evs))
	}
	for i, o := range out {
		if i < len(want) && o.Verdict != want[i] {
			f.t.Errorf("event %d (%s %s): verdict %s (err %v), want %s", i, evs[i].Kind, evs[i].Barcode,
				verdictName[o.Verdict], o.Err, verdictName[want[i]])
		}
	}
	return out
}

func (f *fixture) item(bc string) kohatest.Item {
	f.t.Helper()
	it, ok := f.srv.Item(bc)
	if !ok {
		f.t.Fatalf("no item %s on the server", bc)
	}
	return it
}

// changes asserts how many changing requests each barcode saw.
func (f *fixture) changes(want map[string]int) {
	f.t.Helper()
	got := f.srv.ChangesPerBarcode()
	for bc, n := range want {
		if got[bc] != n {
			f.t.Errorf("barcode %s: %d changes, want %d (all: %+v)", bc, got[bc], n, f.srv.Changes())
		}
	}
	for bc, n := range got {
		if _, ok := want[bc]; !ok {
			f.t.Errorf("barcode %s: %d unexpected changes: %+v", bc, n, f.srv.Changes())
		}
	}
}

func TestOptsInit(t *testing.T) {
	base := DefaultOpts
	base.BaseURL = "https://koha.example.org"
	base.ClientID, base.ClientSecret = "id", "secret"
	tests := []struct {
		name string
		mod  func(*Opts)
		want string // "" = valid
	}{
		{"oauth", func(o *Opts) {}, ""},
		{"basic", func(o *Opts) { o.ClientID, o.ClientSecret, o.User, o.Password = "", "", "u", "p" }, ""},
		{"api suffix", func(o *Opts) { o.BaseURL = "https://koha.example.org/api/v1/" }, ""},
		{"no url", func(o *Opts) { o.BaseURL = "" }, "must be http(s)"},
		{"ftp", func(o *Opts) { o.BaseURL = "ftp://koha" }, "must be http(s)"},
		{"both", func(o *Opts) { o.User, o.Password = "u", "p" }, "not both"},
		{"no secret", func(o *Opts) { o.ClientSecret = "" }, "both client_id and client_secret"},
		{"none", func(o *Opts) { o.ClientID, o.ClientSecret = "", "" }, "no credentials"},
		{"password only", func(o *Opts) { o.ClientID, o.ClientSecret, o.Password = "", "", "p" }, "needs a user"},
		{"zero means default", func(o *Opts) { o.Timeout, o.Concurrency, o.PerPage, o.Name = 0, 0, 0, "" }, ""},
		{"timeout", func(o *Opts) { o.Timeout = -time.Second }, "timeout"},
		{"concurrency", func(o *Opts) { o.Concurrency = 100 }, "concurrency"},
		{"per page", func(o *Opts) { o.PerPage = -1 }, "per_page"},
		{"lost value", func(o *Opts) { o.LostValues = []int{4, 0} }, "lost value 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			tt.mod(&o)
			_, err := New(o)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestNewMakesNoRequest(t *testing.T) {
	f := newFixture(t, kohatest.Opts{}, nil)
	if n := len(f.srv.Requests()); n != 0 {
		t.Fatalf("New made requests: %v", f.srv.Requests())
	}
	if f.sink.Name() != "koha" {
		t.Fatalf("Name() = %q", f.sink.Name())
	}
}

func TestSeen(t *testing.T) {
	f := newFixture(t, kohatest.Opts{}, nil)
	old := time.Date(2023, 9, 1, 10, 0, 0, 0, time.UTC)
	later := time.Date(2024, 6, 1, 8, 0, 0, 0, time.UTC)
	f.srv.AddItem(kohatest.Item{Barcode: "31000000000001", LastSeen: old})
	f.srv.AddItem(kohatest.Item{Barcode: "31000000000002", LastSeen: later}) // seen after the scan
	f.srv.AddItem(kohatest.Item{Barcode: "31000000000003"})                  // never seen
	at := "2024-05-14T09:30:15Z"
	evs := []outbox.Event{seenEv("31000000000001", at), seenEv("31000000000002", at), seenEv("31000000000003", at)}
	f.deliver(evs, relay.Accept, relay.Accept, relay.Accept)
	want := time.Date(2024, 5, 14, 9, 30, 15, 0, time.UTC)
	for _, bc := range []string{"31000000000001", "31000000000003"} {
		if got := f.item(bc).LastSeen; !got.Equal(want) {
			t.Errorf("%s: last seen %v, want %v", bc, got, want)
		}
	}
	if got := f.item("31000000000002").LastSeen; !got.Equal(later) {
		t.Errorf("last seen moved back to %v", got)
	}
	// A resend (the relay crashed before marking the rows done) changes nothing.
	f.deliver(evs, relay.Accept, relay.Accept, relay.Accept)
	f.changes(map[string]int{"31000000000001": 1, "31000000000003": 1})
	ch := f.srv.Changes()[0]
	if len(ch.Fields) != 1 || ch.Fields[0].Name != "last_seen_date" || ch.Fields[0].New != "2024-05-14T11:30:15+02:00" {
		t.Errorf("change %+v, want only last_seen_date set to the read's time", ch)
	}
}

func TestLookupIsExact(t *testing.T) {
	f := newFixture(t, kohatest.Opts{}, nil)
	f.srv.AddItem(kohatest.Item{Barcode: "30803"})
	f.srv.AddItem(kohatest.Item{Barcode: "0803"})
	f.srv.AddItem(kohatest.Item{Barcode: "t0001"}) // Koha's match ignores case, so does tally
	at := "2024-05-14T09:30:00Z"
	f.deliver([]outbox.Event{seenEv("0803", at), seenEv("T0001", at), seenEv("803", at)},
		relay.Accept, relay.Accept, relay.Reject)
	f.changes(map[string]int{"0803": 1, "t0001": 1})
}

func TestLookupRejects(t *testing.T) {
	f := newFixture(t, kohatest.Opts{}, nil)
	f.srv.AddItem(kohatest.Item{Barcode: "AB1"})
	f.srv.AddItem(kohatest.Item{Barcode: "ab1"})
	at := "2024-05-14T09:30:00Z"
	out := f.deliver([]outbox.Event{seenEv("NOPE", at), seenEv("AB1", at)}, relay.Reject, relay.Reject)
	if msg := out[0].Err.Error(); !strings.Contains(msg, "barcode NOPE not in Koha") {
		t.Errorf("unknown barcode: %q", msg)
	}
	if msg := out[1].Err.Error(); !strings.Contains(msg, "matches 2 items") {
		t.Errorf("duplicate barcode: %q", msg)
	}
	f.changes(map[string]int{})
}

func TestFound(t *testing.T) {
	f := newFixture(t, kohatest.Opts{}, nil)
	f.srv.AddItem(kohatest.Item{Barcode: "L1", LostStatus: 1, LostDate: day("2023-01-01")})
	f.srv.AddItem(kohatest.Item{Barcode: "L2", LostStatus: 2})
	f.srv.AddItem(kohatest.Item{Barcode: "L3"})
	before := f.srv.Requests()["GET /items"]
	f.deliver([]outbox.Event{event("found", "L2", map[string]any{"was": "lost", "clear_lost": false, "date": "2024-05-14"})},
		relay.Accept)
	if n := f.srv.Requests()["GET /items"]; n != before {
		t.Errorf("report-only found made %d lookups", n-before)
	}
	evs := []outbox.Event{
		event("found", "L1", map[string]any{"was": "lost", "clear_lost": true}),
		event("found", "L3", map[string]any{"was": "missing", "clear_lost": true}),
	}
	f.deliver(evs, relay.Accept, relay.Accept)
	f.deliver(evs, relay.Accept, relay.Accept)
	if it := f.item("L1"); it.LostStatus != 0 || !it.LostDate.IsZero() {
		t.Errorf("L1 lost %d since %v, want cleared", it.LostStatus, it.LostDate)
	}
	if f.item("L2").LostStatus != 2 {
		t.Error("report-only found changed L2")
	}
	f.changes(map[string]int{"L1": 1})
}

func missingEv(bc string, lost int, date string) outbox.Event {
	return event("missing", bc, map[string]any{"date": date, "lost_value": lost, "title": "T", "call_number": "FIC X", "price_cents": 1299})
}

func TestMissing(t *testing.T) {
	f := newFixture(t, kohatest.Opts{}, nil)
	f.srv.AddItem(kohatest.Item{Barcode: "M1", LastSeen: day("2023-05-01")})
	f.srv.AddItem(kohatest.Item{Barcode: "M2", LostStatus: 1})                                             // already lost
	f.srv.AddItem(kohatest.Item{Barcode: "M3", LastSeen: time.Date(2024, 5, 20, 10, 0, 0, 0, time.UTC)})   // checked in at the desk since
	f.srv.AddItem(kohatest.Item{Barcode: "M4"})                                                            // on loan now
	f.srv.AddItem(kohatest.Item{Barcode: "M5"})                                                            // never seen
	f.srv.AddItem(kohatest.Item{Barcode: "M6", LastSeen: time.Date(2024, 5, 19, 23, 59, 59, 0, time.UTC)}) // seen before the date
	if err := f.srv.Checkout("M4", 7, day("2024-06-01")); err != nil {
		t.Fatal(err)
	}
	evs := []outbox.Event{missingEv("M1", 4, "2024-05-20"), missingEv("M2", 4, "2024-05-20"), missingEv("M3", 4, "2024-05-20"),
		missingEv("M4", 4, "2024-05-20"), missingEv("M5", 4, "2024-05-20"), missingEv("M6", 4, "2024-05-20")}
	f.deliver(evs, relay.Accept, relay.Accept, relay.Accept, relay.Accept, relay.Accept, relay.Accept)
	f.deliver(evs, relay.Accept, relay.Accept, relay.Accept, relay.Accept, relay.Accept, relay.Accept)
	for bc, want := range map[string]int{"M1": 4, "M2": 1, "M3": 0, "M4": 0, "M5": 4, "M6": 4} {
		if got := f.item(bc).LostStatus; got != want {
			t.Errorf("%s: lost_status %d, want %d", bc, got, want)
		}
	}
	f.changes(map[string]int{"M1": 1, "M5": 1, "M6": 1})

	// The item turns up (a late sighting reaches Koha) before a resend: no change.
	f.srv.AddItem(kohatest.Item{Barcode: "M7"})
	f.deliver([]outbox.Event{seenEv("M7", "2024-05-21T08:00:00Z"), missingEv("M7", 4, "2024-05-20")}, relay.Accept, relay.Accept)
	if got := f.item("M7").LostStatus; got != 0 {
		t.Errorf("M7 seen after the date was marked lost %d", got)
	}
}

func TestMissingSince(t *testing.T) {
	f := newFixture(t, kohatest.Opts{}, nil)
	// Seen at the desk after the inventory started, before it was finalized.
	f.srv.AddItem(kohatest.Item{Barcode: "S1", LastSeen: day("2024-05-10")})
	f.deliver([]outbox.Event{event("missing", "S1", map[string]any{"date": "2024-05-20", "since": "2024-05-01", "lost_value": 4})},
		relay.Accept)
	f.changes(map[string]int{})
}

func TestMissingReportOnlyAndBadLostValue(t *testing.T) {
	f := newFixture(t, kohatest.Opts{}, nil)
	f.srv.AddItem(kohatest.Item{Barcode: "R1"})
	f.deliver([]outbox.Event{missingEv("R1", 0, "2024-05-20")}, relay.Accept)
	if n := len(f.srv.Requests()); n != 0 {
		t.Errorf("report-only missing made requests: %v", f.srv.Requests())
	}
	out := f.deliver([]outbox.Event{missingEv("R1", 9, "2024-05-20")}, relay.Reject)
	if msg := out[0].Err.Error(); !strings.Contains(msg, "lost value 9 is not one of Koha's LOST authorised values (1, 2, 3, 4, 5)") {
		t.Errorf("message %q", msg)
	}
	f.changes(map[string]int{})

	g := newFixture(t, kohatest.Opts{}, func(o *Opts) { o.LostValues = []int{4} })
	g.srv.AddItem(kohatest.Item{Barcode: "R1"})
	g.deliver([]outbox.Event{missingEv("R1", 1, "2024-05-20"), missingEv("R1", 4, "2024-05-20")}, relay.Reject, relay.Accept)
	if n := g.srv.Requests()["GET /authorised_value_categories/{name}/authorised_values"]; n != 0 {
		t.Errorf("configured lost values were read from Koha %d times", n)
	}
	g.changes(map[string]int{"R1": 1})
}

func TestCheckedOutOnShelf(t *testing.T) {
	ev := func(bc string, checkIn bool) outbox.Event {
		return event("checked_out_on_shelf", bc, map[string]any{"check_in": checkIn, "due_date": "2024-06-01", "date": "2024-05-14"})
	}
	t.Run("report only", func(t *testing.T) {
		f := newFixture(t, kohatest.Opts{}, nil)
		f.srv.AddItem(kohatest.Item{Barcode: "C1"})
		f.srv.Checkout("C1", 7, day("2024-06-01"))
		f.deliver([]outbox.Event{ev("C1", false)}, relay.Accept)
		if len(f.srv.Requests()) != 0 {
			t.Errorf("report-only made requests: %v", f.srv.Requests())
		}
	})
	t.Run("stock koha", func(t *testing.T) {
		f := newFixture(t, kohatest.Opts{}, nil)
		f.srv.AddItem(kohatest.Item{Barcode: "C1"})
		f.srv.AddItem(kohatest.Item{Barcode: "C2"}) // already back
		f.srv.Checkout("C1", 7, day("2024-06-01"))
		out := f.deliver([]outbox.Event{ev("C1", true), ev("C2", true)}, relay.Reject, relay.Accept)
		if msg := out[0].Err.Error(); !strings.Contains(msg, "use the SIP2 sink for check-ins") {
			t.Errorf("message %q", msg)
		}
		f.changes(map[string]int{})
	})
	t.Run("checkin route", func(t *testing.T) {
		f := newFixture(t, kohatest.Opts{Checkin: true}, nil)
		f.srv.AddItem(kohatest.Item{Barcode: "C1"})
		f.srv.Checkout("C1", 7, day("2024-06-01"))
		f.deliver([]outbox.Event{ev("C1", true)}, relay.Accept)
		f.deliver([]outbox.Event{ev("C1", true)}, relay.Accept)
		if it := f.item("C1"); !it.DueDate.IsZero() {
			t.Errorf("still checked out, due %v", it.DueDate)
		}
		f.changes(map[string]int{"C1": 1})
		if n := f.srv.Requests()["DELETE /checkouts/{checkout_id}"]; n != 1 {
			t.Errorf("%d check-ins sent, want 1", n)
		}
	})
}

func TestNoItemUpdateRoute(t *testing.T) {
	f := newFixture(t, kohatest.Opts{NoItemUpdate: true}, nil)
	f.srv.AddItem(kohatest.Item{Barcode: "O1"})
	out := f.deliver([]outbox.Event{seenEv("O1", "2024-05-14T09:30:00Z")}, relay.Reject)
	if msg := out[0].Err.Error(); !strings.Contains(msg, "cannot update items") {
		t.Errorf("message %q", msg)
	}
	if n := f.srv.Requests()["PUT /biblios/{biblio_id}/items/{item_id}"]; n != 0 {
		t.Errorf("sent %d PUTs to a Koha without the route", n)
	}
}

func TestSkipKinds(t *testing.T) {
	f := newFixture(t, kohatest.Opts{}, nil)
	var evs []outbox.Event
	for _, k := range []outbox.Kind{outbox.Misplaced, outbox.Unknown, outbox.CartMissing, outbox.CartForeign} {
		evs = append(evs, event(k, "X1", map[string]any{"home": "MAIN / FIC", "code": "X1"}))
	}
	f.deliver(evs, relay.Skip, relay.Skip, relay.Skip, relay.Skip)
	if len(f.srv.Requests()) != 0 {
		t.Errorf("skipped kinds made requests: %v", f.srv.Requests())
	}
}

func TestBadPayload(t *testing.T) {
	f := newFixture(t, kohatest.Opts{}, nil)
	f.srv.AddItem(kohatest.Item{Barcode: "P1"})
	noTime := event("seen", "P1", nil)
	badTime := event("seen", "P1", map[string]any{"at": "yesterday"})
	f.deliver([]outbox.Event{noTime, badTime}, relay.Reject, relay.Reject)
}

// TestFailureModes runs each of the server's failure modes against a batch,
// then delivers the batch again as the relay would, and checks that every
// item ends up changed exactly once.
func TestFailureModes(t *testing.T) {
	at := "2024-05-14T09:30:00Z"
	tests := []struct {
		name  string
		fault kohatest.Fault
		first relay.Verdict // verdict of the first event
		after time.Duration // wait before the resend
		check func(t *testing.T, f *fixture, out []relay.Outcome)
	}{
		{name: "5xx", fault: kohatest.Fault{Kind: kohatest.Status, Status: 503, Count: 3}, first: relay.Retry},
		{name: "500 on PUT", fault: kohatest.Fault{Kind: kohatest.Status, Status: 500, Method: "PUT"}, first: relay.Retry},
		{name: "429", fault: kohatest.Fault{Kind: kohatest.RateLimit, RetryAfter: 7 * time.Second}, first: relay.Retry,
			check: func(t *testing.T, f *fixture, out []relay.Outcome) {
				if out[0].RetryAfter != 7*time.Second {
					t.Errorf("RetryAfter %v, want 7s", out[0].RetryAfter)
				}
			}},
		{name: "reset after the change", fault: kohatest.Fault{Kind: kohatest.Reset, Method: "PUT"}, first: relay.Retry,
			check: func(t *testing.T, f *fixture, out []relay.Outcome) {
				if f.item("F1").LastSeen.IsZero() {
					t.Error("the reset PUT was not applied: the test does not test a lost response")
				}
			}},
		{name: "reset on lookup", fault: kohatest.Fault{Kind: kohatest.Reset, Method: "GET", Path: "/items"}, first: relay.Retry},
		{name: "timeout", fault: kohatest.Fault{Kind: kohatest.Delay, Delay: 700 * time.Millisecond, Method: "PUT"},
			first: relay.Retry, after: time.Second},
		{name: "200 with error body", fault: kohatest.Fault{Kind: kohatest.ErrorBody, Path: "/items"}, first: relay.Retry,
			check: func(t *testing.T, f *fixture, out []relay.Outcome) {
				if !strings.Contains(out[0].Err.Error(), "unexpected body") {
					t.Errorf("message %q", out[0].Err)
				}
			}},
		{name: "403", fault: kohatest.Fault{Kind: kohatest.Status, Status: 403, Method: "PUT", Msg: "Authorization failure. Missing required permission(s)."},
			first: relay.Reject, check: func(t *testing.T, f *fixture, out []relay.Outcome) {
				if !strings.Contains(out[0].Err.Error(), "HTTP 403: Authorization failure. Missing required permission(s).") {
					t.Errorf("message %q", out[0].Err)
				}
			}},
		{name: "400", fault: kohatest.Fault{Kind: kohatest.Status, Status: 400, Path: "/items", Msg: "Invalid query"},
			first: relay.Reject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, kohatest.Opts{}, func(o *Opts) { o.Timeout = 300 * time.Millisecond; o.Concurrency = 1 })
			bcs := []string{"F1", "F2", "F3"}
			var evs []outbox.Event
			for _, bc := range bcs {
				f.srv.AddItem(kohatest.Item{Barcode: bc})
				evs = append(evs, seenEv(bc, at))
			}
			// Take the token first so token requests do not use up the fault.
			f.deliver([]outbox.Event{event("found", "F1", map[string]any{"clear_lost": true})}, relay.Accept)
			f.srv.Inject(tt.fault)
			out := f.deliver(evs, tt.first)
			if out[0].Err == nil {
				t.Errorf("first outcome has no error")
			}
			if tt.check != nil {
				tt.check(t, f, out)
			}
			time.Sleep(tt.after)
			// Resend what was retried, as the relay does, until it is done.
			pending := map[int]bool{}
			for i, o := range out {
				if o.Verdict == relay.Retry {
					pending[i] = true
				}
			}
			for round := 0; len(pending) > 0; round++ {
				if round == 5 {
					t.Fatalf("still pending after %d resends", round)
				}
				var idx []int
				var again []outbox.Event
				for i := range evs {
					if pending[i] {
						idx, again = append(idx, i), append(again, evs[i])
					}
				}
				for j, o := range f.deliver(again) {
					switch o.Verdict {
					case relay.Accept:
						delete(pending, idx[j])
					case relay.Retry:
					default:
						t.Fatalf("resend: %s %v", verdictName[o.Verdict], o.Err)
					}
				}
			}
			want := map[string]int{}
			for i, o := range out {
				if o.Verdict != relay.Reject {
					want[bcs[i]] = 1
				}
			}
			f.changes(want)
		})
	}
}

func TestTransientFailureHaltsBatch(t *testing.T) {
	f := newFixture(t, kohatest.Opts{}, func(o *Opts) { o.Concurrency = 1 })
	var evs []outbox.Event
	for i := range 20 {
		bc := fmt.Sprintf("H%02d", i)
		f.srv.AddItem(kohatest.Item{Barcode: bc})
		evs = append(evs, seenEv(bc, "2024-05-14T09:30:00Z"))
	}
	f.srv.SetDown(true)
	out := f.deliver(evs)
	for i, o := range out {
		if o.Verdict != relay.Retry {
			t.Errorf("event %d: %s, want retry", i, verdictName[o.Verdict])
		}
	}
	if n := f.srv.Requests()["POST /oauth/token"]; n != 1 {
		t.Errorf("%d requests reached a server that is down; want the batch to stop after the first", n)
	}
	f.srv.SetDown(false)
	f.deliver(evs)
	want := map[string]int{}
	for _, ev := range evs {
		want[ev.Barcode] = 1
	}
	f.changes(want)
}

func TestExpiredToken(t *testing.T) {
	f := newFixture(t, kohatest.Opts{}, nil)
	f.srv.AddItem(kohatest.Item{Barcode: "E1"})
	f.srv.AddItem(kohatest.Item{Barcode: "E2"})
	f.deliver([]outbox.Event{seenEv("E1", "2024-05-14T09:30:00Z")}, relay.Accept)
	f.srv.ExpireTokens()
	f.deliver([]outbox.Event{seenEv("E2", "2024-05-14T09:30:00Z")}, relay.Accept)
	if n := f.srv.TokensIssued(); n != 2 {
		t.Errorf("%d tokens issued, want 2 (one refresh after expiry)", n)
	}
	f.changes(map[string]int{"E1": 1, "E2": 1})
}

func TestTokenRenewedBeforeExpiry(t *testing.T) {
	now := time.Date(2024, 5, 14, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	f := newFixture(t, kohatest.Opts{TokenTTL: 100 * time.Second}, func(o *Opts) { o.Now = clock })
	f.srv.AddItem(kohatest.Item{Barcode: "E1"})
	f.deliver([]outbox.Event{seenEv("E1", "2024-05-14T09:30:00Z")}, relay.Accept)
	now = now.Add(95 * time.Second) // within the last tenth of the lifetime
	f.deliver([]outbox.Event{seenEv("E1", "2024-05-14T09:30:00Z")}, relay.Accept)
	if n := f.srv.TokensIssued(); n != 2 {
		t.Errorf("%d tokens issued, want 2", n)
	}
	if n := f.srv.Requests()["GET /items"]; n != 2 {
		t.Errorf("%d lookups, want 2 (no 401 round trip)", n)
	}
}

func TestRevokedCredentials(t *testing.T) {
	for _, basic := range []bool{false, true} {
		t.Run(fmt.Sprintf("basic=%v", basic), func(t *testing.T) {
			f := newFixture(t, kohatest.Opts{}, func(o *Opts) {
				if basic {
					o.ClientID, o.ClientSecret, o.User, o.Password = "", "", "tally", "password"
				}
			})
			f.srv.AddItem(kohatest.Item{Barcode: "V1"})
			f.srv.AddItem(kohatest.Item{Barcode: "V2"})
			f.deliver([]outbox.Event{seenEv("V1", "2024-05-14T09:30:00Z")}, relay.Accept)
			f.srv.RevokeCredentials()
			out := f.deliver([]outbox.Event{seenEv("V2", "2024-05-14T09:30:00Z"), seenEv("V1", "2024-05-15T09:30:00Z")},
				relay.Reject, relay.Reject)
			var ae *AuthError
			if !errors.As(out[0].Err, &ae) {
				t.Fatalf("error %v is not an AuthError", out[0].Err)
			}
			want := "RESTOAuth2ClientCredentials"
			if basic {
				want = "RESTBasicAuth"
			}
			if !strings.Contains(out[0].Err.Error(), want) {
				t.Errorf("message %q does not point at %s", out[0].Err, want)
			}
			f.changes(map[string]int{"V1": 1})
		})
	}
}

// TestResendAfterCrash delivers a whole inventory's events, then all of them
// again, as after a crash between Koha's answer and the outbox update.
func TestResendAfterCrash(t *testing.T) {
	f := newFixture(t, kohatest.Opts{Checkin: true}, nil)
	var evs []outbox.Event
	want := map[string]int{}
	for i := range 40 {
		bc := fmt.Sprintf("3100000000%04d", i)
		it := kohatest.Item{Barcode: bc, LastSeen: day("2023-01-10")}
		switch i % 4 {
		case 0: // seen
			evs = append(evs, seenEv(bc, "2024-05-14T09:30:00Z"))
		case 1: // seen and found
			it.LostStatus = 1
			evs = append(evs, seenEv(bc, "2024-05-14T09:30:00Z"), event("found", bc, map[string]any{"clear_lost": true, "was": "lost"}))
		case 2: // missing
			evs = append(evs, missingEv(bc, 4, "2024-05-20"))
		case 3: // seen, checked out on the shelf, checked in
			evs = append(evs, seenEv(bc, "2024-05-14T09:30:00Z"),
				event("checked_out_on_shelf", bc, map[string]any{"check_in": true, "due_date": "2024-06-01"}))
		}
		want[bc] = []int{1, 2, 1, 2}[i%4] // one change per event that changes something
		f.srv.AddItem(it)
		if i%4 == 3 {
			f.srv.Checkout(bc, 1, day("2024-06-01"))
		}
	}
	for round := range 3 {
		for i, o := range f.sink.Deliver(context.Background(), evs) {
			if o.Verdict != relay.Accept {
				t.Fatalf("round %d event %d (%s %s): %s %v", round, i, evs[i].Kind, evs[i].Barcode, verdictName[o.Verdict], o.Err)
			}
		}
	}
	f.changes(want)
}

func TestDeliverHonoursContext(t *testing.T) {
	f := newFixture(t, kohatest.Opts{}, func(o *Opts) { o.Timeout = 5 * time.Second })
	f.srv.AddItem(kohatest.Item{Barcode: "X1"})
	f.srv.AddItem(kohatest.Item{Barcode: "X2"})
	evs := []outbox.Event{seenEv("X1", "2024-05-14T09:30:00Z"), seenEv("X2", "2024-05-14T09:30:00Z")}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, o := range f.sink.Deliver(ctx, evs) {
		if o.Verdict != relay.Retry || !errors.Is(o.Err, context.Canceled) {
			t.Errorf("cancelled: %s %v", verdictName[o.Verdict], o.Err)
		}
	}
	if len(f.srv.Requests()) != 0 {
		t.Errorf("cancelled Deliver made requests: %v", f.srv.Requests())
	}

	// A request in flight when the context ends is abandoned, not waited for.
	// Both lookups are delayed: the sink sends them in parallel, and an
	// undelayed one could finish before the cancel.
	f.srv.Inject(kohatest.Fault{Kind: kohatest.Delay, Delay: time.Second, Path: "/items", Count: len(evs)})
	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		for f.srv.Requests()["GET /items"] == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	for _, o := range f.sink.Deliver(ctx, evs) {
		if o.Verdict != relay.Retry {
			t.Errorf("cancelled in flight: %s %v", verdictName[o.Verdict], o.Err)
		}
	}
}
