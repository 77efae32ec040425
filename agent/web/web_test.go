package web

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/store"
	"github.com/tally-inventory/tally/drivers"
)

const (
	xssTitle   = `<script>alert("title")</script>`
	formula    = `=cmd|' /C calc'!A0`
	secretTok  = "sekrit-token-4242"
	xssBarcode = `X"><SCRIPT>1`
)

// fixture: a fiction shelf in order, a book from elsewhere, a lost book, a
// cart of three devices and one from another cart, and items whose title
// or barcode hold markup or a spreadsheet formula.
func fixture() []catalog.Item {
	return []catalog.Item{
		{Barcode: "F1", CallNumber: "FIC ADA", Library: "MAIN", Location: "Fiction", Title: "Ant Hill"},
		{Barcode: "F2", CallNumber: "FIC BAK", Library: "MAIN", Location: "Fiction", Title: "Baker Street"},
		{Barcode: "F3", CallNumber: "FIC CAR", Library: "MAIN", Location: "Fiction", Title: xssTitle, Price: 1200},
		{Barcode: "F4", CallNumber: "FIC DAH", Library: "MAIN", Location: "Fiction", Title: formula, Price: 999},
		{Barcode: "F5", CallNumber: "FIC EVA", Library: "MAIN", Location: "Fiction", Title: "Evening"},
		{Barcode: "F6", CallNumber: "FIC FOX", Library: "MAIN", Location: "Fiction", Title: "Fox Den", Status: catalog.StatusLost},
		{Barcode: xssBarcode, CallNumber: "FIC ZZZ", Library: "MAIN", Location: "Fiction", Title: "Odd barcode"},
		{Barcode: "N1", CallNumber: "599.75 ROW", Library: "MAIN", Location: "Nonfiction", Title: "Wolves"},
		{Barcode: "C1", Kind: catalog.KindEquipment, Container: "CART-01", AssetTag: "C1", Title: "Chromebook 1", Location: "Tech"},
		{Barcode: "C2", Kind: catalog.KindEquipment, Container: "CART-01", AssetTag: "C2", Title: "Chromebook 2", Location: "Tech"},
		{Barcode: "C3", Kind: catalog.KindEquipment, Container: "CART-01", AssetTag: "C3", Title: "Chromebook 3", Location: "Tech"},
		{Barcode: "D1", Kind: catalog.KindEquipment, Container: "CART-02", AssetTag: "D1", Title: "Hotspot 1", Location: "Tech"},
	}
}

type fixtureEnv struct {
	b    *testBackend
	hub  *engine.Hub
	s    *Server
	inv  int64
	sess int64 // shelf session
	cart int64 // cart session
}

func newEnv(t *testing.T, o Opts) *fixtureEnv {
	t.Helper()
	return newEnvWith(t, fixture(), o)
}

// newEnvWith is newEnv on a catalog of items.
func newEnvWith(t *testing.T, items []catalog.Item, o Opts) *fixtureEnv {
	t.Helper()
	b := newBackend(t, items)
	hub := engine.NewHub()
	b.OnResult = hub.Publish
	s, err := New(b, hub, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ctx := context.Background()
	inv, err := b.DB.CreateInventory(ctx, "Fiction 2027", catalog.Scope{Locations: []string{"Fiction", "Tech"}}, reconcile.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := b.DB.StartSession(ctx, inv.ID, "shelf", "", "ana", "")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := b.DB.StartSession(ctx, inv.ID, "cart", "CART-01", "tech", "")
	if err != nil {
		t.Fatal(err)
	}
	return &fixtureEnv{b: b, hub: hub, s: s, inv: inv.ID, sess: ss.ID, cart: cs.ID}
}

func (e *fixtureEnv) read(t *testing.T, sid int64, code string) *engine.Result {
	t.Helper()
	r, err := e.b.Submit(context.Background(), sid, drivers.Read{Device: "test", Kind: drivers.KindScanner, Code: code})
	if err != nil {
		t.Fatalf("read %s: %v", code, err)
	}
	return r
}

// client is a browser stand-in: it keeps the session cookie and the CSRF
// token, and talks from loopback.
type client struct {
	t    *testing.T
	h    http.Handler
	sid  string
	csrf string
	host string
	ip   string
}

func newClient(t *testing.T, h http.Handler) *client {
	c := &client{t: t, h: h, host: "127.0.0.1:8080", ip: "127.0.0.1:50000"}
	return c
}

func (c *client) do(req *http.Request) *httptest.ResponseRecorder {
	req.RemoteAddr = c.ip
	req.Host = c.host
	if c.sid != "" {
		req.AddCookie(&http.Cookie{Name: sidCookie, Value: c.sid})
	}
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, req)
	for _, ck := range w.Result().Cookies() {
		if ck.Name == sidCookie {
			c.sid = ck.Value
		}
	}
	return w
}

func (c *client) get(path string) *httptest.ResponseRecorder {
	return c.do(httptest.NewRequest("GET", path, nil))
}

// token fetches the CSRF token the way a script would.
func (c *client) token() string {
	w := c.get("/api/csrf")
	var v map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil || v["csrf"] == "" {
		c.t.Fatalf("GET /api/csrf: %d %s", w.Code, w.Body)
	}
	c.csrf = v["csrf"]
	return c.csrf
}

func (c *client) postForm(path string, f url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", path, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func (c *client) postJSON(path string, body any, csrf string) *httptest.ResponseRecorder {
	b, _ := json.Marshal(body)
	req := httptest.NewRequest("POST", path, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	if csrf != "" {
		req.Header.Set(csrfHeader, csrf)
	}
	return c.do(req)
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func TestEveryPageRenders(t *testing.T) {
	e := newEnv(t, Opts{Token: secretTok})
	for _, code := range []string{"F1", "F2", "F4", "F3", "F5", "N1", "F6", "F2", "30234000517862", formula, "<b>bold</b>"} {
		e.read(t, e.sess, code)
	}
	for _, code := range []string{"C1", "D1"} {
		e.read(t, e.cart, code)
	}
	// A dead letter for the sync page.
	dbExec(t, e.b, "UPDATE outbox SET state = 'dead', last_error = ? WHERE id = (SELECT min(id) FROM outbox)", "<i>upstream said no</i>")
	c := newClient(t, e.s)
	// Log in (a token is set, so loopback asks too).
	c.get("/login")
	if w := c.postForm("/login", form("token", secretTok, "csrf", c.token(), "next", "/")); w.Code != http.StatusSeeOther {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	pages := []struct {
		path string
		want []string
	}{
		{"/", []string{"Fiction 2027", "Session 1", "desk-scanner"}},
		{"/inventories/new", []string{"Shelving locations", "Fiction", "CART-01", "checked out"}},
		{"/inventories/1", []string{"Start a session", "Review and finalize", "CART-01"}},
		{"/sessions/1", []string{`id="last"`, `aria-live="assertive"`, "Recent reads", "Not a valid item barcode", `id="code"`, "Undo last read"}},
		{"/sessions/2", []string{"Cart CART-01", `data-barcode="C1"`, "From other carts", "belongs in", "CART-02", "1 of 3 devices present"}},
		{"/inventories/1/finalize", []string{"Sent upstream", "Finalize", "marked missing"}},
		{"/inventories/1/reports", []string{"Progress over time", "<svg class=\"linechart\"", "Outcomes by location", "Missing"}},
		{"/devices", []string{"desk-scanner", "no reply to inventory command", "Bind"}},
		{"/sync", []string{"Dead letters", "Retry", "&lt;i&gt;upstream said no&lt;/i&gt;"}},
		{"/api/inventories", []string{`"Fiction 2027"`}},
		{"/api/inventories/1", []string{`"sessions"`, `"progress"`}},
		{"/api/sessions/1", []string{`"counts"`, `"missing"`}},
		{"/api/sessions/2", []string{`"cart"`, `"present"`}},
		{"/api/inventories/1/missing", []string{`"barcode"`}},
		{"/api/inventories/1/reports", []string{`"missing"`}},
		{"/api/inventories/1/reports/missing", []string{`"rows"`}},
		{"/api/inventories/1/finalize", []string{`"dry_run": true`}},
		{"/api/devices", []string{"desk-scanner"}},
		{"/api/sync", []string{`"dead"`}},
		{"/static/app.js", []string{"EventSource"}},
		{"/static/app.css", []string{"@media print"}},
	}
	for _, n := range engine.ReportNames {
		pages = append(pages, struct {
			path string
			want []string
		}{"/inventories/1/reports/" + n, []string{"Download CSV", "Print"}})
	}
	for _, p := range pages {
		w := c.get(p.path)
		body := w.Body.String()
		if w.Code != http.StatusOK {
			t.Errorf("GET %s: %d\n%s", p.path, w.Code, body)
			continue
		}
		for _, s := range p.want {
			if !strings.Contains(body, s) {
				t.Errorf("GET %s: no %q in the page", p.path, s)
			}
		}
		if strings.Contains(body, secretTok) {
			t.Errorf("GET %s: the login token is in the page", p.path)
		}
		h := w.Header()
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("GET %s: CSP %q", p.path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s: missing security headers %v", p.path, h)
		}
		if strings.HasPrefix(h.Get("Content-Type"), "text/html") && (strings.Contains(body, "<script>") || strings.Contains(body, " style=")) {
			t.Errorf("GET %s: inline script or style in the page", p.path)
		}
	}
	if w := c.get("/inventories/1/reports/nope"); w.Code != http.StatusNotFound {
		t.Errorf("unknown report: %d", w.Code)
	}
	if w := c.get("/sessions/99"); w.Code != http.StatusNotFound {
		t.Errorf("unknown session: %d", w.Code)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, Opts{})
	c := newClient(t, e.s)
	c.get("/")
	good := c.token()
	reads := func() int64 {
		n, err := e.b.DB.CountReads(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	cases := []struct {
		name string
		do   func() *httptest.ResponseRecorder
		want int
	}{
		{"form without token", func() *httptest.ResponseRecorder { return c.postForm("/sessions/1/reads", form("code", "F1")) }, 403},
		{"form with wrong token", func() *httptest.ResponseRecorder {
			return c.postForm("/sessions/1/reads", form("code", "F1", "csrf", good[:len(good)-2]+"xx"))
		}, 403},
		{"api without header", func() *httptest.ResponseRecorder { return c.postJSON("/api/sessions/1/reads", ReadRequest{"F1"}, "") }, 403},
		{"token of another session", func() *httptest.ResponseRecorder {
			return c.postJSON("/api/sessions/1/reads", ReadRequest{"F1"}, e.s.auth.csrf("someone-else"))
		}, 403},
		{"cross-site even with token", func() *httptest.ResponseRecorder {
			req := httptest.NewRequest("POST", "/api/sessions/1/reads", strings.NewReader(`{"code":"F1"}`))
			req.Header.Set(csrfHeader, good)
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			return c.do(req)
		}, 403},
		{"undo without token", func() *httptest.ResponseRecorder { return c.postForm("/sessions/1/undo", nil) }, 403},
		{"finalize without token", func() *httptest.ResponseRecorder {
			return c.postForm("/inventories/1/finalize", form("confirm", "yes"))
		}, 403},
		{"retry without token", func() *httptest.ResponseRecorder { return c.postForm("/sync/retry", nil) }, 403},
		{"bind without token", func() *httptest.ResponseRecorder {
			return c.postForm("/devices/bind", form("device", "desk-scanner", "session", "1"))
		}, 403},
		{"create inventory without token", func() *httptest.ResponseRecorder {
			return c.postForm("/inventories", form("name", "x"))
		}, 403},
	}
	for _, tc := range cases {
		if w := tc.do(); w.Code != tc.want {
			t.Errorf("%s: %d, want %d: %s", tc.name, w.Code, tc.want, w.Body)
		}
	}
	if n := reads(); n != 0 {
		t.Fatalf("%d reads got through without a valid token", n)
	}
	if inv, _ := e.b.DB.Inventory(context.Background(), 1); !inv.Open() {
		t.Fatal("finalized without a token")
	}
	// With the token everything works.
	if w := c.postForm("/sessions/1/reads", form("code", "F1", "csrf", good)); w.Code != http.StatusSeeOther {
		t.Fatalf("form read: %d %s", w.Code, w.Body)
	}
	if w := c.postJSON("/api/sessions/1/reads", ReadRequest{"F2"}, good); w.Code != http.StatusCreated {
		t.Fatalf("api read: %d %s", w.Code, w.Body)
	}
	if n := reads(); n != 2 {
		t.Fatalf("%d reads, want 2", n)
	}
	if w := c.postForm("/devices/bind", form("device", "desk-scanner", "session", "1", "csrf", good)); w.Code != http.StatusSeeOther {
		t.Fatalf("bind: %d %s", w.Code, w.Body)
	}
	if d := e.b.Devices()[0]; d.SessionID != 1 {
		t.Fatalf("bind did not take: %+v", d)
	}
	// A GET never changes anything.
	if w := c.get("/sessions/1/undo"); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET undo: %d", w.Code)
	}
}

func TestLoginWhenNotLoopback(t *testing.T) {
	if _, err := New(newBackend(t, fixture()), nil, Opts{Addr: "0.0.0.0:8080"}); err == nil {
		t.Fatal("New on 0.0.0.0 without a token: no error")
	}
	e := newEnv(t, Opts{Addr: ":8080", Token: secretTok})
	if !e.s.LoginRequired() {
		t.Fatal("login not required on :8080")
	}
	c := newClient(t, e.s)
	c.ip, c.host = "192.168.1.20:40000", "tally.school.example:8080"
	w := c.get("/sessions/1")
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/login?next=") {
		t.Fatalf("page without login: %d %v", w.Code, w.Header())
	}
	if w := c.get("/api/inventories"); w.Code != http.StatusUnauthorized {
		t.Fatalf("api without login: %d", w.Code)
	}
	if w := c.get("/sessions/1/events"); w.Code == http.StatusOK {
		t.Fatal("event stream without login")
	}
	if w := c.get("/static/app.css"); w.Code != http.StatusOK {
		t.Fatalf("static without login: %d", w.Code)
	}
	w = c.get("/login?next=//evil.example/")
	if w.Code != 200 || strings.Contains(w.Body.String(), "evil.example") || strings.Contains(w.Body.String(), secretTok) {
		t.Fatalf("login page: %d", w.Code)
	}
	tok := c.token()
	before := c.sid
	if w := c.postForm("/login", form("token", "wrong", "csrf", tok)); w.Code != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", w.Code)
	}
	if w := c.postForm("/login", form("token", secretTok, "next", "/sessions/1")); w.Code != http.StatusForbidden {
		t.Fatalf("login without CSRF token: %d", w.Code)
	}
	if w := c.postForm("/login", form("token", secretTok, "csrf", tok, "next", "/sessions/1")); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/sessions/1" {
		t.Fatalf("login: %d %v", w.Code, w.Header())
	}
	if c.sid == before {
		t.Fatal("session id not rotated at login")
	}
	if w := c.get("/sessions/1"); w.Code != http.StatusOK {
		t.Fatalf("after login: %d", w.Code)
	}
	// The old CSRF token belongs to the old session.
	if w := c.postJSON("/api/sessions/1/reads", ReadRequest{"F1"}, tok); w.Code != http.StatusForbidden {
		t.Fatalf("stale token: %d", w.Code)
	}
	if w := c.postJSON("/api/sessions/1/reads", ReadRequest{"F1"}, c.token()); w.Code != http.StatusCreated {
		t.Fatalf("read after login: %d %s", w.Code, w.Body)
	}
	// Logout ends it.
	if w := c.postForm("/logout", form("csrf", c.csrf)); w.Code != http.StatusSeeOther {
		t.Fatalf("logout: %d", w.Code)
	}
	if w := c.get("/sessions/1"); w.Code != http.StatusSeeOther {
		t.Fatalf("after logout: %d", w.Code)
	}

	// Scripts use the bearer token; a wrong one is refused.
	s := newClient(t, e.s)
	s.ip, s.host = "10.0.0.5:1234", "tally:8080"
	req := httptest.NewRequest("POST", "/api/sessions/1/reads", strings.NewReader(`{"code":"F2"}`))
	req.Header.Set("Authorization", "Bearer "+secretTok)
	if w := s.do(req); w.Code != http.StatusCreated {
		t.Fatalf("bearer: %d %s", w.Code, w.Body)
	}
	req = httptest.NewRequest("GET", "/api/inventories", nil)
	req.Header.Set("Authorization", "Bearer nope")
	if w := s.do(req); w.Code != http.StatusUnauthorized {
		t.Fatalf("bad bearer: %d", w.Code)
	}

}

func TestLoopbackOnly(t *testing.T) {
	e := newEnv(t, Opts{})
	if e.s.LoginRequired() {
		t.Fatal("login required on loopback without a token")
	}
	for _, tc := range []struct{ ip, host string }{
		{"192.168.1.9:1000", "127.0.0.1:8080"},  // another machine
		{"127.0.0.1:1000", "evil.example:8080"}, // DNS rebinding
	} {
		c := newClient(t, e.s)
		c.ip, c.host = tc.ip, tc.host
		if w := c.get("/"); w.Code != http.StatusForbidden {
			t.Errorf("%s / Host %s: %d", tc.ip, tc.host, w.Code)
		}
	}
	c := newClient(t, e.s)
	c.host = "localhost:8080"
	if w := c.get("/"); w.Code != http.StatusOK {
		t.Errorf("localhost: %d", w.Code)
	}
	// Serve refuses a listener that is not loopback.
	ln := fakeListener{&net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 80}}
	if err := e.s.Serve(context.Background(), ln); err == nil || !strings.Contains(err.Error(), "not loopback") {
		t.Errorf("Serve on %s: %v", ln.Addr(), err)
	}
}

func TestXSSAndFormulas(t *testing.T) {
	e := newEnv(t, Opts{})
	e.read(t, e.sess, "F3")                           // title with markup
	e.read(t, e.sess, xssBarcode)                     // barcode with markup
	e.read(t, e.sess, `<img src=x onerror=alert(1)>`) // typed markup: unknown
	e.read(t, e.sess, formula)                        // typed formula
	c := newClient(t, e.s)
	for _, p := range []string{"/sessions/1", "/inventories/1/reports/missing", "/inventories/1/reports/unknown",
		"/inventories/1/reports/invalid", "/inventories/1/finalize", "/inventories/1/reports"} {
		w := c.get(p)
		body := w.Body.String()
		if w.Code != 200 {
			t.Fatalf("GET %s: %d %s", p, w.Code, body)
		}
		for _, bad := range []string{`<script>alert`, `<SCRIPT>1`, `<img src=x`} {
			if strings.Contains(body, bad) {
				t.Errorf("GET %s: unescaped %q", p, bad)
			}
		}
	}
	scan := c.get("/sessions/1").Body.String()
	for _, want := range []string{`&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;`, `X&#34;&gt;&lt;SCRIPT&gt;1`} {
		if !strings.Contains(scan, want) {
			t.Errorf("scan screen: %q not shown as text", want)
		}
	}
	// The JSON the live screen consumes carries the text as data.
	var v SessionView
	if err := json.Unmarshal(c.get("/api/sessions/1").Body.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(v.Feed, func(r ReadView) bool { return r.Title == xssTitle }) {
		t.Errorf("feed lost the title %q: %+v", xssTitle, v.Feed)
	}
	// CSV: formulas never reach a spreadsheet as formulas.
	for _, p := range []string{"/inventories/1/reports/missing?format=csv", "/inventories/1/reports/invalid?format=csv",
		"/inventories/1/reports/unknown?format=csv", "/api/inventories/1/reports/all?format=csv"} {
		w := c.get(p)
		if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") {
			t.Fatalf("GET %s: %d %v", p, w.Code, w.Header())
		}
		if p == "/inventories/1/reports/missing?format=csv" && !strings.Contains(w.Header().Get("Content-Disposition"), "attachment") {
			t.Errorf("CSV is not a download: %v", w.Header())
		}
		r := csv.NewReader(strings.NewReader(w.Body.String()))
		r.FieldsPerRecord = -1
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		found := false
		for _, rec := range recs {
			for _, cell := range rec {
				if cell == "" {
					continue
				}
				if strings.ContainsRune("=+-@", rune(cell[0])) {
					t.Errorf("%s: live formula cell %q", p, cell)
				}
				if strings.EqualFold(cell, "'"+formula) {
					found = true
				}
			}
		}
		if !found && !strings.Contains(p, "invalid") {
			t.Errorf("%s: neutralized formula cell not found:\n%s", p, w.Body)
		}
	}
}

func TestScopeForm(t *testing.T) {
	e := newEnv(t, Opts{})
	c := newClient(t, e.s)
	tok := c.token()
	w := c.postForm("/inventories", form("csrf", tok, "name", "Nonfiction 500s", "location", "Nonfiction", "call_from", "500",
		"call_to", "599", "skip_status", "checked_out", "shelf_order", "on", "missing_lost_value", "0", "kind", "book"))
	if w.Code != http.StatusSeeOther {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	inv, err := e.b.DB.Inventory(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	want := catalog.Scope{Locations: []string{"Nonfiction"}, CallFrom: "500", CallTo: "599", Kinds: []catalog.Kind{"book"},
		SkipStatuses: []catalog.Status{catalog.StatusCheckedOut}}
	if got, _ := json.Marshal(inv.Scope); string(got) != string(must(json.Marshal(want))) {
		t.Errorf("scope %s, want %s", got, must(json.Marshal(want)))
	}
	if inv.Policy != (reconcile.Policy{ShelfOrder: true}) {
		t.Errorf("policy %+v", inv.Policy)
	}
	// Mistakes come back on the form, with what was typed kept.
	w = c.postForm("/inventories", form("csrf", tok, "name", "Backwards", "call_from", "900", "call_to", "100"))
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "backwards") || !strings.Contains(w.Body.String(), `value="Backwards"`) {
		t.Errorf("bad range: %d %s", w.Code, w.Body)
	}
	w = c.postForm("/inventories", form("csrf", tok, "name", "Nonfiction 500s"))
	if w.Code != http.StatusConflict {
		t.Errorf("duplicate name: %d", w.Code)
	}
	// JSON API: strict.
	if w := c.postJSON("/api/inventories", map[string]any{"name": "x", "scopes": 1}, tok); w.Code != http.StatusBadRequest {
		t.Errorf("unknown field: %d %s", w.Code, w.Body)
	}
	if w := c.postJSON("/api/inventories", NewInventory{Name: "Carts", Scope: catalog.Scope{Kinds: []catalog.Kind{"equipment"}}}, tok); w.Code != http.StatusCreated {
		t.Errorf("api create: %d %s", w.Code, w.Body)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestSessionLifecycleAndFinalize(t *testing.T) {
	e := newEnv(t, Opts{})
	c := newClient(t, e.s)
	tok := c.token()
	w := c.postForm("/inventories/1/sessions", form("csrf", tok, "kind", "cart", "cart", "CART-01", "operator", "sam", "device", "desk-scanner"))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/sessions/3" {
		t.Fatalf("start: %d %v %s", w.Code, w.Header(), w.Body)
	}
	if d := e.b.Devices()[0]; d.SessionID != 3 {
		t.Errorf("device not bound to the new session: %+v", d)
	}
	if w := c.postForm("/sessions/3/state", form("csrf", tok, "state", "paused")); w.Code != http.StatusSeeOther {
		t.Fatalf("pause: %d", w.Code)
	}
	if w := c.postJSON("/api/sessions/3/reads", ReadRequest{"C1"}, tok); w.Code != http.StatusConflict {
		t.Errorf("read into a paused session: %d %s", w.Code, w.Body)
	}
	if w := c.postJSON("/api/sessions/3/state", map[string]string{"state": "open"}, tok); w.Code != http.StatusOK {
		t.Fatalf("resume: %d %s", w.Code, w.Body)
	}
	if w := c.postJSON("/api/sessions/3/reads", ReadRequest{"C1"}, tok); w.Code != http.StatusCreated {
		t.Errorf("read after resume: %d %s", w.Code, w.Body)
	}
	if w := c.postJSON("/api/sessions/3/reads", ReadRequest{"  "}, tok); w.Code != http.StatusBadRequest {
		t.Errorf("empty code: %d", w.Code)
	}
	if w := c.postJSON("/api/sessions/3/reads", ReadRequest{"A\x07B"}, tok); w.Code != http.StatusBadRequest {
		t.Errorf("control character: %d", w.Code)
	}
	// Finalize: the confirmation is a dry run and changes nothing.
	w = c.get("/inventories/1/finalize")
	if !strings.Contains(w.Body.String(), "Nothing has been sent yet") {
		t.Fatalf("confirmation: %s", w.Body)
	}
	if inv, _ := e.b.DB.Inventory(context.Background(), 1); !inv.Open() {
		t.Fatal("the confirmation page finalized")
	}
	if w := c.postForm("/inventories/1/finalize", form("csrf", tok)); w.Code != http.StatusBadRequest {
		t.Fatalf("finalize unconfirmed: %d", w.Code)
	}
	if w := c.postForm("/inventories/1/finalize", form("csrf", tok, "confirm", "yes")); w.Code != http.StatusSeeOther {
		t.Fatalf("finalize: %d %s", w.Code, w.Body)
	}
	if inv, _ := e.b.DB.Inventory(context.Background(), 1); inv.Open() {
		t.Fatal("not finalized")
	}
	if w := c.postJSON("/api/inventories/1/finalize", map[string]bool{"confirm": true}, tok); w.Code != http.StatusConflict {
		t.Errorf("finalize twice: %d %s", w.Code, w.Body)
	}
	if body := c.get("/sessions/3").Body.String(); !strings.Contains(body, "reads are not taken") || !strings.Contains(body, `disabled`) {
		t.Errorf("ended session screen still takes reads")
	}
}

func TestUndoAndRetry(t *testing.T) {
	e := newEnv(t, Opts{})
	c := newClient(t, e.s)
	tok := c.token()
	e.read(t, e.sess, "F1")
	e.read(t, e.sess, "F2")
	if w := c.postJSON("/api/sessions/1/undo", nil, tok); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"F2"`) {
		t.Fatalf("undo: %d %s", w.Code, w.Body)
	}
	var v SessionView
	json.Unmarshal(c.get("/api/sessions/1").Body.Bytes(), &v)
	if v.Last == nil || v.Last.Barcode != "F1" || len(v.Feed) != 1 || v.Progress.Seen != 1 {
		t.Fatalf("after undo: last %+v feed %d progress %+v", v.Last, len(v.Feed), v.Progress)
	}
	// F2 counts again as a first sighting.
	if r := e.read(t, e.sess, "F2"); r.Outcome != reconcile.OK {
		t.Errorf("F2 after undo: %s", r.Outcome)
	}
	// Dead letters go back to the queue.
	dbExec(t, e.b, "UPDATE outbox SET state = 'dead'")
	st, _ := e.b.DB.OutboxStatus(context.Background())
	if st.Dead == 0 {
		t.Fatal("no dead letters to retry")
	}
	dead, _ := e.b.DB.OutboxRows(context.Background(), "dead", 10)
	if w := c.postForm("/sync/retry", form("csrf", tok, "id", itoa(dead[0].ID))); w.Code != http.StatusSeeOther || !strings.HasSuffix(w.Header().Get("Location"), "retried=1") {
		t.Fatalf("retry one: %d %v", w.Code, w.Header())
	}
	if w := c.postJSON("/api/sync/retry", map[string]any{}, tok); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"retried": `+itoa(int64(st.Dead-1))) {
		t.Fatalf("retry all: %d %s", w.Code, w.Body)
	}
}

// dbExec changes the database behind the engine's back, through its writer.
func dbExec(t *testing.T, b *testBackend, q string, args ...any) {
	t.Helper()
	err := b.Writer().Do(context.Background(), store.Func(func(tx *sql.Tx) error {
		_, err := tx.Exec(q, args...)
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

type fakeListener struct{ addr net.Addr }

func (l fakeListener) Accept() (net.Conn, error) { return nil, net.ErrClosed }
func (l fakeListener) Close() error              { return nil }
func (l fakeListener) Addr() net.Addr            { return l.addr }

// TestLiveAgreesWithReload drives reads with a shelf-order mistake and
// checks that the state a live stream builds equals a fresh load.
func TestLiveAgreesWithReload(t *testing.T) {
	e := newEnv(t, Opts{})
	ctx := context.Background()
	t0, _, err := e.s.load(ctx, e.sess)
	if err != nil {
		t.Fatal(err)
	}
	sub := e.hub.Subscribe(e.sess, 100)
	defer sub.Close()
	var last ReadEvent
	for _, code := range []string{"F1", "F2", "F5", "F3", "F4", "F6", "N1", "F1", "NOPE-1"} {
		e.read(t, e.sess, code)
		last = t0.apply(<-sub.C)
	}
	_, v, err := e.s.load(ctx, e.sess)
	if err != nil {
		t.Fatal(err)
	}
	live := t0.view()
	if !slices.Equal(live.Counts, v.Counts) {
		t.Errorf("counts live %v, reloaded %v", live.Counts, v.Counts)
	}
	if !slices.Equal(last.Counts, v.Counts) {
		t.Errorf("last event counts %v, reloaded %v", last.Counts, v.Counts)
	}
	if len(live.Feed) != len(v.Feed) {
		t.Fatalf("feed live %d, reloaded %d", len(live.Feed), len(v.Feed))
	}
	for i := range v.Feed {
		// A live headline says what was known then; a reload knows the
		// whole shelf, so only the outcome must agree for retro flags.
		if live.Feed[i].Outcome != v.Feed[i].Outcome || v.Feed[i].Outcome != "out_of_order" && live.Feed[i].Headline != v.Feed[i].Headline {
			t.Errorf("feed[%d] live %s %q, reloaded %s %q", i, live.Feed[i].Outcome, live.Feed[i].Headline, v.Feed[i].Outcome, v.Feed[i].Headline)
		}
	}
	if last.Progress == nil || *last.Progress != v.Progress {
		t.Errorf("progress live %+v, reloaded %+v", last.Progress, v.Progress)
	}
	// F5 was read before F3 and F4: it is the one misshelved, between FIC DAH and FIC FOX.
	var f5 *ReadView
	for i := range v.Feed {
		if v.Feed[i].Barcode == "F5" {
			f5 = &v.Feed[i]
		}
	}
	if f5 == nil || f5.Outcome != "out_of_order" || f5.Headline != "Misshelved — belongs between FIC DAH and FIC FOX" {
		t.Errorf("F5: %+v", f5)
	}
	if n := countOf(v.Counts, "out_of_order"); n != 1 {
		t.Errorf("misshelved count %d, want 1", n)
	}
	// The missing list of the stretch walked is in shelf order.
	if v.Missing == nil || v.Missing.Total != 0 {
		t.Errorf("missing in the walked stretch: %+v", v.Missing)
	}
}

func countOf(cs []Count, o string) int {
	for _, c := range cs {
		if c.Outcome == o {
			return c.N
		}
	}
	return -1
}

func TestHeadlines(t *testing.T) {
	for _, tc := range []struct {
		o    reconcile.Outcome
		d    reconcile.Detail
		want string
	}{
		{reconcile.OutOfOrder, reconcile.Detail{Prev: "A", PrevCall: "599.75 ROW", Next: "B", NextCall: "599.8 SMI"}, "Misshelved — belongs between 599.75 ROW and 599.8 SMI"},
		{reconcile.OutOfOrder, reconcile.Detail{Next: "B", NextCall: "599.8 SMI"}, "Misshelved — belongs before 599.8 SMI (start of the run)"},
		{reconcile.OutOfOrder, reconcile.Detail{Prev: "A"}, "Misshelved — belongs after A (end of the run)"},
		{reconcile.WrongLocation, reconcile.Detail{Home: "MAIN / Nonfiction / 599.75 ROW"}, "Belongs somewhere else — MAIN / Nonfiction / 599.75 ROW"},
		{reconcile.Foreign, reconcile.Detail{Cart: "CART-02"}, "Other cart — belongs in CART-02"},
		{reconcile.Invalid, reconcile.Detail{}, "Not a valid item barcode — rescan it or set it aside"},
		{reconcile.OK, reconcile.Detail{}, "On the shelf where it belongs"},
	} {
		if got := headline(tc.o, tc.d); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.o, got, tc.want)
		}
	}
	// Every outcome has its own word, icon and colour.
	css := string(must(assets.ReadFile("assets/static/app.css")))
	layout := string(must(assets.ReadFile("assets/templates/layout.html")))
	words := map[string]reconcile.Outcome{}
	for _, o := range reconcile.Outcomes {
		w := label(string(o))
		if prev, dup := words[w]; dup {
			t.Errorf("%s and %s share the word %q", prev, o, w)
		}
		words[w] = o
		if !strings.Contains(layout, `<symbol id="o-`+string(o)+`"`) {
			t.Errorf("no icon for %s", o)
		}
		if !strings.Contains(css, ".o-"+string(o)) {
			t.Errorf("no colour for %s", o)
		}
	}
}

// TestEventStream reads the live stream over real HTTP: the committed read
// arrives as a "read" event with the words, counts and progress.
func TestEventStream(t *testing.T) {
	e := newEnv(t, Opts{})
	srv := httptest.NewServer(e.s)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/sessions/1/events", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	events := make(chan [2]string, 16)
	go func() {
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				events <- [2]string{ev, strings.TrimPrefix(line, "data: ")}
			}
		}
		close(events)
	}()
	next := func(want string) string {
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					t.Fatalf("stream ended waiting for %s", want)
				}
				if ev[0] == want {
					return ev[1]
				}
			case <-ctx.Done():
				t.Fatalf("no %s event", want)
			}
		}
	}
	next("state")
	e.read(t, e.sess, "N1")
	var ev ReadEvent
	if err := json.Unmarshal([]byte(next("read")), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Read.Outcome != "wrong_location" || !strings.Contains(ev.Read.Headline, "Belongs somewhere else — MAIN / Nonfiction / 599.75 ROW") {
		t.Errorf("read event %+v", ev.Read)
	}
	if countOf(ev.Counts, "wrong_location") != 1 {
		t.Errorf("counts %v", ev.Counts)
	}
	var m struct {
		Missing  MissingView `json:"missing"`
		Progress Progress    `json:"progress"`
	}
	if err := json.Unmarshal([]byte(next("missing")), &m); err != nil {
		t.Fatal(err)
	}
	if m.Missing.Whole == 0 {
		t.Errorf("missing event %+v", m)
	}
	// Undo from the page refreshes every open screen of the session.
	c := newClient(t, e.s)
	if w := c.postJSON("/api/sessions/1/undo", nil, c.token()); w.Code != 200 {
		t.Fatalf("undo: %d", w.Code)
	}
	var v SessionView
	if err := json.Unmarshal([]byte(next("state")), &v); err != nil {
		t.Fatal(err)
	}
	if v.Last != nil || countOf(v.Counts, "wrong_location") != 0 {
		t.Errorf("state after undo: %+v", v)
	}
}
