package sip2_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-inventory/tally/sync/sip2"
	"github.com/tally-inventory/tally/sync/sip2/sip2test"
)

const (
	onLoan    = "31234000123456"
	lostBook  = "31234000999999"
	available = "31234000111111"
)

var serverNow = time.Date(2024, 1, 15, 9, 30, 5, 0, school)

func items() []sip2test.Item {
	return []sip2test.Item{
		{Barcode: onLoan, Title: "Charlotte's Web", CallNumber: "FIC WHI", PermanentLocation: "LMC", CurrentLocation: "LMC",
			Borrower: "P100", Due: time.Date(2024, 1, 29, 23, 59, 0, 0, school)},
		{Barcode: lostBook, Title: "Holes", CallNumber: "FIC SAC", PermanentLocation: "LMC", CurrentLocation: "LMC", Lost: 1},
		{Barcode: available, Title: "Wonder", CallNumber: "FIC PAL", PermanentLocation: "LMC", CurrentLocation: "LMC"},
	}
}

func account() sip2test.Account {
	return sip2test.Account{User: "invbot", Password: "s3cret", Institution: "SCHOOL1", Terminator: "\r"}
}

// start runs a test ACS with the standard items and the given account.
func start(t *testing.T, a sip2test.Account) *sip2test.Server {
	return sip2test.Start(t, sip2test.Opts{Accounts: []sip2test.Account{a}, Items: items(),
		Now: func() time.Time { return serverNow }, Zone: school, Delay: time.Second})
}

func clientOpts(s *sip2test.Server) sip2.Opts {
	o := sip2.DefaultOpts
	o.Addr = s.Addr()
	o.User, o.Password, o.Location, o.Institution = "invbot", "s3cret", "LMC", "SCHOOL1"
	o.CheckinLocation = "LMC-SHELF"
	o.Zone = school
	o.Now = func() time.Time { return exampleTime }
	o.Timeout = 5 * time.Second
	return o
}

func dial(t *testing.T, o sip2.Opts) *sip2.Client {
	t.Helper()
	c, err := sip2.Dial(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func count(reqs []string, prefix string) int {
	n := 0
	for _, r := range reqs {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

// TestClientSendsWorkedExample: the bytes the client puts on the wire for
// login, status, item information and checkin are exactly the worked
// session in frame_test.go (workedExample).
func TestClientSendsWorkedExample(t *testing.T) {
	s := start(t, account())
	c := dial(t, clientOpts(s))
	if _, err := c.ItemInformation(context.Background(), onLoan); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Checkin(context.Background(), onLoan, exampleTime); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range workedExample {
		want = append(want, m.wire)
	}
	if got := s.Requests(); !reflect.DeepEqual(got, want) {
		t.Errorf("requests on the wire:\n got %q\nwant %q", got, want)
	}
}

func TestItemInformation(t *testing.T) {
	s := start(t, account())
	c := dial(t, clientOpts(s))
	ctx := context.Background()

	info, err := c.ItemInformation(ctx, onLoan)
	if err != nil {
		t.Fatal(err)
	}
	want := &sip2.ItemInfo{CirculationStatus: sip2.CircCharged, SecurityMarker: "02", FeeType: "01",
		TransactionDate: serverNow, ItemID: onLoan, Title: "Charlotte's Web", DueDate: "20240129    235900",
		PermanentLocation: "LMC", CurrentLocation: "LMC", CallNumber: "FIC WHI", MediaType: "001"}
	if !reflect.DeepEqual(info, want) {
		t.Errorf("item info:\n got %+v\nwant %+v", info, want)
	}

	unknown, err := c.ItemInformation(ctx, "99999999")
	if err != nil {
		t.Fatal(err)
	}
	if !unknown.Unknown() || unknown.ItemID != "99999999" {
		t.Errorf("unknown barcode: %+v, Unknown()=%v", unknown, unknown.Unknown())
	}
	if len(s.Changes()) != 0 {
		t.Errorf("without seen_on_item_information a 17 changed %v", s.Changes())
	}
	if st := c.ACSStatus(); !st.Online || st.Institution != "SCHOOL1" || !st.Supports(sip2.SupportsItemInformation) {
		t.Errorf("ACS status %+v", st)
	}
}

func TestSeenOnItemInformation(t *testing.T) {
	for _, tc := range []struct {
		mode     string
		wantLost int
		wantKind string
		seen     bool
	}{
		{sip2test.SeenNone, 1, "", false},
		{sip2test.SeenKeepLost, 1, "seen", true},
		{sip2test.SeenMarkFound, 0, "found", true},
	} {
		t.Run("mode="+tc.mode, func(t *testing.T) {
			a := account()
			a.SeenOnItemInformation = tc.mode
			s := start(t, a)
			c := dial(t, clientOpts(s))
			for i := range 3 { // a repeated 17 is safe: one change at most
				info, err := c.ItemInformation(context.Background(), lostBook)
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 && info.CirculationStatus != sip2.CircLost {
					t.Errorf("first lookup: status %v, want lost", info.CirculationStatus)
				}
			}
			it, _ := s.Item(lostBook)
			if it.Lost != tc.wantLost {
				t.Errorf("itemlost = %d, want %d", it.Lost, tc.wantLost)
			}
			if got := !it.LastSeen.IsZero(); got != tc.seen {
				t.Errorf("last seen stamped = %v, want %v", got, tc.seen)
			}
			ch := s.ChangesFor(lostBook)
			if tc.wantKind == "" {
				if len(ch) != 0 {
					t.Errorf("changes %+v, want none", ch)
				}
				return
			}
			if len(ch) != 1 || ch[0].Kind != tc.wantKind || ch[0].Request != "17" {
				t.Errorf("changes %+v, want exactly one %q", ch, tc.wantKind)
			}
		})
	}
}

func TestLostStatusForMissing(t *testing.T) {
	a := account()
	a.LostStatusForMissing = 4
	s := start(t, a)
	it, _ := s.Item(lostBook)
	it.Lost = 4
	s.PutItem(it)
	c := dial(t, clientOpts(s))
	info, err := c.ItemInformation(context.Background(), lostBook)
	if err != nil {
		t.Fatal(err)
	}
	if info.CirculationStatus != sip2.CircMissing {
		t.Errorf("status %v, want missing", info.CirculationStatus)
	}
}

func TestCheckin(t *testing.T) {
	s := start(t, account())
	c := dial(t, clientOpts(s))
	ctx := context.Background()

	res, err := c.Checkin(ctx, onLoan, exampleTime)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || res.Alert || res.PatronID != "P100" || res.Title != "Charlotte's Web" || res.PermanentLocation != "LMC" {
		t.Errorf("checkin result %+v", res)
	}
	it, _ := s.Item(onLoan)
	if it.Borrower != "" || !it.Due.IsZero() || it.CurrentLocation != "LMC-SHELF" {
		t.Errorf("item after checkin %+v", it)
	}
	// Checking in an item that is not on loan is refused, not an error.
	res, err = c.Checkin(ctx, available, exampleTime)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || !res.Alert || len(res.ScreenMessages) != 1 || res.ScreenMessages[0] != "Item not checked out" {
		t.Errorf("checkin of an available item: %+v", res)
	}
	if ch := s.Changes(); len(ch) != 1 || ch[0].Kind != "checkin" || ch[0].Barcode != onLoan {
		t.Errorf("changes %+v, want one checkin of %s", ch, onLoan)
	}
}

func TestCheckinFillsHold(t *testing.T) {
	s := start(t, account())
	it, _ := s.Item(onLoan)
	it.Holds = 1
	s.PutItem(it)
	c := dial(t, clientOpts(s))
	res, err := c.Checkin(context.Background(), onLoan, exampleTime)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || !res.Alert || res.AlertType != "01" {
		t.Errorf("checkin with a hold: %+v", res)
	}
	info, err := c.ItemInformation(context.Background(), onLoan)
	if err != nil {
		t.Fatal(err)
	}
	if info.CirculationStatus != sip2.CircOnHoldShelf {
		t.Errorf("status after checkin with a hold: %v", info.CirculationStatus)
	}
}

func TestLoginRefused(t *testing.T) {
	s := start(t, account())
	o := clientOpts(s)
	o.Password = "wrong"
	if _, err := sip2.Dial(context.Background(), o); !errors.Is(err, sip2.ErrLoginFailed) {
		t.Errorf("wrong password: err = %v, want ErrLoginFailed", err)
	}
	s.Inject("93", sip2test.RefuseLogin, 1)
	if _, err := sip2.Dial(context.Background(), clientOpts(s)); !errors.Is(err, sip2.ErrLoginFailed) {
		t.Errorf("refused login: err = %v, want ErrLoginFailed", err)
	}
	// A login refused on reconnect is permanent too: the request fails with
	// ErrLoginFailed instead of being retried.
	c := dial(t, clientOpts(s))
	s.CloseConnections()
	s.Inject("93", sip2test.RefuseLogin, 2)
	if _, err := c.ItemInformation(context.Background(), onLoan); !errors.Is(err, sip2.ErrLoginFailed) {
		t.Errorf("refused on reconnect: err = %v, want ErrLoginFailed", err)
	}
	if n := count(s.Requests(), "17"); n != 0 {
		t.Errorf("%d item information requests reached the server without a login", n)
	}
	if s.Pending() != 1 {
		t.Errorf("%d refusals left; the client should have tried to log in exactly once", s.Pending())
	}
}

// faultCase is one failure mode and what must follow from it.
type faultCase struct {
	fault sip2test.Fault
	// for 17: the lookup succeeds after at most one retry.
	// for 09: either it succeeds, or it fails with ErrOutcomeUnknown; never
	// is the checkin sent twice after it may have been applied.
	checkinOutcomeUnknown bool
	checkinSends          int // 09s the server must have received
}

var faultCases = []faultCase{
	{sip2test.DropMidReply, true, 1},
	{sip2test.BadChecksum, false, 1},
	{sip2test.Delay, true, 1},
	{sip2test.Resend, false, 2}, // the first was refused with 96, never applied
	{sip2test.Silent, true, 1},
}

func faultOpts(s *sip2test.Server) sip2.Opts {
	o := clientOpts(s)
	o.Timeout = 200 * time.Millisecond // the server's Delay is 1 s
	return o
}

func TestItemInformationFaults(t *testing.T) {
	for _, fc := range faultCases {
		t.Run(fc.fault.String(), func(t *testing.T) {
			a := account()
			a.SeenOnItemInformation = sip2test.SeenMarkFound
			s := start(t, a)
			c := dial(t, faultOpts(s))
			s.Inject("17", fc.fault, 1)
			info, err := c.ItemInformation(context.Background(), lostBook)
			if err != nil {
				t.Fatalf("%v: %v", fc.fault, err)
			}
			if info.ItemID != lostBook || info.Title != "Holes" {
				t.Errorf("reply %+v", info)
			}
			if s.Pending() != 0 {
				t.Errorf("the injected fault never fired")
			}
			st := c.Stats()
			switch fc.fault {
			case sip2test.BadChecksum:
				if st.ResendRequests != 1 || st.Retries != 0 {
					t.Errorf("stats %+v: want one 97 and no retry", st)
				}
				if count(s.Requests(), "97AZFEF5") != 1 {
					t.Errorf("requests %q: want one 97AZFEF5", s.Requests())
				}
			case sip2test.Resend:
				if st.Resends != 1 || st.Retries != 0 {
					t.Errorf("stats %+v: want one resend and no retry", st)
				}
			default:
				if st.Retries != 1 || st.Connects != 2 {
					t.Errorf("stats %+v: want one retry on a second connection", st)
				}
			}
			// Repeating a 17 with mark_found is harmless: one change.
			if ch := s.ChangesFor(lostBook); len(ch) != 1 || ch[0].Kind != "found" {
				t.Errorf("changes %+v, want exactly one found", ch)
			}
		})
	}
}

func TestCheckinFaults(t *testing.T) {
	for _, fc := range faultCases {
		t.Run(fc.fault.String(), func(t *testing.T) {
			s := start(t, account())
			c := dial(t, faultOpts(s))
			s.Inject("09", fc.fault, 1)
			res, err := c.Checkin(context.Background(), onLoan, exampleTime)
			if fc.checkinOutcomeUnknown {
				if !errors.Is(err, sip2.ErrOutcomeUnknown) {
					t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
				}
			} else if err != nil || !res.OK {
				t.Fatalf("checkin: %+v, %v", res, err)
			}
			if n := count(s.Requests(), "09"); n != fc.checkinSends {
				t.Errorf("server received %d checkins, want %d", n, fc.checkinSends)
			}
			if ch := s.ChangesFor(onLoan); len(ch) != 1 || ch[0].Kind != "checkin" {
				t.Errorf("changes %+v, want exactly one checkin", ch)
			}
			// The client is usable afterwards.
			if _, err := c.ItemInformation(context.Background(), onLoan); err != nil {
				t.Errorf("lookup after the fault: %v", err)
			}
		})
	}
}

func TestResendTwiceFails(t *testing.T) {
	s := start(t, account())
	c := dial(t, clientOpts(s))
	s.Inject("09", sip2test.Resend, 2)
	_, err := c.Checkin(context.Background(), onLoan, exampleTime)
	if err == nil || !strings.Contains(err.Error(), "asked twice") {
		t.Fatalf("err = %v, want 'asked twice'", err)
	}
	if errors.Is(err, sip2.ErrOutcomeUnknown) {
		t.Error("two 96s mean the ACS never acted; the outcome is known")
	}
	if n := count(s.Requests(), "09"); n != 2 {
		t.Errorf("%d checkins sent, want 2 (the original and one resend)", n)
	}
	if n := len(s.ChangesFor(onLoan)); n != 0 {
		t.Errorf("%d changes, want none", n)
	}
}

// TestBadChecksumTwice: the reply and its resend are both corrupt. A 17 is
// retried on a new connection; a 09 is not, and its outcome is unknown.
func TestBadChecksumTwice(t *testing.T) {
	s := start(t, account())
	c := dial(t, clientOpts(s))
	s.Inject("17", sip2test.BadChecksum, 1)
	s.Inject("97", sip2test.BadChecksum, 1)
	if _, err := c.ItemInformation(context.Background(), onLoan); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.ResendRequests != 1 || st.Retries != 1 {
		t.Errorf("stats %+v: want one 97 and one retry", st)
	}

	s.Inject("09", sip2test.BadChecksum, 1)
	s.Inject("97", sip2test.BadChecksum, 1)
	_, err := c.Checkin(context.Background(), onLoan, exampleTime)
	if !errors.Is(err, sip2.ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
	}
	var ce *sip2.ChecksumError
	if !errors.As(err, &ce) {
		t.Errorf("err = %v, want it to carry the *ChecksumError", err)
	}
	if n := count(s.Requests(), "09"); n != 1 {
		t.Errorf("%d checkins sent, want 1", n)
	}
	if ch := s.ChangesFor(onLoan); len(ch) != 1 {
		t.Errorf("changes %+v, want exactly one", ch)
	}
}

// TestIdleDisconnect: Koha drops idle SIP connections. The client notices
// before sending, so even a checkin goes through on a fresh connection.
func TestIdleDisconnect(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" && runtime.GOOS != "freebsd" {
		t.Skip("peer-closed probe is unix-only")
	}
	s := start(t, account())
	c := dial(t, clientOpts(s))
	s.CloseConnections()
	// Give the FIN a moment to cross loopback; the probe needs it to have
	// arrived (this is ordering, not a timing assertion).
	time.Sleep(50 * time.Millisecond)
	res, err := c.Checkin(context.Background(), onLoan, exampleTime)
	if err != nil || !res.OK {
		t.Fatalf("checkin after idle disconnect: %+v, %v", res, err)
	}
	if st := c.Stats(); st.Connects != 2 || st.Retries != 0 {
		t.Errorf("stats %+v: want a reconnect before sending, no retry", st)
	}
}

// TestStaleReply: an extra reply left on the connection must not be taken
// as the answer to the next request; the client reconnects instead.
func TestStaleReply(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" && runtime.GOOS != "freebsd" {
		t.Skip("stale-connection probe is unix-only")
	}
	s := start(t, account())
	c := dial(t, clientOpts(s))
	s.Inject("17", sip2test.Duplicate, 1)
	if _, err := c.ItemInformation(context.Background(), available); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let the duplicate arrive (ordering, not timing)
	res, err := c.Checkin(context.Background(), onLoan, exampleTime)
	if err != nil || !res.OK || res.ItemID != onLoan {
		t.Fatalf("checkin after a stray reply: %+v, %v", res, err)
	}
	if st := c.Stats(); st.Connects != 2 || st.Retries != 0 {
		t.Errorf("stats %+v: want a reconnect before sending, no retry", st)
	}
}

func TestCRLF(t *testing.T) {
	a := account()
	a.Terminator = "\r\n"
	s := start(t, a)
	o := clientOpts(s)
	o.Terminator = "\r\n"
	c := dial(t, o)
	for range 3 {
		if _, err := c.ItemInformation(context.Background(), onLoan); err != nil {
			t.Fatal(err)
		}
	}
	if st := c.Stats(); st.Connects != 1 {
		t.Errorf("stats %+v: CRLF replies should not look like dropped connections", st)
	}
}

func TestNoErrorDetection(t *testing.T) {
	s := start(t, account())
	o := clientOpts(s)
	o.ErrorDetection = false
	c := dial(t, o)
	if _, err := c.ItemInformation(context.Background(), onLoan); err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Requests() {
		if strings.Contains(r, "AZ") {
			t.Errorf("request %q carries a checksum with error detection off", r)
		}
	}
}

func TestUnsupported(t *testing.T) {
	a := account()
	a.SupportedMessages = "YYNYYYYYYYNNYYYY" // no checkin, no item information
	s := start(t, a)
	c := dial(t, clientOpts(s))
	if _, err := c.ItemInformation(context.Background(), onLoan); !errors.Is(err, sip2.ErrUnsupported) {
		t.Errorf("item information: err = %v, want ErrUnsupported", err)
	}
	if _, err := c.Checkin(context.Background(), onLoan, exampleTime); !errors.Is(err, sip2.ErrUnsupported) {
		t.Errorf("checkin: err = %v, want ErrUnsupported", err)
	}
	if n := count(s.Requests(), "09") + count(s.Requests(), "17"); n != 0 {
		t.Errorf("%d unsupported requests were sent", n)
	}
}

func TestContextCancel(t *testing.T) {
	s := start(t, account())
	c := dial(t, clientOpts(s)) // 5 s timeout: the context must win
	s.Inject("17", sip2test.Silent, 2)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for count(s.Requests(), "17") == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := c.ItemInformation(ctx, onLoan)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := count(s.Requests(), "17"); n != 1 {
		t.Errorf("%d requests sent; a cancelled request must not be retried", n)
	}
}

func TestBadInput(t *testing.T) {
	s := start(t, account())
	c := dial(t, clientOpts(s))
	for _, bc := range []string{"", "12|34", "12\r34", "12\x0034"} {
		if _, err := c.ItemInformation(context.Background(), bc); err == nil {
			t.Errorf("barcode %q accepted", bc)
		}
	}
	if _, err := sip2.Dial(context.Background(), sip2.Opts{}); err == nil {
		t.Error("Dial without an address succeeded")
	}
	o := clientOpts(s)
	o.Terminator = "\n"
	if _, err := sip2.Dial(context.Background(), o); err == nil {
		t.Error("Dial with terminator \\n succeeded")
	}
}

func TestClose(t *testing.T) {
	s := start(t, account())
	c := dial(t, clientOpts(s))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ItemInformation(context.Background(), onLoan); !errors.Is(err, sip2.ErrClosed) {
		t.Errorf("after Close: err = %v, want ErrClosed", err)
	}
}

// TestConcurrent: many goroutines share one client; every reply belongs to
// its own request.
func TestConcurrent(t *testing.T) {
	s := start(t, account())
	c := dial(t, clientOpts(s))
	barcodes := []string{onLoan, lostBook, available}
	var wg sync.WaitGroup
	errs := make(chan error, 8*30)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				bc := barcodes[(g+i)%len(barcodes)]
				info, err := c.ItemInformation(context.Background(), bc)
				if err != nil {
					errs <- err
					return
				}
				if info.ItemID != bc {
					errs <- fmt.Errorf("asked for %s, got %s", bc, info.ItemID)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := count(s.Requests(), "17"); n != 8*30 {
		t.Errorf("server saw %d requests, want %d", n, 8*30)
	}
}
