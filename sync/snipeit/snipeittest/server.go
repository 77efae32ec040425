// Package snipeittest is a loopback Snipe-IT API that behaves like
// snipe/snipe-it (routes/api.php, Api/AssetsController, the exception
// handler and Laravel's throttle) for the calls tally makes: bearer auth,
// asset lookup by tag and id, both audit routes, the asset list with
// assigned_to/assigned_type filters and limit/offset paging, asset
// updates, and locations. It records every audit and update, so tests can
// assert "exactly one audit per asset", and it can be told to fail: 5xx,
// connections reset before or after a change is applied, replies that
// never come, an expired token, and its 120-a-minute throttle.
//
// Like net/http/httptest it is a real HTTP server on 127.0.0.1.
package snipeittest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Asset is one asset in the server's database.
type Asset struct {
	ID         int // 0: assigned by PutAsset
	Tag        string
	Name       string
	Serial     string
	Model      string
	Category   string
	CategoryID int
	StatusID   int // a StatusLabel id; 0 is 1 (Ready to Deploy)
	LocationID int
	// AssignedTo and AssignedType say what the asset is checked out to:
	// "user", "asset" or "location" (stored as App\Models\… as Snipe-IT does).
	AssignedTo    int
	AssignedType  string
	LastAuditDate time.Time // zero: never audited
	NextAuditDate time.Time
	Deleted       bool
}

// Location is a Snipe-IT location.
type Location struct {
	ID   int
	Name string
}

// StatusLabel is a Snipe-IT status label; Type is deployable, pending,
// undeployable or archived.
type StatusLabel struct {
	ID   int
	Name string
	Type string
}

// DefaultStatusLabels are the labels a fresh Snipe-IT install seeds.
var DefaultStatusLabels = []StatusLabel{
	{1, "Ready to Deploy", "deployable"},
	{2, "Pending", "pending"},
	{3, "Archived", "archived"},
	{4, "Out for Diagnostics", "undeployable"},
	{5, "Out for Repair", "undeployable"},
	{6, "Broken - Not Fixable", "archived"},
	{7, "Lost/Stolen", "archived"},
}

// Audit is one audit log row, as Asset::logAudit writes it.
type Audit struct {
	Seq            int
	AssetID        int
	Tag            string
	Route          string // "legacy" (POST /hardware/audit) or "asset" (POST /hardware/{id}/audit)
	Note           string
	LocationID     int
	UpdateLocation bool
	At             time.Time
}

// Update is one asset update (PATCH/PUT /hardware/{id}).
type Update struct {
	Seq     int
	AssetID int
	Fields  map[string]any
}

// Request is one request the server received.
type Request struct {
	Method, Path string
	Op           string // bytag, show, list, audit, update, location, other
	Status       int    // 0 when the connection was reset or the reply withheld
}

// Fault is a failure the server can be told to produce.
type Fault int

const (
	// InternalError answers 500 {"message":"Server Error"} without acting.
	InternalError Fault = iota + 1
	// Unavailable answers 503 with Retry-After: 1 (maintenance mode).
	Unavailable
	// Reset closes the connection without acting or replying.
	Reset
	// ResetAfter acts on the request, then closes the connection without
	// replying: the change happened but the client cannot know.
	ResetAfter
	// Hang holds the request without acting until the client gives up.
	Hang
	// HangAfter acts, then holds the reply until the client gives up.
	HangAfter
	// BadGateway answers 502 with an HTML page, as a reverse proxy does.
	BadGateway
	// Throttled answers 429 with Retry-After: 1 and X-RateLimit-Reset, as
	// Laravel's throttle middleware does when its headers reach the client
	// (a proxy's limit, or Opts.ThrottleHeaders), without acting.
	Throttled
)

func (f Fault) String() string {
	switch f {
	case InternalError:
		return "500"
	case Unavailable:
		return "503"
	case Reset:
		return "reset"
	case ResetAfter:
		return "reset after apply"
	case Hang:
		return "hang"
	case HangAfter:
		return "hang after apply"
	case BadGateway:
		return "502"
	case Throttled:
		return "429"
	}
	return "fault " + strconv.Itoa(int(f))
}

// Version is the Snipe-IT release whose API routes the server serves
// (routes/api.php at the release tags; see ../testdata/audit-routes.txt).
type Version string

// The releases that differ in their routes. Every one of them has the
// legacy audit route, POST /api/v1/hardware/audit with asset_tag in the
// body; only v8.1.0 and later also have POST /api/v1/hardware/{id}/audit.
const (
	V6    Version = "v6"   // v6.x
	V7    Version = "v7"   // v7.x
	V8_0  Version = "v8.0" // v8.0.x
	V8_1  Version = "v8.1" // v8.1.0 and later: the default
	VNext Version = "next" // not a release: v8.1's routes without the legacy audit route, for a sink's fallback
)

// Versions are the releases schools run, oldest first.
var Versions = []Version{V6, V7, V8_0, V8_1}

// PerAssetAudit reports whether v has POST /hardware/{id}/audit.
func (v Version) PerAssetAudit() bool { return v == V8_1 || v == VNext || v == "" }

// LegacyAudit reports whether v has POST /hardware/audit.
func (v Version) LegacyAudit() bool { return v != VNext }

// Opts configures a Server.
type Opts struct {
	// Version selects the release's routes; "" is V8_1.
	Version   Version
	Token     string // the valid bearer token
	Assets    []Asset
	Locations []Location
	// StatusLabels; nil is DefaultStatusLabels.
	StatusLabels []StatusLabel
	// ThrottlePerMinute is API_THROTTLE_PER_MINUTE: 0 is 120, negative
	// turns the throttle off.
	ThrottlePerMinute int
	// ThrottleHeaders adds Retry-After and X-RateLimit-Reset to a 429, as
	// Laravel's own handler (or a proxy) does. Snipe-IT's exception handler
	// re-renders the 429 as JSON and drops them, so the default omits them.
	ThrottleHeaders bool
	// MaxResults caps limit (MAX_RESULTS): 0 is 500.
	MaxResults int
	// AuditIntervalMonths sets the default next audit date: 0 is 12.
	AuditIntervalMonths int
	// ShowArchived lists assets with archived status labels
	// (show_archived_in_list); Snipe-IT leaves them out by default.
	ShowArchived bool
	// Now is the server clock; nil is time.Now. Zone is APP_TIMEZONE; nil
	// is UTC.
	Now  func() time.Time
	Zone *time.Location
	// HangLimit bounds Hang and HangAfter; 0 is 30 s.
	HangLimit time.Duration
}

// Server is a loopback Snipe-IT. Methods are safe for concurrent use.
type Server struct {
	hs *httptest.Server
	o  Opts

	mu        sync.Mutex
	assets    map[int]*Asset
	nextID    int
	locations map[int]Location
	labels    map[int]StatusLabel
	audits    []Audit
	updates   []Update
	requests  []Request
	faults    map[string][]Fault
	token     string
	expired   bool
	down      bool
	window    map[string]*window
	done      chan struct{}
}

type window struct {
	start time.Time
	hits  int
}

// New starts a server.
func New(o Opts) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Zone == nil {
		o.Zone = time.UTC
	}
	if o.ThrottlePerMinute == 0 {
		o.ThrottlePerMinute = 120
	}
	if o.MaxResults <= 0 {
		o.MaxResults = 500
	}
	if o.AuditIntervalMonths == 0 {
		o.AuditIntervalMonths = 12
	}
	if o.HangLimit <= 0 {
		o.HangLimit = 30 * time.Second
	}
	if o.StatusLabels == nil {
		o.StatusLabels = DefaultStatusLabels
	}
	s := &Server{o: o, assets: map[int]*Asset{}, locations: map[int]Location{}, labels: map[int]StatusLabel{},
		faults: map[string][]Fault{}, token: o.Token, window: map[string]*window{}, done: make(chan struct{})}
	for _, l := range o.Locations {
		s.locations[l.ID] = l
	}
	for _, l := range o.StatusLabels {
		s.labels[l.ID] = l
	}
	for _, a := range o.Assets {
		s.PutAsset(a)
	}
	s.hs = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Start is New for tests: the server is closed at cleanup.
func Start(t testing.TB, o Opts) *Server {
	t.Helper()
	s := New(o)
	t.Cleanup(s.Close)
	return s
}

// URL is the server's base URL (without /api/v1).
func (s *Server) URL() string { return s.hs.URL }

// Close shuts the server down, releasing held requests.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	s.mu.Unlock()
	s.hs.CloseClientConnections()
	s.hs.Close()
}

// PutAsset adds or replaces an asset and returns its id.
func (s *Server) PutAsset(a Asset) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.ID == 0 {
		s.nextID++
		a.ID = s.nextID
	}
	if a.ID > s.nextID {
		s.nextID = a.ID
	}
	if a.StatusID == 0 {
		a.StatusID = 1
	}
	cp := a
	s.assets[a.ID] = &cp
	return a.ID
}

// Asset returns an asset by id.
func (s *Server) Asset(id int) (Asset, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.assets[id]
	if !ok {
		return Asset{}, false
	}
	return *a, true
}

// Audits returns every audit so far, in order.
func (s *Server) Audits() []Audit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Audit(nil), s.audits...)
}

// AuditsPerTag counts audits per asset tag.
func (s *Server) AuditsPerTag() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]int{}
	for _, a := range s.audits {
		m[a.Tag]++
	}
	return m
}

// Updates returns every asset update so far, in order.
func (s *Server) Updates() []Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Update(nil), s.updates...)
}

// Requests returns every request so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Inject makes the next `times` requests for op suffer f. Ops: bytag,
// show, list, audit, update, location, or "*" for any request. Faults
// queue per op; "*" faults are taken first.
func (s *Server) Inject(op string, f Fault, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range times {
		s.faults[op] = append(s.faults[op], f)
	}
}

// Pending counts injected faults that have not fired.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, q := range s.faults {
		n += len(q)
	}
	return n
}

// ExpireToken makes the token fail from now on (401), as an expired or
// revoked personal access token does. SetToken installs a new valid one.
func (s *Server) ExpireToken() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expired = true
}

// SetToken makes t the valid token.
func (s *Server) SetToken(t string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token, s.expired = t, false
}

// SetDown makes every request have its connection reset (true) or be
// served again (false), for outage and soak tests.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

func (s *Server) takeFault(op string) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range []string{"*", op} {
		if q := s.faults[k]; len(q) > 0 {
			s.faults[k] = q[1:]
			return q[0]
		}
	}
	return 0
}

// rw records the status written.
type rw struct {
	http.ResponseWriter
	status int
}

func (w *rw) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (s *Server) serve(w0 http.ResponseWriter, r *http.Request) {
	w := &rw{ResponseWriter: w0}
	op, handler := s.route(r)
	// Recorded on arrival, so a test sees a request whose client gave up
	// before the handler returned.
	s.mu.Lock()
	n := len(s.requests)
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Op: op})
	down := s.down
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.requests[n].Status = w.status
		s.mu.Unlock()
	}()
	if down {
		reset(w)
		return
	}
	fault := s.takeFault(op)
	switch fault {
	case Reset:
		reset(w)
		return
	case Hang:
		s.hang(r)
		reset(w)
		return
	case InternalError:
		writeJSON(w, 500, map[string]any{"message": "Server Error"})
		return
	case Unavailable:
		w.Header().Set("Retry-After", "1")
		writeJSON(w, 503, map[string]any{"message": "Service Unavailable"})
		return
	case Throttled:
		w.Header().Set("Retry-After", "1")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(s.o.Now().Add(time.Second).Unix(), 10))
		writeJSON(w, http.StatusTooManyRequests, standard("error", nil, "Too Many Requests"))
		return
	case BadGateway:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(502)
		io.WriteString(w, "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n")
		return
	}
	// The 'api' middleware group: auth:api first, then throttle:api.
	if !s.authorized(w, r) {
		return
	}
	if !s.throttle(w, r) {
		return
	}
	status, body := handler(r)
	switch fault {
	case ResetAfter:
		reset(w)
		return
	case HangAfter:
		s.hang(r)
		reset(w)
		return
	}
	writeJSON(w, status, body)
}

func (s *Server) hang(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-s.done:
	case <-time.After(s.o.HangLimit):
	}
}

// reset closes the connection without a reply.
func reset(w http.ResponseWriter) {
	if rw, ok := w.(*rw); ok {
		w = rw.ResponseWriter
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("snipeittest: connection cannot be hijacked")
	}
	c, _, err := hj.Hijack()
	if err == nil {
		c.Close()
	}
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

// standard is Helper::formatStandardApiResponse.
func standard(status string, payload, messages any) map[string]any {
	return map[string]any{"status": status, "messages": messages, "payload": payload}
}

// authorized applies auth:api. Laravel answers JSON only when the client
// asks for it; otherwise it redirects to the login page.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	ok := !s.expired && s.token != "" && r.Header.Get("Authorization") == "Bearer "+s.token
	s.mu.Unlock()
	if ok {
		return true
	}
	if !expectsJSON(r) {
		w.Header().Set("Location", s.hs.URL+"/login")
		w.WriteHeader(http.StatusFound)
		return false
	}
	writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "Unauthorized or unauthenticated."})
	return false
}

func expectsJSON(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "/json") || strings.Contains(a, "+json") || r.Header.Get("X-Requested-With") == "XMLHttpRequest"
}

// throttle is Laravel's throttle:api: a fixed one-minute window per user,
// starting at the window's first request. Successful passes carry
// X-RateLimit-Limit and X-RateLimit-Remaining.
func (s *Server) throttle(w http.ResponseWriter, r *http.Request) bool {
	limit := s.o.ThrottlePerMinute
	if limit < 0 {
		return true
	}
	now := s.o.Now()
	key := r.Header.Get("Authorization")
	s.mu.Lock()
	win := s.window[key]
	if win == nil || now.Sub(win.start) >= time.Minute {
		win = &window{start: now}
		s.window[key] = win
	}
	over := win.hits >= limit
	if !over {
		win.hits++
	}
	hits, reset := win.hits, win.start.Add(time.Minute)
	s.mu.Unlock()
	if over {
		if s.o.ThrottleHeaders {
			secs := int((reset.Sub(now) + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
			w.Header().Set("X-RateLimit-Limit", strconv.Itoa(limit))
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		}
		writeJSON(w, http.StatusTooManyRequests, standard("error", nil, "Too many requests"))
		return false
	}
	w.Header().Set("X-RateLimit-Limit", strconv.Itoa(limit))
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(limit-hits))
	return true
}

type handler func(r *http.Request) (int, any)

// route maps a request to its operation, like routes/api.php.
func (s *Server) route(r *http.Request) (string, handler) {
	p, ok := strings.CutPrefix(r.URL.Path, "/api/v1/")
	if !ok {
		return "other", notFound
	}
	seg := strings.Split(p, "/")
	get, post := r.Method == http.MethodGet, r.Method == http.MethodPost
	switch {
	case seg[0] == "hardware" && len(seg) >= 3 && seg[1] == "bytag" && get:
		// bytag/{any} matches across slashes; the path is decoded.
		return "bytag", func(r *http.Request) (int, any) { return s.byTag(r, strings.Join(seg[2:], "/")) }
	case seg[0] == "hardware" && len(seg) == 1 && get:
		return "list", s.list
	case seg[0] == "hardware" && len(seg) == 2 && seg[1] == "audit" && post && s.o.Version.LegacyAudit():
		return "audit", func(r *http.Request) (int, any) { return s.audit(r, 0, "legacy") }
	case seg[0] == "hardware" && len(seg) == 3 && seg[2] == "audit" && post && s.o.Version.PerAssetAudit():
		id, err := strconv.Atoi(seg[1])
		if err != nil {
			return "audit", modelNotFound("Asset")
		}
		return "audit", func(r *http.Request) (int, any) { return s.audit(r, id, "asset") }
	case seg[0] == "hardware" && len(seg) == 2 && get:
		return "show", func(r *http.Request) (int, any) { return s.show(seg[1]) }
	case seg[0] == "hardware" && len(seg) == 2 && (r.Method == http.MethodPatch || r.Method == http.MethodPut):
		return "update", func(r *http.Request) (int, any) { return s.update(r, seg[1]) }
	case seg[0] == "locations" && len(seg) == 2 && get:
		return "location", func(r *http.Request) (int, any) { return s.location(seg[1]) }
	}
	return "other", notFound
}

func notFound(*http.Request) (int, any) {
	return http.StatusNotFound, standard("error", nil, "404 endpoint not found")
}

// modelNotFound is the exception handler's reply to a failed route model
// binding: HTTP 200.
func modelNotFound(model string) handler {
	return func(*http.Request) (int, any) { return 200, standard("error", nil, model+" not found") }
}

const doesNotExist = "Asset does not exist."

func (s *Server) byTag(r *http.Request, tag string) (int, any) {
	withTrashed := r.URL.Query().Get("deleted") == "true"
	s.mu.Lock()
	defer s.mu.Unlock()
	var found []*Asset
	for _, a := range s.sortedAssets() {
		// MySQL's default collation compares case-insensitively.
		if strings.EqualFold(a.Tag, tag) && (withTrashed || !a.Deleted) {
			found = append(found, a)
		}
	}
	switch {
	case len(found) == 0:
		return 200, standard("error", nil, doesNotExist)
	case len(found) == 1 && !withTrashed:
		return 200, s.transform(found[0])
	}
	rows := make([]any, len(found))
	for i, a := range found {
		rows[i] = s.transform(a)
	}
	return 200, map[string]any{"total": len(rows), "rows": rows}
}

func (s *Server) show(idText string) (int, any) {
	id, err := strconv.Atoi(idText)
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.assets[id]
	if err != nil || !ok {
		return 200, standard("error", nil, "Asset not found")
	}
	return 200, s.transform(a)
}

// list is AssetsController::index for the filters tally uses.
func (s *Server) list(r *http.Request) (int, any) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	var rows []*Asset
	for _, a := range s.sortedAssets() {
		if a.Deleted {
			continue
		}
		if v := q.Get("status_id"); v != "" && v != strconv.Itoa(a.StatusID) {
			continue
		}
		if q.Get("status_id") == "" && !s.o.ShowArchived && s.labels[a.StatusID].Type == "archived" {
			continue
		}
		if v := q.Get("category_id"); v != "" && v != strconv.Itoa(a.CategoryID) {
			continue
		}
		if v := q.Get("location_id"); v != "" && v != strconv.Itoa(a.LocationID) {
			continue
		}
		if to, typ := q.Get("assigned_to"), q.Get("assigned_type"); to != "" && typ != "" &&
			(to != strconv.Itoa(a.AssignedTo) || typ != className(a.AssignedType)) {
			continue
		}
		rows = append(rows, a)
	}
	// Sort: an allowed column, else created_at (here: id); desc unless asc.
	asc := q.Get("order") == "asc"
	by := q.Get("sort")
	less := func(x, y *Asset) bool {
		switch by {
		case "asset_tag":
			return x.Tag < y.Tag
		case "name":
			return x.Name < y.Name
		}
		return x.ID < y.ID
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if asc {
			return less(rows[i], rows[j])
		}
		return less(rows[j], rows[i])
	})
	total := len(rows)
	offset, _ := strconv.Atoi(q.Get("offset"))
	offset = min(max(offset, 0), total)
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit > s.o.MaxResults || limit < 0 {
		limit = s.o.MaxResults
	}
	end := min(offset+limit, total)
	out := make([]any, 0, end-offset)
	for _, a := range rows[offset:end] {
		out = append(out, s.transform(a))
	}
	return 200, map[string]any{"total": total, "rows": out}
}

// audit is AssetsController::audit: the {asset} route binds by id, and an
// asset_tag in the body (the legacy route) wins.
func (s *Server) audit(r *http.Request, id int, route string) (int, any) {
	in, err := input(r)
	if err != nil {
		return 422, standard("error", nil, "Invalid JSON")
	}
	now := s.o.Now().In(s.o.Zone)
	s.mu.Lock()
	defer s.mu.Unlock()
	var a *Asset
	if route == "asset" {
		a = s.assets[id]
		if a == nil || a.Deleted {
			return 200, standard("error", nil, "Asset not found")
		}
	}
	if tag := str(in["asset_tag"]); tag != "" {
		a = nil
		for _, x := range s.sortedAssets() {
			if strings.EqualFold(x.Tag, tag) && !x.Deleted {
				a = x
				break
			}
		}
	}
	if a == nil {
		return 200, standard("error", nil, doesNotExist)
	}
	next := addMonths(now, s.o.AuditIntervalMonths)
	if v := str(in["next_audit_date"]); v != "" {
		t, err := time.ParseInLocation(time.DateOnly, v, s.o.Zone)
		if err != nil {
			return 200, standard("error", nil, map[string][]string{"next_audit_date": {"The next audit date field must be a valid date."}})
		}
		next = t
	}
	locID := 0
	if v := in["location_id"]; v != nil && str(v) != "" {
		n, err := strconv.Atoi(str(v))
		if _, ok := s.locations[n]; err != nil || !ok {
			return 200, standard("error", nil, map[string][]string{"location_id": {"The selected location id is invalid."}})
		}
		locID = n
	}
	update := phpLooseOne(in["update_location"])
	if update {
		a.LocationID = locID
	}
	a.LastAuditDate = now
	a.NextAuditDate = next
	s.audits = append(s.audits, Audit{Seq: len(s.audits) + 1, AssetID: a.ID, Tag: a.Tag, Route: route,
		Note: str(in["note"]), LocationID: locID, UpdateLocation: update, At: now})
	return 200, standard("success", map[string]any{
		"id": a.ID, "asset_tag": a.Tag, "note": in["note"], "next_audit_date": dateObj(next, time.DateOnly),
	}, "Asset audit successfully logged.")
}

func (s *Server) update(r *http.Request, idText string) (int, any) {
	in, err := input(r)
	if err != nil {
		return 422, standard("error", nil, "Invalid JSON")
	}
	id, _ := strconv.Atoi(idText)
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.assets[id]
	if a == nil || a.Deleted {
		return 200, standard("error", nil, doesNotExist)
	}
	fields := map[string]any{}
	if v, ok := in["status_id"]; ok {
		n, err := strconv.Atoi(str(v))
		if _, known := s.labels[n]; err != nil || !known {
			return 200, standard("error", nil, map[string][]string{"status_id": {"The selected status id is invalid."}})
		}
		a.StatusID = n
		fields["status_id"] = n
	}
	if v, ok := in["name"]; ok {
		a.Name = str(v)
		fields["name"] = a.Name
	}
	s.updates = append(s.updates, Update{Seq: len(s.updates) + 1, AssetID: a.ID, Fields: fields})
	return 200, standard("success", s.transform(a), "Asset updated successfully.")
}

func (s *Server) location(idText string) (int, any) {
	id, _ := strconv.Atoi(idText)
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.locations[id]
	if !ok {
		return 200, standard("error", nil, "Location not found")
	}
	return 200, map[string]any{"id": l.ID, "name": e(l.Name)}
}

// input reads a JSON or form body, as Laravel's $request->input does.
func input(r *http.Request) (map[string]any, error) {
	in := map[string]any{}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return nil, err
		}
		if len(strings.TrimSpace(string(b))) == 0 {
			return in, nil
		}
		if err := json.Unmarshal(b, &in); err != nil {
			return nil, err
		}
		return in, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	for k, v := range r.Form {
		in[k] = v[0]
	}
	return in, nil
}

// str renders a request value as PHP would compare it.
func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return "1"
		}
		return ""
	}
	return fmt.Sprint(v)
}

// phpLooseOne is PHP's `$v == '1'`: true, 1, "1" (and "01", 1.0).
func phpLooseOne(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case float64:
		return x == 1
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return x == "1" || (err == nil && f == 1 && x != "")
	}
	return false
}

func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m+time.Month(n), d, 0, 0, 0, 0, t.Location())
}

func className(short string) string {
	switch short {
	case "asset":
		return `App\Models\Asset`
	case "location":
		return `App\Models\Location`
	case "user":
		return `App\Models\User`
	}
	return ""
}

// sortedAssets lists assets by id. Called with s.mu held.
func (s *Server) sortedAssets() []*Asset {
	out := make([]*Asset, 0, len(s.assets))
	for _, a := range s.assets {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// e is Laravel's e(): htmlspecialchars with ENT_QUOTES.
var e = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#039;").Replace

func dateObj(t time.Time, layout string) any {
	if t.IsZero() {
		return nil
	}
	key := "datetime"
	if layout == time.DateOnly {
		key = "date"
	}
	return map[string]string{key: t.Format(layout), "formatted": t.Format("Mon Jan 02, 2006 3:04PM")}
}

// transform is AssetsTransformer::transformAsset (the fields tally reads,
// and enough of the rest to look like it). Called with s.mu held.
func (s *Server) transform(a *Asset) map[string]any {
	label := s.labels[a.StatusID]
	meta := label.Type
	if a.AssignedTo != 0 {
		meta = "deployed"
	}
	m := map[string]any{
		"id": a.ID, "name": e(a.Name), "asset_tag": e(a.Tag), "serial": e(a.Serial),
		"model": named(0, a.Model), "model_number": nil, "byod": false, "requestable": false,
		"status_label": map[string]any{"id": label.ID, "name": e(label.Name), "status_type": label.Type, "status_meta": meta},
		"category":     named(a.CategoryID, a.Category),
		"location":     nil, "rtd_location": nil, "assigned_to": nil,
		"notes": nil, "order_number": nil, "company": nil, "image": nil,
		"last_audit_date": dateObj(a.LastAuditDate.In(s.o.Zone), time.DateTime),
		"next_audit_date": dateObj(a.NextAuditDate.In(s.o.Zone), time.DateOnly),
		"deleted_at":      nil, "purchase_cost": nil, "checkin_counter": 0, "checkout_counter": 0,
		"custom_fields":     map[string]any{},
		"available_actions": map[string]bool{"checkout": true, "checkin": true, "update": true, "audit": true, "delete": a.AssignedTo == 0},
	}
	if a.Deleted {
		m["deleted_at"] = dateObj(s.o.Now().In(s.o.Zone), time.DateTime)
	}
	if l, ok := s.locations[a.LocationID]; ok {
		m["location"] = map[string]any{"id": l.ID, "name": e(l.Name)}
	}
	if a.AssignedTo != 0 {
		name := ""
		switch a.AssignedType {
		case "asset":
			if t := s.assets[a.AssignedTo]; t != nil {
				name = t.Name
				if name == "" {
					name = t.Tag
				}
			}
		case "location":
			name = s.locations[a.AssignedTo].Name
		}
		m["assigned_to"] = map[string]any{"id": a.AssignedTo, "name": e(name), "type": a.AssignedType}
	}
	return m
}

func named(id int, name string) any {
	if name == "" {
		return nil
	}
	return map[string]any{"id": id, "name": e(name)}
}

// Path builds an /api/v1 URL path (for tests that call the server
// directly).
func (s *Server) Path(p string, q url.Values) string {
	u := s.hs.URL + "/api/v1" + p
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}
