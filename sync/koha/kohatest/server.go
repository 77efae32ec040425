// Package kohatest is a loopback Koha REST API (api/v1) for tests: the
// routes tally uses, with Koha's field names, auth, paging headers and error
// bodies, switchable failure modes, and a record of every item change so a
// test can assert "exactly one change per item".
//
// Like net/http/httptest it is a real HTTP server on 127.0.0.1, not a mock:
// the client under test goes through its real transport, auth and retry
// logic. What it serves follows Koha's swagger files (api/v1/swagger):
//
//	POST   /api/v1/oauth/token                         client credentials → {access_token, token_type, expires_in}
//	GET    /api/v1/items                               _page, _per_page, _match, _order_by, external_id, q; x-koha-embed: biblio
//	GET    /api/v1/items/{item_id}
//	PUT    /api/v1/biblios/{biblio_id}/items/{item_id} newer Koha; only the fields sent change (Opts.NoItemUpdate turns it off, as in 22.x)
//	GET    /api/v1/checkouts                           q={"item_id":N}, patron_id
//	GET    /api/v1/holds                               current holds, _page, _per_page (AddHold)
//	DELETE /api/v1/checkouts/{checkout_id}             the Koha RFC's "return a checkout" (off unless Opts.Checkin: stock Koha has none)
//	GET    /api/v1/authorised_value_categories/{name}/authorised_values
//	GET    /api/v1/                                     the spec's paths, so a client can tell what this "version" offers
//
// Koha has no PATCH on items; like Koha, this server answers an unknown
// route with Mojolicious's 404 body.
package kohatest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Opts configures a Server. The zero value serves OAuth2 client "tally" /
// "secret" and basic user "tally" / "password" with the item update route on
// and check-in off.
type Opts struct {
	Clients map[string]string // OAuth2 client_id → client_secret
	Users   map[string]string // basic-auth user → password
	// TokenTTL is the expires_in of issued tokens (Koha: 3600 s).
	TokenTTL time.Duration
	// DefaultPerPage is RESTdefaultPageSize (Koha falls back to 20).
	DefaultPerPage int
	// NoItemUpdate serves a Koha 22.x API without PUT /biblios/{id}/items/{id}.
	NoItemUpdate bool
	// Checkin serves DELETE /checkouts/{checkout_id}.
	Checkin bool
	// Zone is the server's time zone: date-times are written with its offset.
	// Nil is UTC+2, so clients that ignore offsets fail tests.
	Zone *time.Location
	// Now is the server clock (token expiry, lost_date); nil is time.Now.
	Now func() time.Time
	// LostValues is the LOST authorised value list; nil is Koha's defaults 1–5.
	LostValues []int
}

// Item is one item in the catalogue, in Go types; the server writes it with
// Koha's API field names. A zero time means NULL.
type Item struct {
	ItemID           int
	BiblioID         int // 0: AddItem creates a biblio from Title and Author
	Barcode          string
	Title, Author    string // the biblio's
	CallNumber       string
	HomeLibrary      string
	HoldingLibrary   string
	Location         string
	CollectionCode   string
	ItemType         string
	LostStatus       int
	LostDate         time.Time
	Withdrawn        int
	Damaged          int
	NotForLoan       int
	LastSeen         time.Time
	DueDate          time.Time // items.onloan (checked_out_date): set by Checkout
	ReplacementPrice float64   // 0 is written as null
}

// Change is one request that changed an item, with every field it changed.
type Change struct {
	Seq     int
	ItemID  int
	Barcode string
	Request string // "PUT /api/v1/biblios/1/items/2"
	Fields  []FieldChange
}

// FieldChange is one field of a Change, old and new as the API writes them.
type FieldChange struct {
	Name     string
	Old, New string
}

// FaultKind is a switchable failure mode.
type FaultKind int

const (
	// Status answers Fault.Status (default 503) with a Koha error body,
	// without handling the request.
	Status FaultKind = iota
	// RateLimit answers 429 with Retry-After, without handling the request.
	RateLimit
	// Reset handles the request (a change is applied), then sends part of
	// the response and resets the connection.
	Reset
	// Delay waits Fault.Delay, then handles the request as usual — even if
	// the client has given up, as a busy Koha would.
	Delay
	// ErrorBody answers 200 with a JSON error body (a proxy's or a
	// maintenance page's), without handling the request.
	ErrorBody
)

// Fault makes the next Count matching requests fail.
type Fault struct {
	Kind       FaultKind
	Count      int    // matching requests to fail; 0 means 1
	Method     string // "" matches any method
	Path       string // path prefix under /api/v1 ("/items", "/oauth/token"); "" matches any
	Status     int
	RetryAfter time.Duration
	Delay      time.Duration
	Msg        string // the error body's message for Status; "" is Koha's generic one
}

type biblio struct {
	id            int
	title, author string
}

type checkout struct {
	id, itemID, patronID int
	due, out             time.Time
	library              string
}

// Server is a running Koha API. Methods are safe for concurrent use.
type Server struct {
	URL string // base URL without /api/v1, e.g. http://127.0.0.1:34567

	o  Opts
	hs *httptest.Server

	mu        sync.Mutex
	items     map[int]*Item
	order     []int // item ids in insertion (= id) order
	biblios   map[int]*biblio
	checkouts map[int]*checkout
	holds     []Hold
	nextID    int
	tokens    map[string]time.Time // token → expiry
	clients   map[string]string
	users     map[string]string
	faults    []*Fault
	down      bool
	changes   []Change
	requests  map[string]int
	tokensN   int
}

// New starts a server; Close stops it.
func New(o Opts) *Server {
	if o.Clients == nil {
		o.Clients = map[string]string{"tally": "secret"}
	}
	if o.Users == nil {
		o.Users = map[string]string{"tally": "password"}
	}
	if o.TokenTTL == 0 {
		o.TokenTTL = time.Hour
	}
	if o.DefaultPerPage == 0 {
		o.DefaultPerPage = 20
	}
	if o.Zone == nil {
		o.Zone = time.FixedZone("+0200", 2*3600)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LostValues == nil {
		o.LostValues = []int{1, 2, 3, 4, 5}
	}
	s := &Server{o: o, items: map[int]*Item{}, biblios: map[int]*biblio{}, checkouts: map[int]*checkout{},
		tokens: map[string]time.Time{}, clients: map[string]string{}, users: map[string]string{},
		requests: map[string]int{}}
	for k, v := range o.Clients {
		s.clients[k] = v
	}
	for k, v := range o.Users {
		s.users[k] = v
	}
	s.hs = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.hs.URL
	return s
}

// Close shuts the server down, closing client connections.
func (s *Server) Close() {
	s.hs.CloseClientConnections()
	s.hs.Close()
}

// Client is an http.Client for this server.
func (s *Server) Client() *http.Client { return s.hs.Client() }

// AddItem adds an item and returns it with its ids filled in.
func (s *Server) AddItem(it Item) Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	if it.BiblioID == 0 {
		s.nextID++
		it.BiblioID = s.nextID
		s.biblios[it.BiblioID] = &biblio{id: it.BiblioID, title: it.Title, author: it.Author}
	} else if _, ok := s.biblios[it.BiblioID]; !ok {
		s.biblios[it.BiblioID] = &biblio{id: it.BiblioID, title: it.Title, author: it.Author}
	}
	if it.ItemID == 0 {
		s.nextID++
		it.ItemID = s.nextID
	} else if it.ItemID > s.nextID {
		s.nextID = it.ItemID
	}
	c := it
	s.items[it.ItemID] = &c
	s.order = append(s.order, it.ItemID)
	sort.Ints(s.order)
	return it
}

// Checkout lends an item (by exact barcode) to a patron until due.
func (s *Server) Checkout(barcode string, patronID int, due time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.byBarcode(barcode)
	if it == nil {
		return fmt.Errorf("kohatest: no item %q", barcode)
	}
	if !it.DueDate.IsZero() {
		return fmt.Errorf("kohatest: item %q is already checked out", barcode)
	}
	s.nextID++
	s.checkouts[s.nextID] = &checkout{id: s.nextID, itemID: it.ItemID, patronID: patronID, due: due,
		out: s.o.Now(), library: it.HomeLibrary}
	it.DueDate = due
	return nil
}

// Item returns a copy of the item with exactly this barcode.
func (s *Server) Item(barcode string) (Item, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if it := s.byBarcode(barcode); it != nil {
		return *it, true
	}
	return Item{}, false
}

// SetItem replaces an item's state (by ItemID) without recording a change:
// what staff did in Koha behind tally's back.
func (s *Server) SetItem(it Item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.items[it.ItemID]; ok {
		c := it
		s.items[it.ItemID] = &c
	}
}

func (s *Server) byBarcode(bc string) *Item {
	for _, id := range s.order {
		if it := s.items[id]; it.Barcode == bc {
			return it
		}
	}
	return nil
}

// Changes returns every recorded item change, in order.
func (s *Server) Changes() []Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Change(nil), s.changes...)
}

// ChangesPerBarcode counts the changing requests per item barcode.
func (s *Server) ChangesPerBarcode() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := map[string]int{}
	for _, c := range s.changes {
		n[c.Barcode]++
	}
	return n
}

// Requests counts requests served by route, e.g. "GET /items",
// "PUT /biblios/{biblio_id}/items/{item_id}", "POST /oauth/token"; faults
// are counted under their route too.
func (s *Server) Requests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := make(map[string]int, len(s.requests))
	for k, v := range s.requests {
		n[k] = v
	}
	return n
}

// TokensIssued counts tokens handed out by /oauth/token.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokensN
}

// Inject queues a fault; faults are used in the order injected.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Count == 0 {
		f.Count = 1
	}
	s.faults = append(s.faults, &f)
}

// ClearFaults drops every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// SetDown makes every request answer 503 (true) until called with false.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// ExpireTokens makes every issued token expired, as after Koha's expires_in.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.tokens {
		s.tokens[t] = time.Time{}
	}
}

// RevokeCredentials removes every OAuth2 client and basic-auth user and
// their tokens: the API key was deleted or the password changed.
func (s *Server) RevokeCredentials() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients = map[string]string{}
	s.users = map[string]string{}
	s.tokens = map[string]time.Time{}
}

// route is a matched API route: its pattern name and path parameters.
type route struct {
	name   string
	params []int
}

func matchRoute(method, p string) (route, bool) {
	seg := strings.Split(strings.Trim(p, "/"), "/")
	num := func(s string) (int, bool) {
		n, err := strconv.Atoi(s)
		return n, err == nil && n > 0
	}
	switch {
	case p == "/" || p == "":
		return route{name: method + " /"}, true
	case len(seg) == 2 && seg[0] == "oauth" && seg[1] == "token":
		return route{name: method + " /oauth/token"}, true
	case len(seg) == 1 && seg[0] == "items":
		return route{name: method + " /items"}, true
	case len(seg) == 2 && seg[0] == "items":
		if id, ok := num(seg[1]); ok {
			return route{name: method + " /items/{item_id}", params: []int{id}}, true
		}
	case len(seg) == 4 && seg[0] == "biblios" && seg[2] == "items":
		b, ok1 := num(seg[1])
		i, ok2 := num(seg[3])
		if ok1 && ok2 {
			return route{name: method + " /biblios/{biblio_id}/items/{item_id}", params: []int{b, i}}, true
		}
	case len(seg) == 1 && seg[0] == "checkouts":
		return route{name: method + " /checkouts"}, true
	case len(seg) == 1 && seg[0] == "holds":
		return route{name: method + " /holds"}, true
	case len(seg) == 2 && seg[0] == "checkouts":
		if id, ok := num(seg[1]); ok {
			return route{name: method + " /checkouts/{checkout_id}", params: []int{id}}, true
		}
	case len(seg) == 3 && seg[0] == "authorised_value_categories" && seg[2] == "authorised_values":
		return route{name: method + " /authorised_value_categories/{name}/authorised_values"}, true
	}
	return route{}, false
}

// paths is what the spec route lists: pattern → methods.
func (s *Server) paths() map[string][]string {
	p := map[string][]string{
		"/oauth/token":             {"post"},
		"/items":                   {"get"},
		"/items/{item_id}":         {"get", "delete"},
		"/checkouts":               {"get", "post"},
		"/checkouts/{checkout_id}": {"get"},
		"/holds":                   {"get", "post"},
		"/authorised_value_categories/{authorised_value_category_name}/authorised_values": {"get"},
		"/biblios/{biblio_id}/items": {"get", "post"},
	}
	if !s.o.NoItemUpdate {
		p["/biblios/{biblio_id}/items/{item_id}"] = []string{"put"}
	}
	if s.o.Checkin {
		p["/checkouts/{checkout_id}"] = append(p["/checkouts/{checkout_id}"], "delete")
	}
	return p
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	const base = "/api/v1"
	if !strings.HasPrefix(r.URL.Path, base) {
		notFound(w)
		return
	}
	p := strings.TrimPrefix(r.URL.Path, base)
	rt, ok := matchRoute(r.Method, p)
	s.mu.Lock()
	name := rt.name
	if !ok {
		name = r.Method + " (no route)"
	}
	s.requests[name]++
	down := s.down
	var f *Fault
	for i, q := range s.faults {
		if (q.Method == "" || q.Method == r.Method) && strings.HasPrefix(p, q.Path) {
			f = q
			if q.Count--; q.Count <= 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
			break
		}
	}
	s.mu.Unlock()

	if down {
		writeErr(w, http.StatusServiceUnavailable, "Under maintenance")
		return
	}
	if f != nil {
		switch f.Kind {
		case Status:
			st := f.Status
			if st == 0 {
				st = http.StatusServiceUnavailable
			}
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int(f.RetryAfter/time.Second)))
			}
			msg := f.Msg
			if msg == "" {
				msg = "Something went wrong, check Koha logs for details."
			}
			writeErr(w, st, msg)
			return
		case RateLimit:
			w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
			writeErr(w, http.StatusTooManyRequests, "Too many requests")
			return
		case ErrorBody:
			writeJSON(w, http.StatusOK, map[string]any{"error": "Koha is under maintenance", "error_code": "maintenance"})
			return
		case Delay:
			t := time.NewTimer(f.Delay)
			<-t.C // a busy server finishes the request even when the client left
		case Reset:
			rec := httptest.NewRecorder()
			s.handle(rec, r, rt, ok)
			resetMidResponse(w, rec)
			return
		}
	}
	s.handle(w, r, rt, ok)
}

// resetMidResponse sends the status line, headers and half the body, then
// closes the socket with SO_LINGER 0 so the client sees a reset.
func resetMidResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("kohatest: response writer cannot be hijacked")
	}
	conn, bw, err := hj.Hijack()
	if err != nil {
		return
	}
	body := rec.Body.Bytes()
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		rec.Code, http.StatusText(rec.Code), len(body)+1)
	bw.Write(body[:len(body)/2])
	bw.Flush()
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request, rt route, ok bool) {
	if !ok {
		notFound(w)
		return
	}
	switch rt.name {
	case "POST /oauth/token":
		s.token(w, r)
		return
	case "GET /":
		s.spec(w)
		return
	}
	if !s.authorized(w, r) {
		return
	}
	switch rt.name {
	case "GET /items":
		s.listItems(w, r)
	case "GET /items/{item_id}":
		s.getItem(w, rt.params[0])
	case "PUT /biblios/{biblio_id}/items/{item_id}":
		if s.o.NoItemUpdate {
			notFound(w)
			return
		}
		s.putItem(w, r, rt.params[0], rt.params[1])
	case "GET /checkouts":
		s.listCheckouts(w, r)
	case "GET /holds":
		s.listHolds(w, r)
	case "DELETE /checkouts/{checkout_id}":
		if !s.o.Checkin {
			notFound(w)
			return
		}
		s.returnCheckout(w, r, rt.params[0])
	case "GET /authorised_value_categories/{name}/authorised_values":
		s.authorisedValues(w, r)
	default:
		notFound(w)
	}
}

// notFound is Mojolicious::Plugin::OpenAPI's answer for a route the spec
// does not have.
func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, map[string]any{
		"errors": []any{map[string]any{"message": "Not Found.", "path": "/"}}, "status": 404})
}

func writeErr(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func (s *Server) spec(w http.ResponseWriter) {
	paths := map[string]any{}
	for p, ms := range s.paths() {
		ops := map[string]any{}
		for _, m := range ms {
			ops[m] = map[string]any{"operationId": m + p}
		}
		paths[p] = ops
	}
	writeJSON(w, http.StatusOK, map[string]any{"swagger": "2.0", "basePath": "/api/v1",
		"info": map[string]any{"title": "Koha REST API", "version": "1"}, "paths": paths})
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeErr(w, http.StatusBadRequest, "Cannot read the form")
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		writeErr(w, http.StatusBadRequest, "Unimplemented grant type")
		return
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	s.mu.Lock()
	if want, ok := s.clients[id]; !ok || want != secret || secret == "" {
		s.mu.Unlock()
		writeErr(w, http.StatusForbidden, "unauthorized_client")
		return
	}
	s.tokensN++
	tok := fmt.Sprintf("tok-%d-%d", s.tokensN, s.o.Now().UnixNano())
	s.tokens[tok] = s.o.Now().Add(s.o.TokenTTL)
	ttl := int(s.o.TokenTTL / time.Second)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": ttl})
}

func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	h := r.Header.Get("Authorization")
	s.mu.Lock()
	ok := false
	switch {
	case strings.HasPrefix(h, "Bearer "):
		exp, found := s.tokens[strings.TrimPrefix(h, "Bearer ")]
		ok = found && s.o.Now().Before(exp)
	case strings.HasPrefix(h, "Basic "):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h, "Basic "))
		if err == nil {
			u, p, _ := strings.Cut(string(raw), ":")
			want, found := s.users[u]
			ok = found && want == p
		}
	}
	s.mu.Unlock()
	if !ok {
		writeErr(w, http.StatusUnauthorized, "Authentication failure.")
	}
	return ok
}

// apiItem is the item object as Koha's API writes it (definitions/item.yaml).
type apiItem struct {
	ItemID           int      `json:"item_id"`
	BiblioID         int      `json:"biblio_id"`
	ExternalID       *string  `json:"external_id"`
	Callnumber       *string  `json:"callnumber"`
	HomeLibraryID    *string  `json:"home_library_id"`
	HoldingLibraryID *string  `json:"holding_library_id"`
	Location         *string  `json:"location"`
	PermanentLoc     *string  `json:"permanent_location"`
	CollectionCode   *string  `json:"collection_code"`
	ItemTypeID       *string  `json:"item_type_id"`
	EffectiveItype   *string  `json:"effective_item_type_id"`
	LostStatus       int      `json:"lost_status"`
	LostDate         *string  `json:"lost_date"`
	Withdrawn        int      `json:"withdrawn"`
	DamagedStatus    int      `json:"damaged_status"`
	NotForLoan       int      `json:"not_for_loan_status"`
	CheckedOutDate   *string  `json:"checked_out_date"`
	LastSeenDate     *string  `json:"last_seen_date"`
	ReplacementPrice *float64 `json:"replacement_price"`
	Timestamp        string   `json:"timestamp"`
	Biblio           any      `json:"biblio,omitempty"`
}

func strOrNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *Server) dateTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	v := t.In(s.o.Zone).Format(time.RFC3339)
	return &v
}

func date(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	v := t.Format("2006-01-02")
	return &v
}

// api renders an item; call with s.mu held.
func (s *Server) api(it *Item, embedBiblio bool) apiItem {
	a := apiItem{ItemID: it.ItemID, BiblioID: it.BiblioID, ExternalID: strOrNull(it.Barcode),
		Callnumber: strOrNull(it.CallNumber), HomeLibraryID: strOrNull(it.HomeLibrary),
		HoldingLibraryID: strOrNull(it.HoldingLibrary), Location: strOrNull(it.Location),
		PermanentLoc: strOrNull(it.Location), CollectionCode: strOrNull(it.CollectionCode),
		ItemTypeID: strOrNull(it.ItemType), EffectiveItype: strOrNull(it.ItemType),
		LostStatus: it.LostStatus, LostDate: s.dateTime(it.LostDate), Withdrawn: it.Withdrawn,
		DamagedStatus: it.Damaged, NotForLoan: it.NotForLoan, CheckedOutDate: date(it.DueDate),
		LastSeenDate: s.dateTime(it.LastSeen), Timestamp: *s.dateTime(s.o.Now())}
	if it.ReplacementPrice != 0 {
		p := it.ReplacementPrice
		a.ReplacementPrice = &p
	}
	if embedBiblio {
		b := s.biblios[it.BiblioID]
		a.Biblio = map[string]any{"biblio_id": b.id, "title": strOrNull(b.title), "author": strOrNull(b.author),
			"subtitle": nil, "frameworkcode": ""}
	}
	return a
}

// apiNames are the item fields a query may name (API names; "me." allowed).
var apiNames = map[string]bool{"item_id": true, "biblio_id": true, "external_id": true, "callnumber": true,
	"home_library_id": true, "location": true, "collection_code": true, "item_type_id": true,
	"lost_status": true, "withdrawn": true}

// fieldValue is an item field by API name; false for NULL.
func fieldValue(it *Item, name string) (string, bool) {
	var v string
	switch name {
	case "item_id":
		return strconv.Itoa(it.ItemID), true
	case "biblio_id":
		return strconv.Itoa(it.BiblioID), true
	case "lost_status":
		return strconv.Itoa(it.LostStatus), true
	case "withdrawn":
		return strconv.Itoa(it.Withdrawn), true
	case "external_id":
		v = it.Barcode
	case "callnumber":
		v = it.CallNumber
	case "home_library_id":
		v = it.HomeLibrary
	case "location":
		v = it.Location
	case "collection_code":
		v = it.CollectionCode
	case "item_type_id":
		v = it.ItemType
	}
	return v, v != ""
}

// cond is one condition of a q filter.
type cond struct {
	field, op, value string // op: "=" (MySQL's case-insensitive equality) or "like"
}

// parseQ reads q={"field":"value"} and {"field":{"-like":"pat%"}} (a hash is
// an AND), the subset of Koha's query language tally and tests use.
func parseQ(q string) ([]cond, error) {
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(q))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("Invalid JSON query: %v", err)
	}
	var cs []cond
	for k, v := range m {
		f := strings.TrimPrefix(k, "me.")
		if !apiNames[f] {
			return nil, fmt.Errorf("Invalid query: unknown attribute %s", k)
		}
		switch v := v.(type) {
		case string:
			cs = append(cs, cond{f, "=", v})
		case json.Number:
			cs = append(cs, cond{f, "=", v.String()})
		case map[string]any:
			for op, pv := range v {
				ps, ok := pv.(string)
				if op != "-like" || !ok {
					return nil, fmt.Errorf("Invalid query: unsupported operator %s", op)
				}
				cs = append(cs, cond{f, "like", ps})
			}
		default:
			return nil, fmt.Errorf("Invalid query: unsupported value for %s", k)
		}
	}
	return cs, nil
}

// like is SQL LIKE with % and _, case-insensitive as MySQL's collation.
func like(s, pat string) bool {
	s, pat = strings.ToLower(s), strings.ToLower(pat)
	if pat == "" {
		return s == ""
	}
	switch pat[0] {
	case '%':
		for i := 0; i <= len(s); i++ {
			if like(s[i:], pat[1:]) {
				return true
			}
		}
		return false
	case '_':
		return s != "" && like(s[1:], pat[1:])
	}
	return s != "" && s[0] == pat[0] && like(s[1:], pat[1:])
}

func (c cond) match(it *Item) bool {
	v, ok := fieldValue(it, c.field)
	if !ok {
		return false
	}
	if c.op == "like" {
		return like(v, c.value)
	}
	return strings.EqualFold(v, c.value)
}

// matchParam applies a query-parameter filter with _match (Koha's default
// for these is "contains": external_id=0803 finds 30803).
func matchParam(v, want, how string) bool {
	v, want = strings.ToLower(v), strings.ToLower(want)
	switch how {
	case "exact":
		return v == want
	case "starts_with":
		return strings.HasPrefix(v, want)
	case "ends_with":
		return strings.HasSuffix(v, want)
	}
	return strings.Contains(v, want)
}

func (s *Server) listItems(w http.ResponseWriter, r *http.Request) {
	qv := r.URL.Query()
	how := qv.Get("_match")
	switch how {
	case "", "contains", "exact", "starts_with", "ends_with":
	default:
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []any{map[string]any{
			"message": "Not in enum list: contains, exact, starts_with, ends_with.", "path": "/_match"}}, "status": 400})
		return
	}
	var conds []cond
	for _, q := range qv["q"] {
		cs, err := parseQ(q)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error(), "error_code": "invalid_query"})
			return
		}
		conds = append(conds, cs...)
	}
	embed := false
	for _, e := range strings.Split(r.Header.Get("x-koha-embed"), ",") {
		switch strings.TrimSpace(e) {
		case "":
		case "biblio":
			embed = true
		case "+strings":
		default:
			writeErr(w, http.StatusBadRequest, "Embedding objects is not allowed on this endpoint.")
			return
		}
	}
	page, perPage, ok := s.paging(w, qv)
	if !ok {
		return
	}
	if ob := qv.Get("_order_by"); ob != "" && ob != "+item_id" && ob != "item_id" && ob != "+me.item_id" && ob != "me.item_id" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "unsupported _order_by " + ob, "error_code": "invalid_query"})
		return
	}
	s.mu.Lock()
	var all []*Item
	for _, id := range s.order {
		it := s.items[id]
		ok := true
		for _, c := range conds {
			if !c.match(it) {
				ok = false
				break
			}
		}
		if bc := qv.Get("external_id"); ok && qv.Has("external_id") {
			ok = it.Barcode != "" && matchParam(it.Barcode, bc, how)
		}
		if ok {
			all = append(all, it)
		}
	}
	base := len(s.order)
	total := len(all)
	lo, hi, last := pageBounds(total, page, perPage)
	sel := all[lo:hi]
	out := make([]apiItem, len(sel))
	for i, it := range sel {
		out[i] = s.api(it, embed)
	}
	s.mu.Unlock()
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	w.Header().Set("X-Base-Total-Count", strconv.Itoa(base))
	if perPage > 0 {
		w.Header().Set("Link", s.links(r, page, perPage, last))
	}
	writeJSON(w, http.StatusOK, out)
}

// paging reads _page and _per_page (-1: all) as Koha's validator does,
// answering 400 itself when either is not a valid integer.
func (s *Server) paging(w http.ResponseWriter, qv url.Values) (page, perPage int, ok bool) {
	page, perPage = 1, s.o.DefaultPerPage
	if v := qv.Get("_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []any{map[string]any{
				"message": "Expected integer - got string.", "path": "/_page"}}, "status": 400})
			return 0, 0, false
		}
		page = n
	}
	if v := qv.Get("_per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n == 0 || n < -1 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []any{map[string]any{
				"message": "Expected integer - got string.", "path": "/_per_page"}}, "status": 400})
			return 0, 0, false
		}
		perPage = n
	}
	return page, perPage, true
}

// pageBounds is the slice [lo:hi] of total rows that page shows, and the
// last page's number.
func pageBounds(total, page, perPage int) (lo, hi, last int) {
	if perPage <= 0 {
		return 0, total, 1
	}
	lo, hi, last = min((page-1)*perPage, total), min(page*perPage, total), 1
	if total > 0 {
		last = (total + perPage - 1) / perPage
	}
	return lo, hi, last
}

// links writes RFC 5988 Link entries as Koha's Pagination plugin does.
func (s *Server) links(r *http.Request, page, perPage, last int) string {
	mk := func(p int, rel string) string {
		q := r.URL.Query()
		q.Set("_page", strconv.Itoa(p))
		q.Set("_per_page", strconv.Itoa(perPage))
		u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	var ls []string
	ls = append(ls, mk(1, "first"))
	if page > 1 {
		ls = append(ls, mk(page-1, "prev"))
	}
	if page < last {
		ls = append(ls, mk(page+1, "next"))
	}
	ls = append(ls, mk(last, "last"))
	return strings.Join(ls, ",")
}

func (s *Server) getItem(w http.ResponseWriter, id int) {
	s.mu.Lock()
	it, ok := s.items[id]
	var a apiItem
	if ok {
		a = s.api(it, false)
	}
	s.mu.Unlock()
	if !ok {
		writeErr(w, http.StatusNotFound, "Item not found")
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// writable are the item fields PUT accepts here; Koha accepts more, but
// any other name in the body is answered the way Koha's validator answers
// a property the schema does not have.
var writable = map[string]bool{"last_seen_date": true, "lost_status": true, "withdrawn": true,
	"damaged_status": true, "not_for_loan_status": true, "location": true, "callnumber": true,
	"external_id": true}

func (s *Server) putItem(w http.ResponseWriter, r *http.Request, biblioID, itemID int) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeErr(w, http.StatusBadRequest, "cannot read body")
		return
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []any{map[string]any{
			"message": "Expected object - got " + kindOf(body) + ".", "path": "/body"}}, "status": 400})
		return
	}
	var extra []string
	for k := range m {
		if !writable[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []any{map[string]any{
			"message": "Properties not allowed: " + strings.Join(extra, ", ") + ".", "path": "/body"}}, "status": 400})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[itemID]
	if !ok || it.BiblioID != biblioID {
		s.unlockedWrite(w, http.StatusNotFound, map[string]any{"error": "Item not found"})
		return
	}
	next := *it
	for k, raw := range m {
		var bad bool
		switch k {
		case "last_seen_date":
			var v *string
			if bad = json.Unmarshal(raw, &v) != nil; !bad {
				if v == nil {
					next.LastSeen = time.Time{}
				} else if t, err := time.Parse(time.RFC3339, *v); err == nil {
					next.LastSeen = t.Truncate(time.Second) // MySQL datetime keeps seconds
				} else {
					bad = true
				}
			}
		case "lost_status", "withdrawn", "damaged_status", "not_for_loan_status":
			var v int
			if bad = json.Unmarshal(raw, &v) != nil; !bad {
				switch k {
				case "lost_status":
					if v != next.LostStatus {
						if v == 0 {
							next.LostDate = time.Time{}
						} else {
							next.LostDate = s.o.Now().Truncate(time.Second)
						}
					}
					next.LostStatus = v
				case "withdrawn":
					next.Withdrawn = v
				case "damaged_status":
					next.Damaged = v
				default:
					next.NotForLoan = v
				}
			}
		default:
			var v *string
			if bad = json.Unmarshal(raw, &v) != nil; !bad {
				sv := ""
				if v != nil {
					sv = *v
				}
				switch k {
				case "location":
					next.Location = sv
				case "callnumber":
					next.CallNumber = sv
				case "external_id":
					if sv != "" && sv != it.Barcode {
						for _, o := range s.items {
							if strings.EqualFold(o.Barcode, sv) {
								s.unlockedWrite(w, http.StatusConflict, map[string]any{"error": "Duplicate barcode.", "error_code": "duplicate_barcode"})
								return
							}
						}
					}
					next.Barcode = sv
				}
			}
		}
		if bad {
			s.unlockedWrite(w, http.StatusBadRequest, map[string]any{"errors": []any{map[string]any{
				"message": "Invalid value for " + k + ".", "path": "/body/" + k}}, "status": 400})
			return
		}
	}
	s.record(r, it, &next)
	*it = next
	s.unlockedWrite(w, http.StatusOK, s.api(it, false))
}

// unlockedWrite writes a response while s.mu is held by the caller, letting
// go of it during the write so a slow client cannot stall the server.
func (s *Server) unlockedWrite(w http.ResponseWriter, status int, v any) {
	s.mu.Unlock()
	writeJSON(w, status, v)
	s.mu.Lock()
}

func kindOf(b []byte) string {
	t := strings.TrimSpace(string(b))
	switch {
	case t == "":
		return "nothing"
	case t[0] == '[':
		return "array"
	case t[0] == '"':
		return "string"
	}
	return "other"
}

// record appends a Change if next differs from old; call with s.mu held.
func (s *Server) record(r *http.Request, old, next *Item) {
	a, b := s.api(old, false), s.api(next, false)
	var fs []FieldChange
	add := func(name string, x, y any) {
		xs, ys := show(x), show(y)
		if xs != ys {
			fs = append(fs, FieldChange{Name: name, Old: xs, New: ys})
		}
	}
	add("external_id", a.ExternalID, b.ExternalID)
	add("callnumber", a.Callnumber, b.Callnumber)
	add("location", a.Location, b.Location)
	add("last_seen_date", a.LastSeenDate, b.LastSeenDate)
	add("lost_status", a.LostStatus, b.LostStatus)
	add("withdrawn", a.Withdrawn, b.Withdrawn)
	add("damaged_status", a.DamagedStatus, b.DamagedStatus)
	add("not_for_loan_status", a.NotForLoan, b.NotForLoan)
	add("checked_out_date", a.CheckedOutDate, b.CheckedOutDate)
	if len(fs) == 0 {
		return
	}
	s.changes = append(s.changes, Change{Seq: len(s.changes) + 1, ItemID: old.ItemID, Barcode: old.Barcode,
		Request: r.Method + " " + r.URL.Path, Fields: fs})
}

func show(v any) string {
	switch v := v.(type) {
	case *string:
		if v == nil {
			return "null"
		}
		return *v
	case int:
		return strconv.Itoa(v)
	}
	return fmt.Sprint(v)
}

func (s *Server) apiCheckout(c *checkout) map[string]any {
	return map[string]any{"checkout_id": c.id, "patron_id": c.patronID, "item_id": c.itemID,
		"due_date": s.dateTime(c.due), "checkout_date": s.dateTime(c.out), "library_id": c.library,
		"checkin_date": nil, "renewals_count": 0, "onsite_checkout": false}
}

func (s *Server) listCheckouts(w http.ResponseWriter, r *http.Request) {
	qv := r.URL.Query()
	itemID, patronID := 0, 0
	for _, q := range qv["q"] {
		var m map[string]json.Number
		if err := json.Unmarshal([]byte(q), &m); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "Invalid JSON query", "error_code": "invalid_query"})
			return
		}
		for k, v := range m {
			n, err := v.Int64()
			if err != nil || (k != "item_id" && k != "me.item_id") {
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": "Invalid query: " + k, "error_code": "invalid_query"})
				return
			}
			itemID = int(n)
		}
	}
	if v := qv.Get("patron_id"); v != "" {
		patronID, _ = strconv.Atoi(v)
	}
	s.mu.Lock()
	var ids []int
	for id, c := range s.checkouts {
		if (itemID == 0 || c.itemID == itemID) && (patronID == 0 || c.patronID == patronID) {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	out := []map[string]any{}
	for _, id := range ids {
		out = append(out, s.apiCheckout(s.checkouts[id]))
	}
	s.mu.Unlock()
	w.Header().Set("X-Total-Count", strconv.Itoa(len(out)))
	writeJSON(w, http.StatusOK, out)
}

// returnCheckout checks an item in as Koha's AddReturn does: the loan ends
// and the item is marked seen now.
func (s *Server) returnCheckout(w http.ResponseWriter, r *http.Request, id int) {
	s.mu.Lock()
	c, ok := s.checkouts[id]
	if !ok {
		s.mu.Unlock()
		writeErr(w, http.StatusNotFound, "Checkout not found")
		return
	}
	delete(s.checkouts, id)
	if it, ok := s.items[c.itemID]; ok {
		next := *it
		next.DueDate = time.Time{}
		next.LastSeen = s.o.Now().Truncate(time.Second)
		s.record(r, it, &next)
		*it = next
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) authorisedValues(w http.ResponseWriter, r *http.Request) {
	seg := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	cat := seg[len(seg)-2]
	if cat != "LOST" {
		writeErr(w, http.StatusNotFound, "Category not found")
		return
	}
	names := map[int]string{1: "Lost", 2: "Long overdue (lost)", 3: "Lost and paid for", 4: "Missing", 5: "Missing from hold queue"}
	var out []map[string]any
	for i, v := range s.o.LostValues {
		d := names[v]
		if d == "" {
			d = "Lost " + strconv.Itoa(v)
		}
		out = append(out, map[string]any{"authorised_value_id": i + 1, "category_name": "LOST",
			"value": strconv.Itoa(v), "description": d, "opac_description": d, "image_url": nil})
	}
	writeJSON(w, http.StatusOK, out)
}
