package snipeittest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func call(t *testing.T, method, u, token, accept string, body io.Reader, ct string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s %s: body %q is not JSON", method, u, b)
		}
	}
	return resp.StatusCode, resp.Header, m
}

const appJSON = "application/json"

func testServer(t *testing.T, o Opts) *Server {
	now := time.Date(2024, 3, 4, 15, 0, 0, 0, time.UTC)
	o.Token = "tok"
	o.Now = func() time.Time { return now }
	o.Locations = []Location{{ID: 5, Name: "Library"}}
	if o.Assets == nil {
		o.Assets = []Asset{{ID: 1, Tag: "A-1", Name: "One & Only"}, {ID: 2, Tag: "A-2"}, {ID: 3, Tag: "A-3"}, {ID: 4, Tag: "A-1", Deleted: true}}
	}
	return Start(t, o)
}

func TestAuth(t *testing.T) {
	s := testServer(t, Opts{})
	u := s.Path("/hardware/bytag/A-1", nil)
	if st, _, m := call(t, "GET", u, "bad", appJSON, nil, ""); st != 401 || m["error"] != "Unauthorized or unauthenticated." {
		t.Errorf("bad token: %d %v", st, m)
	}
	// Laravel sends a browser to the login page.
	if st, h, _ := call(t, "GET", u, "bad", "", nil, ""); st != 302 || !strings.HasSuffix(h.Get("Location"), "/login") {
		t.Errorf("bad token without Accept: %d %v", st, h)
	}
	if st, _, m := call(t, "GET", u, "tok", appJSON, nil, ""); st != 200 || m["name"] != "One &amp; Only" {
		t.Errorf("good token: %d %v", st, m)
	}
	s.ExpireToken()
	if st, _, _ := call(t, "GET", u, "tok", appJSON, nil, ""); st != 401 {
		t.Errorf("expired token: %d", st)
	}
}

func TestByTag(t *testing.T) {
	s := testServer(t, Opts{})
	if _, _, m := call(t, "GET", s.Path("/hardware/bytag/a-2", nil), "tok", appJSON, nil, ""); m["id"] != 2.0 {
		t.Errorf("case-insensitive lookup: %v", m)
	}
	if _, _, m := call(t, "GET", s.Path("/hardware/bytag/ZZ", nil), "tok", appJSON, nil, ""); m["status"] != "error" || m["messages"] != "Asset does not exist." {
		t.Errorf("unknown: %v", m)
	}
	_, _, m := call(t, "GET", s.Path("/hardware/bytag/A-1", url.Values{"deleted": {"true"}}), "tok", appJSON, nil, "")
	if m["total"] != 2.0 {
		t.Errorf("with deleted: %v", m)
	}
}

func TestAuditRoutes(t *testing.T) {
	s := testServer(t, Opts{})
	// Legacy route, form body, as Snipe-IT's own UI and older scripts send it.
	form := url.Values{"asset_tag": {"A-2"}, "note": {"shelf check"}, "location_id": {"5"}, "update_location": {"1"}}
	st, _, m := call(t, "POST", s.Path("/hardware/audit", nil), "tok", appJSON, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
	if st != 200 || m["status"] != "success" || m["messages"] != "Asset audit successfully logged." {
		t.Fatalf("legacy audit: %d %v", st, m)
	}
	if p := m["payload"].(map[string]any); p["next_audit_date"].(map[string]any)["date"] != "2025-03-04" {
		t.Errorf("next audit date: %v", p)
	}
	// Newer route, JSON body.
	st, _, m = call(t, "POST", s.Path("/hardware/3/audit", nil), "tok", appJSON, strings.NewReader(`{"note":"n","update_location":true,"location_id":5}`), appJSON)
	if st != 200 || m["status"] != "success" {
		t.Fatalf("audit: %d %v", st, m)
	}
	// Unknown id (route model binding) and unknown tag: HTTP 200, status error.
	for _, tc := range []struct{ path, body, msg string }{
		{"/hardware/99/audit", `{}`, "Asset not found"},
		{"/hardware/audit", `{"asset_tag":"NOPE"}`, "Asset does not exist."},
		{"/hardware/4/audit", `{}`, "Asset not found"}, // deleted
	} {
		st, _, m := call(t, "POST", s.Path(tc.path, nil), "tok", appJSON, strings.NewReader(tc.body), appJSON)
		if st != 200 || m["status"] != "error" || m["messages"] != tc.msg {
			t.Errorf("%s %s: %d %v", tc.path, tc.body, st, m)
		}
	}
	st, _, m = call(t, "POST", s.Path("/hardware/1/audit", nil), "tok", appJSON, strings.NewReader(`{"location_id":99}`), appJSON)
	if v, _ := m["messages"].(map[string]any); st != 200 || m["status"] != "error" || v["location_id"] == nil {
		t.Errorf("bad location: %d %v", st, m)
	}
	audits := s.Audits()
	if len(audits) != 2 || audits[0].Route != "legacy" || audits[0].Tag != "A-2" || !audits[0].UpdateLocation ||
		audits[1].Route != "asset" || audits[1].AssetID != 3 || !audits[1].UpdateLocation {
		t.Errorf("audits = %+v", audits)
	}
	if a, _ := s.Asset(2); a.LocationID != 5 || a.LastAuditDate.IsZero() {
		t.Errorf("asset 2 = %+v", a)
	}
}

func TestListPaging(t *testing.T) {
	var assets []Asset
	for i := 1; i <= 7; i++ {
		assets = append(assets, Asset{ID: i, Tag: "T" + string(rune('0'+i)), AssignedTo: 100, AssignedType: "asset"})
	}
	assets = append(assets, Asset{ID: 8, Tag: "U", AssignedTo: 100, AssignedType: "location"})
	s := testServer(t, Opts{Assets: assets, MaxResults: 3})
	q := url.Values{"assigned_to": {"100"}, "assigned_type": {`App\Models\Asset`}, "limit": {"50"}, "sort": {"id"}, "order": {"asc"}}
	_, _, m := call(t, "GET", s.Path("/hardware", q), "tok", appJSON, nil, "")
	if rows := m["rows"].([]any); m["total"] != 7.0 || len(rows) != 3 || rows[0].(map[string]any)["id"] != 1.0 {
		t.Errorf("first page (limit capped at MaxResults): %v", m)
	}
	q.Set("offset", "6")
	_, _, m = call(t, "GET", s.Path("/hardware", q), "tok", appJSON, nil, "")
	if rows := m["rows"].([]any); len(rows) != 1 || rows[0].(map[string]any)["id"] != 7.0 {
		t.Errorf("last page: %v", m)
	}
	q.Set("offset", "70")
	if _, _, m = call(t, "GET", s.Path("/hardware", q), "tok", appJSON, nil, ""); len(m["rows"].([]any)) != 0 {
		t.Errorf("past the end: %v", m)
	}
	q.Del("order")
	q.Set("offset", "0")
	if _, _, m = call(t, "GET", s.Path("/hardware", q), "tok", appJSON, nil, ""); m["rows"].([]any)[0].(map[string]any)["id"] != 7.0 {
		t.Errorf("default order is newest first: %v", m)
	}
}

func TestThrottleWindow(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2024, 3, 4, 15, 0, 0, 0, time.UTC)
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := Start(t, Opts{Token: "tok", ThrottlePerMinute: 2, ThrottleHeaders: true, Now: clock,
		Assets: []Asset{{ID: 1, Tag: "A"}}})
	u := s.Path("/hardware/1", nil)
	for i, want := range []string{"1", "0"} {
		if st, h, _ := call(t, "GET", u, "tok", appJSON, nil, ""); st != 200 || h.Get("X-RateLimit-Remaining") != want {
			t.Errorf("request %d: %d remaining %q", i, st, h.Get("X-RateLimit-Remaining"))
		}
	}
	advance(20 * time.Second)
	st, h, m := call(t, "GET", u, "tok", appJSON, nil, "")
	if st != 429 || h.Get("Retry-After") != "40" || m["messages"] != "Too many requests" {
		t.Errorf("over the limit: %d %v %v", st, h, m)
	}
	advance(40 * time.Second)
	if st, _, _ := call(t, "GET", u, "tok", appJSON, nil, ""); st != 200 {
		t.Errorf("next window: %d", st)
	}
}

func TestUnknownRoute(t *testing.T) {
	s := testServer(t, Opts{})
	if st, _, m := call(t, "GET", s.Path("/nothing", nil), "tok", appJSON, nil, ""); st != 404 || m["status"] != "error" {
		t.Errorf("%d %v", st, m)
	}
}
