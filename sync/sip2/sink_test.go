package sip2_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/relay"
	"github.com/tally-inventory/tally/sync/sip2"
	"github.com/tally-inventory/tally/sync/sip2/sip2test"
)

// Items of the sink tests.
const (
	sinkOnLoan    = "31234000200001"
	sinkOnLoan2   = "31234000200002"
	sinkLost      = "31234000200003"
	sinkShelf     = "31234000200004"
	sinkHeld      = "31234000200005" // on loan, with a hold queued
	sinkClaimed   = "31234000200006" // on loan, patron claims it was returned
	sinkNotInILS  = "31234000999990"
	sinkScanStamp = "2024-01-15T14:20:00Z"
)

var sinkServerNow = time.Date(2024, 1, 15, 9, 30, 5, 0, school)

func sinkItems() []sip2test.Item {
	due := time.Date(2024, 1, 29, 23, 59, 0, 0, school)
	return []sip2test.Item{
		{Barcode: sinkOnLoan, Title: "Holes", PermanentLocation: "LMC", CurrentLocation: "LMC", Borrower: "P1", Due: due},
		{Barcode: sinkOnLoan2, Title: "Wonder", PermanentLocation: "LMC", CurrentLocation: "LMC", Borrower: "P2", Due: due},
		{Barcode: sinkLost, Title: "Hatchet", PermanentLocation: "LMC", CurrentLocation: "LMC", Lost: 1},
		{Barcode: sinkShelf, Title: "Frindle", PermanentLocation: "LMC", CurrentLocation: "LMC"},
		{Barcode: sinkHeld, Title: "Matilda", PermanentLocation: "LMC", CurrentLocation: "LMC", Borrower: "P3", Due: due, Holds: 1},
		{Barcode: sinkClaimed, Title: "Dogman", PermanentLocation: "LMC", CurrentLocation: "LMC", Borrower: "P4", Due: due},
	}
}

func sinkAccount(seen string) sip2test.Account {
	return sip2test.Account{User: "invbot", Password: "s3cret", Institution: "SCHOOL1", Terminator: "\r", SeenOnItemInformation: seen}
}

func startSinkServer(t *testing.T, a sip2test.Account) *sip2test.Server {
	return sip2test.Start(t, sip2test.Opts{Accounts: []sip2test.Account{a}, Items: sinkItems(),
		Now: func() time.Time { return sinkServerNow }, Zone: school, Delay: time.Second})
}

func newSink(t *testing.T, addr string, edit func(*sip2.Opts)) *sip2.Sink {
	t.Helper()
	o := sip2.DefaultOpts
	o.Addr = addr
	o.User, o.Password, o.Location, o.Institution = "invbot", "s3cret", "LMC", "SCHOOL1"
	o.Zone = school
	o.Timeout = 2 * time.Second
	if edit != nil {
		edit(&o)
	}
	s, err := sip2.NewSink("ils", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var sinkEventID int64

func sinkEvent(kind outbox.Kind, barcode string, kv ...any) outbox.Event {
	sinkEventID++
	p := map[string]any{"inventory_id": 4, "inventory": "Winter", "session_id": 2, "date": "2024-01-15",
		"at": sinkScanStamp, "device": "scanner-1", "barcode": barcode}
	for i := 0; i+1 < len(kv); i += 2 {
		p[kv[i].(string)] = kv[i+1]
	}
	b, _ := json.Marshal(p)
	var d outbox.Data
	if err := json.Unmarshal(b, &d); err != nil {
		panic(err)
	}
	return outbox.Event{ID: sinkEventID, Key: fmt.Sprintf("4/%s/%s", barcode, kind), Kind: kind, InventoryID: 4, Barcode: barcode, Data: d}
}

func sinkVerdicts(t *testing.T, out []relay.Outcome, want string) {
	t.Helper()
	names := map[relay.Verdict]string{relay.Accept: "accept", relay.Retry: "retry", relay.Reject: "reject", relay.Skip: "skip"}
	var got []string
	for _, o := range out {
		got = append(got, names[o.Verdict])
	}
	if strings.Join(got, ",") != want {
		for i, o := range out {
			t.Logf("outcome %d: %s %v", i, names[o.Verdict], o.Err)
		}
		t.Fatalf("verdicts = %s, want %s", strings.Join(got, ","), want)
	}
}

func changeKinds(cs []sip2test.Change) string {
	var k []string
	for _, c := range cs {
		k = append(k, c.Barcode[len(c.Barcode)-2:]+":"+c.Kind)
	}
	return strings.Join(k, " ")
}

func TestSinkSeenAndFound(t *testing.T) {
	s := startSinkServer(t, sinkAccount(sip2test.SeenMarkFound))
	sk := newSink(t, s.Addr(), nil)
	evs := []outbox.Event{
		sinkEvent("seen", sinkShelf),
		sinkEvent("seen", sinkLost),
		sinkEvent("found", sinkLost, "was", "lost", "clear_lost", true),
	}
	sinkVerdicts(t, sk.Deliver(context.Background(), evs), "accept,accept,accept")
	if got, want := changeKinds(s.Changes()), "04:seen 03:found"; got != want {
		t.Errorf("changes = %s, want %s", got, want)
	}
	// One 17 per item: the found shares the seen's.
	if n := count(s.Requests(), "17"); n != 2 {
		t.Errorf("%d item information requests, want 2", n)
	}
	// A resend repeats the 17s and changes nothing.
	sinkVerdicts(t, sk.Deliver(context.Background(), evs), "accept,accept,accept")
	if n := len(s.Changes()); n != 2 {
		t.Errorf("resend made changes: %s", changeKinds(s.Changes()))
	}
	if it, _ := s.Item(sinkLost); it.Lost != 0 || !it.LastSeen.Equal(sinkServerNow) {
		t.Errorf("lost item after found: %+v", it)
	}
}

func TestSinkUnknownBarcode(t *testing.T) {
	s := startSinkServer(t, sinkAccount(sip2test.SeenKeepLost))
	sk := newSink(t, s.Addr(), nil)
	out := sk.Deliver(context.Background(), []outbox.Event{sinkEvent("seen", sinkNotInILS), sinkEvent("seen", sinkShelf), sinkEvent("seen", "BAD|CODE")})
	sinkVerdicts(t, out, "reject,accept,reject")
	if !strings.Contains(out[0].Err.Error(), "the ILS does not know barcode") {
		t.Errorf("err = %v", out[0].Err)
	}
	if !strings.Contains(out[2].Err.Error(), "SIP2 cannot carry") {
		t.Errorf("err = %v", out[2].Err)
	}
}

func TestSinkSkipsOtherKinds(t *testing.T) {
	s := startSinkServer(t, sinkAccount(sip2test.SeenKeepLost))
	sk := newSink(t, s.Addr(), nil)
	evs := []outbox.Event{sinkEvent("missing", sinkShelf), sinkEvent("misplaced", sinkShelf), sinkEvent("unknown", "X"),
		sinkEvent("cart_foreign", "DAB-1"), sinkEvent("cart_missing", "DAB-2"),
		sinkEvent("checked_out_on_shelf", sinkOnLoan, "check_in", false, "due_date", "2024-01-29")}
	sinkVerdicts(t, sk.Deliver(context.Background(), evs), "skip,skip,skip,skip,skip,skip")
	if n := len(s.Requests()); n != 0 {
		t.Errorf("requests = %q; nothing to send should not even connect", s.Requests())
	}
}

func TestSinkCheckinOnce(t *testing.T) {
	s := startSinkServer(t, sinkAccount(sip2test.SeenNone))
	sk := newSink(t, s.Addr(), nil)
	evs := []outbox.Event{
		sinkEvent("seen", sinkOnLoan),
		sinkEvent("checked_out_on_shelf", sinkOnLoan, "check_in", true, "due_date", "2024-01-29"),
		sinkEvent("checked_out_on_shelf", sinkShelf, "check_in", true), // the catalog was stale: not on loan
		sinkEvent("checked_out_on_shelf", sinkHeld, "check_in", true),
		sinkEvent("checked_out_on_shelf", sinkClaimed, "check_in", true),
	}
	sinkVerdicts(t, sk.Deliver(context.Background(), evs), "accept,accept,accept,accept,accept")
	if got, want := changeKinds(s.Changes()), "01:checkin 05:checkin 06:checkin"; got != want {
		t.Errorf("changes = %s, want %s", got, want)
	}
	if it, _ := s.Item(sinkHeld); !it.HoldWaiting {
		t.Errorf("the held item did not go to the hold shelf: %+v", it)
	}
	// The checkin is dated when the item was scanned.
	for _, r := range s.Requests() {
		if strings.HasPrefix(r, "09") && !strings.HasPrefix(r, "09N20240115    092000") {
			t.Errorf("checkin %q not dated at the scan (09:20 school time)", r)
		}
	}
	// The relay crashed before marking them done: the resend checks first
	// and checks nothing in again.
	sinkVerdicts(t, sk.Deliver(context.Background(), evs), "accept,accept,accept,accept,accept")
	if n := count(s.Requests(), "09"); n != 3 {
		t.Errorf("%d checkins sent, want 3", n)
	}
	if n := len(s.Changes()); n != 3 {
		t.Errorf("changes after resend: %s", changeKinds(s.Changes()))
	}
}

func TestSinkCheckinOutcomeUnknown(t *testing.T) {
	s := startSinkServer(t, sinkAccount(sip2test.SeenNone))
	sk := newSink(t, s.Addr(), nil)
	s.Inject("09", sip2test.DropMidReply, 1)
	evs := []outbox.Event{
		sinkEvent("checked_out_on_shelf", sinkOnLoan, "check_in", true),
		sinkEvent("checked_out_on_shelf", sinkOnLoan2, "check_in", true),
	}
	out := sk.Deliver(context.Background(), evs)
	sinkVerdicts(t, out, "reject,accept")
	if !errors.Is(out[0].Err, sip2.ErrOutcomeUnknown) || !strings.Contains(out[0].Err.Error(), "staff: check the item") {
		t.Errorf("err = %v", out[0].Err)
	}
	if n := count(s.Requests(), "09"); n != 2 {
		t.Errorf("%d checkins sent, want 2 (never resent automatically)", n)
	}
	// A person retries the dead letter: the item is already in.
	sinkVerdicts(t, sk.Deliver(context.Background(), evs[:1]), "accept")
	if got, want := changeKinds(s.Changes()), "01:checkin 02:checkin"; got != want {
		t.Errorf("changes = %s, want %s", got, want)
	}
	if s.Pending() != 0 {
		t.Error("fault did not fire")
	}
}

func TestSinkReconnects(t *testing.T) {
	s := startSinkServer(t, sinkAccount(sip2test.SeenKeepLost))
	sk := newSink(t, s.Addr(), nil)
	sinkVerdicts(t, sk.Deliver(context.Background(), []outbox.Event{sinkEvent("seen", sinkShelf)}), "accept")
	s.CloseConnections() // as Koha's SIP server does to idle clients
	sinkVerdicts(t, sk.Deliver(context.Background(), []outbox.Event{sinkEvent("seen", sinkLost)}), "accept")
	if n := s.Logins(); n != 2 {
		t.Errorf("%d logins, want 2", n)
	}
}

func TestSinkServerDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	sk := newSink(t, addr, nil)
	out := sk.Deliver(context.Background(), []outbox.Event{sinkEvent("seen", sinkShelf), sinkEvent("checked_out_on_shelf", sinkOnLoan, "check_in", true), sinkEvent("missing", sinkLost)})
	sinkVerdicts(t, out, "retry,retry,skip")
	if !strings.Contains(out[0].Err.Error(), "connect to "+addr) {
		t.Errorf("err = %v", out[0].Err)
	}
}

func TestSinkNoReply(t *testing.T) {
	s := startSinkServer(t, sinkAccount(sip2test.SeenKeepLost))
	sk := newSink(t, s.Addr(), func(o *sip2.Opts) { o.Timeout = 200 * time.Millisecond })
	// One silent reply: the client retries the 17 on a new connection.
	s.Inject("17", sip2test.Silent, 1)
	sinkVerdicts(t, sk.Deliver(context.Background(), []outbox.Event{sinkEvent("seen", sinkShelf)}), "accept")
	// Silent twice: the ACS is not answering; the batch is retried later
	// without trying its other events.
	s.Inject("17", sip2test.Silent, 2)
	out := sk.Deliver(context.Background(), []outbox.Event{sinkEvent("seen", sinkLost), sinkEvent("seen", sinkOnLoan)})
	sinkVerdicts(t, out, "retry,retry")
	if n := count(s.Requests(), "17"); n != 4 {
		t.Errorf("%d item information requests, want 4 (each silence tried twice)", n)
	}
	sinkVerdicts(t, sk.Deliver(context.Background(), []outbox.Event{sinkEvent("seen", sinkLost)}), "accept")
}

func TestSinkLoginRefused(t *testing.T) {
	s := startSinkServer(t, sinkAccount(sip2test.SeenKeepLost))
	sk := newSink(t, s.Addr(), func(o *sip2.Opts) { o.Password = "old" })
	out := sk.Deliver(context.Background(), []outbox.Event{sinkEvent("seen", sinkShelf), sinkEvent("found", sinkLost)})
	sinkVerdicts(t, out, "retry,retry")
	if !errors.Is(out[0].Err, sip2.ErrLoginFailed) || !strings.Contains(out[0].Err.Error(), "fix the SIP login") {
		t.Errorf("err = %v", out[0].Err)
	}
}

func TestSinkUnsupported(t *testing.T) {
	a := sinkAccount(sip2test.SeenKeepLost)
	a.SupportedMessages = "YYYYYYYYYYNNYYYY" // no item information
	s := startSinkServer(t, a)
	sk := newSink(t, s.Addr(), nil)
	out := sk.Deliver(context.Background(), []outbox.Event{sinkEvent("seen", sinkShelf), sinkEvent("seen", sinkLost)})
	sinkVerdicts(t, out, "reject,reject")
	if !errors.Is(out[0].Err, sip2.ErrUnsupported) || !strings.Contains(out[0].Err.Error(), "allow it for this SIP account") {
		t.Errorf("err = %v", out[0].Err)
	}
	if n := count(s.Requests(), "17"); n != 0 {
		t.Errorf("sent %d item information requests the ACS does not support", n)
	}
}

func TestSinkCanceled(t *testing.T) {
	s := startSinkServer(t, sinkAccount(sip2test.SeenKeepLost))
	sk := newSink(t, s.Addr(), nil)
	sinkVerdicts(t, sk.Deliver(context.Background(), []outbox.Event{sinkEvent("seen", sinkShelf)}), "accept")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sinkVerdicts(t, sk.Deliver(ctx, []outbox.Event{sinkEvent("seen", sinkLost), sinkEvent("seen", sinkOnLoan)}), "retry,retry")
	if n := count(s.Requests(), "17"); n != 1 {
		t.Errorf("%d item information requests after cancel", n)
	}
}

func TestNewSink(t *testing.T) {
	for _, tc := range []struct {
		o    sip2.Opts
		want string
	}{
		{sip2.Opts{User: "u"}, "no address"},
		{sip2.Opts{Addr: "ils.example", User: "u"}, "want host:port"},
		{sip2.Opts{Addr: "ils.example:6001", User: "u", Terminator: "\n"}, "terminator"},
		{sip2.Opts{Addr: "ils.example:6001"}, "no SIP login"},
	} {
		if _, err := sip2.NewSink("", tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewSink(%+v) = %v, want %q", tc.o, err, tc.want)
		}
	}
	sk, err := sip2.NewSink("", sip2.Opts{Addr: "ils.example:6001", User: "u"})
	if err != nil || sk.Name() != "sip2" {
		t.Errorf("NewSink = %v, %v", sk, err)
	}
}

// A relay-style loop against an ACS that drops replies, closes
// connections and goes silent: every event ends delivered or waiting for
// staff, and no item is checked in twice.
func TestSinkFlakyACSCheckinsAtMostOnce(t *testing.T) {
	var items []sip2test.Item
	var evs []outbox.Event
	for i := range 30 {
		bc := fmt.Sprintf("3123400030%04d", i)
		items = append(items, sip2test.Item{Barcode: bc, Title: "T", Borrower: "P", Due: sinkServerNow.AddDate(0, 0, 7)})
		evs = append(evs, sinkEvent("seen", bc), sinkEvent("checked_out_on_shelf", bc, "check_in", true))
	}
	s := sip2test.Start(t, sip2test.Opts{Accounts: []sip2test.Account{sinkAccount(sip2test.SeenKeepLost)}, Items: items,
		Now: func() time.Time { return sinkServerNow }, Zone: school})
	sk := newSink(t, s.Addr(), func(o *sip2.Opts) { o.Timeout = 150 * time.Millisecond })
	faults := []struct {
		code string
		f    sip2test.Fault
	}{{"09", sip2test.DropMidReply}, {"17", sip2test.Silent}, {"09", sip2test.Silent}, {"17", sip2test.DropMidReply}, {"09", sip2test.BadChecksum}}
	pending, staff := evs, 0
	for round := 0; len(pending) > 0; round++ {
		if round > 100 {
			t.Fatalf("%d events pending after 100 rounds", len(pending))
		}
		if round%2 == 0 {
			f := faults[round/2%len(faults)]
			s.Inject(f.code, f.f, 1)
		}
		if round%5 == 4 {
			s.CloseConnections()
		}
		batch := pending[:min(6, len(pending))]
		var next []outbox.Event
		for i, o := range sk.Deliver(context.Background(), batch) {
			switch o.Verdict {
			case relay.Retry:
				next = append(next, batch[i])
			case relay.Reject:
				if !errors.Is(o.Err, sip2.ErrOutcomeUnknown) {
					t.Fatalf("%s rejected: %v", batch[i].Key, o.Err)
				}
				staff++
				next = append(next, batch[i]) // staff retries the dead letter
			case relay.Skip:
				t.Fatalf("%s skipped", batch[i].Key)
			}
		}
		pending = append(next, pending[len(batch):]...)
	}
	per := map[string]int{}
	for _, c := range s.Changes() {
		if c.Kind == "checkin" {
			per[c.Barcode]++
		}
	}
	if len(per) != 30 {
		t.Errorf("%d items checked in, want 30", len(per))
	}
	for bc, n := range per {
		if n != 1 {
			t.Errorf("%s checked in %d times", bc, n)
		}
	}
	if staff == 0 {
		t.Error("no checkin outcome was ever unknown: the faults did not bite")
	}
}
