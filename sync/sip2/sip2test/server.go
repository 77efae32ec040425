// Package sip2test is a loopback SIP2 ACS that behaves like Koha's SIP
// server (C4/SIP) for the messages tally sends — login 93, SC status 99,
// item information 17 (with the account option seen_on_item_information)
// and checkin 09 — with failure modes a test can switch on and a record of
// every state change, so sink and relay tests can assert "exactly one
// change per item".
//
// Like net/http/httptest it is a real TCP server on 127.0.0.1, not a mock:
// the client under test goes through its real dialer, framing, checksums
// and reconnect logic.
package sip2test

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tally-inventory/tally/sync/sip2"
)

// Values of Account.SeenOnItemInformation, as in Koha's SIP account settings.
const (
	SeenNone      = ""           // 17 changes nothing (Koha's default)
	SeenKeepLost  = "keep_lost"  // 17 stamps last seen, lost status stays
	SeenMarkFound = "mark_found" // 17 stamps last seen and clears lost
)

// KohaSupportedMessages is the BX field Koha sends: everything except item
// status update (position 11).
const KohaSupportedMessages = "YYYYYYYYYYYNYYYY"

// Account is a SIP account on the server (Koha's sip_accounts row).
type Account struct {
	User, Password string
	Institution    string
	// SeenOnItemInformation is "", "keep_lost" or "mark_found".
	SeenOnItemInformation string
	// LostStatusForMissing is the itemlost value reported as 13 (missing)
	// rather than 12 (lost); 0 means none.
	LostStatusForMissing int
	// CheckedInOK makes a checkin of an item that is not on loan answer ok 1
	// (Koha's checked_in_ok); otherwise it answers ok 0 with an alert.
	CheckedInOK bool
	// Terminator ends replies: "\r" or "\r\n" (Koha's default is CRLF).
	Terminator string
	// SupportedMessages is the BX field of 98; empty means KohaSupportedMessages.
	SupportedMessages string
}

// Item is one item in the server's catalogue, with the Koha item columns
// that SIP2 reports or changes.
type Item struct {
	Barcode           string
	Title             string
	CallNumber        string // itemcallnumber → CS
	CollectionCode    string // ccode → CR
	PermanentLocation string // homebranch → AQ
	CurrentLocation   string // holdingbranch → AP
	Lost              int    // itemlost: 0 not lost, else the LOST authorised value
	Damaged           bool
	InTransitTo       string    // non-empty while in transit → status 10, CT
	Borrower          string    // patron card number while on loan
	Due               time.Time // due date while on loan
	Holds             int       // holds queued on the item → CF
	HoldWaiting       bool      // captured for a hold, on the hold shelf → status 08
	LastSeen          time.Time // datelastseen
}

// Status derives the SIP2 circulation status the way Koha's
// C4::SIP::ILS::Item does: transit, loan, lost/missing, hold shelf,
// damaged, else available.
func (it Item) Status(lostStatusForMissing int) sip2.CirculationStatus {
	switch {
	case it.InTransitTo != "":
		return sip2.CircInTransit
	case it.Borrower != "":
		return sip2.CircCharged
	case it.Lost != 0 && lostStatusForMissing != 0 && it.Lost == lostStatusForMissing:
		return sip2.CircMissing
	case it.Lost != 0:
		return sip2.CircLost
	case it.HoldWaiting:
		return sip2.CircOnHoldShelf
	case it.Damaged:
		return sip2.CircOther
	}
	return sip2.CircAvailable
}

// Change is one change to an item's state, made by one request.
type Change struct {
	Seq     int    // 1, 2, … in the order changes happened
	Barcode string // the item
	Kind    string // "seen" (last seen stamped), "found" (lost cleared), "checkin" (loan ended)
	Request string // message code that caused it: "17" or "09"
	Account string // SIP login that made it
	Before  Item
	After   Item
}

// Fault is a failure the server can be told to produce.
type Fault int

const (
	// DropMidReply applies the request, writes half of the reply and closes
	// the connection.
	DropMidReply Fault = iota + 1
	// BadChecksum applies the request and sends the reply with a wrong AZ
	// (needs error detection on the request); a 97 then gets the good reply.
	BadChecksum
	// Delay applies the request and holds the reply for Opts.Delay.
	Delay
	// Resend answers 96 (request SC resend) without acting on the request.
	Resend
	// RefuseLogin answers a 93 with 940 whatever the credentials.
	RefuseLogin
	// Silent applies the request and never replies.
	Silent
	// Duplicate applies the request and sends the reply twice, leaving an
	// unread reply on the connection.
	Duplicate
)

func (f Fault) String() string {
	switch f {
	case DropMidReply:
		return "drop mid-reply"
	case BadChecksum:
		return "bad checksum"
	case Delay:
		return "delay"
	case Resend:
		return "resend (96)"
	case RefuseLogin:
		return "refuse login"
	case Silent:
		return "silent"
	case Duplicate:
		return "duplicate reply"
	}
	return "fault " + strconv.Itoa(int(f))
}

// Opts configures a Server.
type Opts struct {
	Accounts []Account
	Items    []Item
	// Now is the server clock for last-seen dates and timestamps; nil is
	// time.Now. A fixed clock makes a repeated 17 a no-op, as it is in Koha
	// when datelastseen already holds that time.
	Now func() time.Time
	// Zone is the server's local time zone for SIP2 dates; nil is time.Local.
	Zone *time.Location
	// Delay is how long the Delay fault holds a reply.
	Delay time.Duration
}

// Server is a loopback SIP2 ACS. Methods are safe for concurrent use.
type Server struct {
	ln   net.Listener
	o    Opts
	done chan struct{}
	wg   sync.WaitGroup

	mu       sync.Mutex
	accounts map[string]Account
	items    map[string]*Item
	changes  []Change
	requests []string
	faults   map[string][]Fault
	conns    map[net.Conn]struct{}
	logins   int
}

// New starts a server on 127.0.0.1 on a free port.
func New(o Opts) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sip2test: listen: %w", err)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Zone == nil {
		o.Zone = time.Local
	}
	s := &Server{ln: ln, o: o, done: make(chan struct{}),
		accounts: map[string]Account{}, items: map[string]*Item{},
		faults: map[string][]Fault{}, conns: map[net.Conn]struct{}{}}
	for _, a := range o.Accounts {
		s.accounts[a.User] = a
	}
	for _, it := range o.Items {
		s.PutItem(it)
	}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Start is New for tests: it fails the test on error and closes the server
// at cleanup.
func Start(t testing.TB, o Opts) *Server {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Addr is the host:port to dial.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops accepting, closes every connection and waits for the
// connection handlers to return.
func (s *Server) Close() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	close(s.done)
	err := s.ln.Close()
	s.CloseConnections()
	s.wg.Wait()
	return err
}

// CloseConnections closes every open client connection, as Koha's SIP
// server does to idle clients from time to time.
func (s *Server) CloseConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

// PutItem adds or replaces an item.
func (s *Server) PutItem(it Item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := it
	s.items[it.Barcode] = &cp
}

// RemoveItem takes an item out of the catalogue (weeded, or never there).
func (s *Server) RemoveItem(barcode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.items, barcode)
}

// Item returns an item's current state.
func (s *Server) Item(barcode string) (Item, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[barcode]
	if !ok {
		return Item{}, false
	}
	return *it, true
}

// Changes returns every change so far, in order.
func (s *Server) Changes() []Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Change(nil), s.changes...)
}

// ChangesFor returns the changes to one item.
func (s *Server) ChangesFor(barcode string) []Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Change
	for _, c := range s.changes {
		if c.Barcode == barcode {
			out = append(out, c)
		}
	}
	return out
}

// Requests returns every message received, terminator stripped, in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// Logins counts successful logins (one per client connection).
func (s *Server) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// Inject makes the next `times` requests with message code `code` ("93",
// "99", "17", "09", or "97" for the resend of a reply) suffer fault f.
// Faults queue per code in call order.
func (s *Server) Inject(code string, f Fault, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range times {
		s.faults[code] = append(s.faults[code], f)
	}
}

// Pending returns how many injected faults have not fired yet, so a test
// can check that the exchange it expected really happened.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, q := range s.faults {
		n += len(q)
	}
	return n
}

func (s *Server) takeFault(code string) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[code]
	if len(q) == 0 {
		return 0
	}
	s.faults[code] = q[1:]
	return q[0]
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		select {
		case <-s.done:
			s.mu.Unlock()
			c.Close()
			return
		default:
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(c)
	}
}

// session is one client connection's state.
type session struct {
	s       *Server
	conn    net.Conn
	account *Account
	last    *sip2.Frame // last reply, for 97
}

func (s *Server) serve(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	ss := &session{s: s, conn: c}
	r := bufio.NewReader(c)
	for {
		line, err := sip2.ReadMessage(r)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.requests = append(s.requests, string(line))
		s.mu.Unlock()
		if !ss.handle(line) {
			return
		}
	}
}

// handle answers one request; false closes the connection.
func (ss *session) handle(line []byte) bool {
	s := ss.s
	f, err := sip2.ParseFrame(line)
	if err != nil {
		// Koha answers a bad checksum, and a message it has no handler
		// for, with 96.
		var ce *sip2.ChecksumError
		return ss.write(&sip2.Frame{Code: sip2.CodeRequestSCResend, Seq: -1}, errors.As(err, &ce), 0)
	}
	ed := f.Checksummed
	fault := s.takeFault(f.Code)
	if f.Code == sip2.CodeRequestACSResend {
		if ss.last == nil {
			return ss.write(&sip2.Frame{Code: sip2.CodeRequestSCResend, Seq: -1}, ed, 0)
		}
		// A resent reply carries no sequence number (Koha, p. 4 of the spec).
		again := *ss.last
		again.Seq = -1
		return ss.write(&again, ed, fault)
	}
	if fault == Resend {
		return ss.write(&sip2.Frame{Code: sip2.CodeRequestSCResend, Seq: -1}, ed, 0)
	}
	if ss.account == nil && f.Code != sip2.CodeLogin {
		return false // Koha's raw transport wants a login first
	}
	msg, err := sip2.DecodeRequest(f, s.o.Zone)
	if err != nil {
		return ss.write(&sip2.Frame{Code: sip2.CodeRequestSCResend, Seq: -1}, ed, 0)
	}
	var reply sip2.Message
	switch m := msg.(type) {
	case *sip2.Login:
		reply = ss.login(m, fault == RefuseLogin)
	case *sip2.SCStatus:
		reply = ss.acsStatus()
	case *sip2.ItemInformation:
		reply = ss.itemInformation(m)
	case *sip2.Checkin:
		reply = ss.checkin(m)
	default:
		return ss.write(&sip2.Frame{Code: sip2.CodeRequestSCResend, Seq: -1}, ed, 0)
	}
	rf := reply.Frame()
	rf.Seq = f.Seq
	ss.last = rf
	return ss.write(rf, ed, fault)
}

// write sends f, applying a reply fault. false closes the connection.
func (ss *session) write(f *sip2.Frame, ed bool, fault Fault) bool {
	s := ss.s
	b, err := sip2.Encode(f, ed)
	if err != nil {
		return false
	}
	term := "\r"
	if ss.account != nil && ss.account.Terminator != "" {
		term = ss.account.Terminator
	}
	switch fault {
	case BadChecksum:
		if ed {
			b[len(b)-1] = wrongHex(b[len(b)-1])
		}
	case Delay:
		select {
		case <-time.After(s.o.Delay):
		case <-s.done:
			return false
		}
	case DropMidReply:
		ss.conn.Write(b[:len(b)/2])
		return false
	case Silent:
		return true
	case Duplicate:
		b = append(append(b, term...), b...)
	}
	_, err = ss.conn.Write(append(b, term...))
	return err == nil
}

func wrongHex(c byte) byte {
	if c == '0' {
		return '1'
	}
	return '0'
}

func (ss *session) login(m *sip2.Login, refuse bool) sip2.Message {
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[m.User]
	// Koha refuses encrypted credentials and unknown or wrong logins.
	if refuse || !ok || a.Password != m.Password || m.UIDAlgorithm != '0' || m.PWDAlgorithm != '0' {
		return &sip2.LoginResponse{OK: false}
	}
	ss.account = &a
	s.logins++
	return &sip2.LoginResponse{OK: true}
}

func (ss *session) acsStatus() sip2.Message {
	a := ss.account
	bx := a.SupportedMessages
	if bx == "" {
		bx = KohaSupportedMessages
	}
	return &sip2.ACSStatus{
		Online: true, CheckinOK: true, CheckoutOK: true, RenewalPolicy: true,
		Timeout: "030", Retries: "003", DateTime: ss.s.o.Now().In(ss.s.o.Zone), Protocol: "2.00",
		Institution: a.Institution, LibraryName: "tally test ACS", SupportedMessages: bx,
	}
}

func (ss *session) itemInformation(m *sip2.ItemInformation) sip2.Message {
	s := ss.s
	now := s.o.Now().In(s.o.Zone)
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[m.ItemID]
	if !ok {
		// Koha: "other" status, "other" security marker, "unknown" fee
		// type, the barcode echoed and an empty (required) title.
		return &sip2.ItemInfo{CirculationStatus: sip2.CircOther, SecurityMarker: "01", FeeType: "01",
			TransactionDate: now, ItemID: m.ItemID}
	}
	// The reply describes the item as the request found it; the seen
	// update follows (a lost item reports 12 once, then 03 after mark_found).
	reply := ss.describe(it, now)
	switch ss.account.SeenOnItemInformation {
	case SeenKeepLost, SeenMarkFound:
		before := *it
		it.LastSeen = now
		kind := "seen"
		if ss.account.SeenOnItemInformation == SeenMarkFound && it.Lost != 0 {
			it.Lost = 0
			kind = "found"
		}
		s.record(kind, sip2.CodeItemInformation, ss.account.User, before, *it)
	}
	return reply
}

func (ss *session) describe(it *Item, now time.Time) *sip2.ItemInfo {
	st := it.Status(ss.account.LostStatusForMissing)
	r := &sip2.ItemInfo{CirculationStatus: st, SecurityMarker: "02", FeeType: "01", TransactionDate: now,
		ItemID: it.Barcode, Title: it.Title, MediaType: "001",
		PermanentLocation: it.PermanentLocation, CurrentLocation: it.CurrentLocation,
		CollectionCode: it.CollectionCode, CallNumber: it.CallNumber, Destination: it.InTransitTo}
	if st == sip2.CircOther {
		r.ScreenMessages = append(r.ScreenMessages, "Item is damaged")
	}
	if it.Holds > 0 {
		r.HoldQueueLength = strconv.Itoa(it.Holds)
	}
	if !it.Due.IsZero() {
		r.DueDate = sip2.FormatDate(it.Due, ss.s.o.Zone)
	}
	return r
}

func (ss *session) checkin(m *sip2.Checkin) sip2.Message {
	s := ss.s
	now := s.o.Now().In(s.o.Zone)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &sip2.CheckinResult{MagneticMedia: 'N', TransactionDate: now, Institution: m.Institution, ItemID: m.ItemID}
	it, ok := s.items[m.ItemID]
	if !ok {
		r.MagneticMedia = 'U'
		r.Alert = true
		r.ScreenMessages = []string{"Invalid Item"}
		return r
	}
	r.PermanentLocation, r.Title, r.CallNumber, r.CollectionCode, r.MediaType =
		it.PermanentLocation, it.Title, it.CallNumber, it.CollectionCode, "001"
	if it.Borrower == "" {
		r.OK = ss.account.CheckedInOK
		r.Alert = !r.OK
		r.ScreenMessages = []string{"Item not checked out"}
		return r
	}
	before := *it
	r.PatronID = it.Borrower
	it.Borrower, it.Due, it.LastSeen = "", time.Time{}, now
	if m.CurrentLocation != "" {
		it.CurrentLocation = m.CurrentLocation
	}
	r.OK = true
	r.Resensitize = true
	if it.Holds > 0 {
		// The return fills the first hold: pull it for the hold shelf.
		it.Holds--
		it.HoldWaiting = true
		r.Alert, r.AlertType, r.Resensitize = true, "01", false
		r.Destination = it.PermanentLocation
	}
	s.record("checkin", sip2.CodeCheckin, ss.account.User, before, *it)
	return r
}

// record appends a change if the item changed. Called with s.mu held.
func (s *Server) record(kind, code, user string, before, after Item) {
	if sameItem(before, after) {
		return
	}
	s.changes = append(s.changes, Change{Seq: len(s.changes) + 1, Barcode: after.Barcode, Kind: kind,
		Request: code, Account: user, Before: before, After: after})
}

func sameItem(a, b Item) bool {
	if !a.Due.Equal(b.Due) || !a.LastSeen.Equal(b.LastSeen) {
		return false
	}
	a.Due, b.Due, a.LastSeen, b.LastSeen = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return a == b
}
