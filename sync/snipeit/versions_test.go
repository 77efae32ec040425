package snipeit

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/snipeit/snipeittest"
)

// TestAuditRoutesEvidence: the loopback server's route sets follow
// routes/api.php at Snipe-IT's release tags (testdata/audit-routes.txt):
// the legacy audit route in every release, the per-asset one from v8.1.0.
func TestAuditRoutesEvidence(t *testing.T) {
	f, err := os.Open("testdata/audit-routes.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type routes struct{ legacy, perAsset, bytag bool }
	got := map[string]*routes{}
	var order []string
	var cur *routes
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if tag, ok := strings.CutPrefix(line, "== "); ok {
			fields := strings.Fields(tag)
			if len(fields) != 2 || len(fields[1]) != 40 {
				t.Fatalf("section %q: want a tag and a 40-digit commit", line)
			}
			cur = &routes{}
			got[fields[0]] = cur
			order = append(order, fields[0])
			continue
		}
		if cur == nil {
			continue
		}
		switch {
		case strings.Contains(line, "Route::post('audit',"):
			cur.legacy = true
		case strings.Contains(line, "Route::post('{asset}/audit',"):
			cur.perAsset = true
		case strings.Contains(line, "Route::get('bytag/{any}',"):
			cur.bytag = true
		}
	}
	if len(order) < 8 {
		t.Fatalf("%d tags in the evidence, want v6 to v8.1", len(order))
	}
	version := func(tag string) snipeittest.Version {
		switch {
		case strings.HasPrefix(tag, "v6."):
			return snipeittest.V6
		case strings.HasPrefix(tag, "v7."):
			return snipeittest.V7
		case strings.HasPrefix(tag, "v8.0."):
			return snipeittest.V8_0
		}
		return snipeittest.V8_1
	}
	seen := map[snipeittest.Version]bool{}
	for _, tag := range order {
		r, v := got[tag], version(tag)
		seen[v] = true
		if !r.bytag || r.legacy != v.LegacyAudit() || r.perAsset != v.PerAssetAudit() {
			t.Errorf("%s: evidence %+v, loopback %s serves legacy %v, per-asset %v", tag, *r, v, v.LegacyAudit(), v.PerAssetAudit())
		}
		// And the loopback server answers so: 404 where the route is missing.
		srv := snipeittest.Start(t, snipeittest.Opts{Version: v, Token: token, Assets: testAssets(), ThrottlePerMinute: -1})
		for path, want := range map[string]bool{"/api/v1/hardware/audit": v.LegacyAudit(), "/api/v1/hardware/11/audit": v.PerAssetAudit()} {
			req, _ := http.NewRequest(http.MethodPost, srv.URL()+path, strings.NewReader(`{"asset_tag":"DAB-0101"}`))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Accept", "application/json")
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if (resp.StatusCode == 200) != want {
				t.Errorf("%s (%s): POST %s answered %d", tag, v, path, resp.StatusCode)
			}
		}
	}
	for _, v := range snipeittest.Versions {
		if !seen[v] {
			t.Errorf("no evidence for %s", v)
		}
	}
}

// TestAuditFallback: on a server without the legacy route (none released
// yet), the first audit finds the 404 and uses the per-asset route; later
// audits go there at once.
func TestAuditFallback(t *testing.T) {
	f := start(t, snipeittest.Opts{Version: snipeittest.VNext}, nil)
	expect(t, f.sink.Deliver(context.Background(), []outbox.Event{event("seen", "DAB-0101"), event("seen", "DAB-0102")}), "accept,accept")
	if got, want := ops(f.srv), "bytag:200 other:404 audit:200 bytag:200 audit:200"; got != want {
		t.Errorf("requests = %s\nwant       %s", got, want)
	}
	for _, a := range f.srv.Audits() {
		if a.Route != "asset" {
			t.Errorf("audit %+v: want the per-asset route", a)
		}
	}
}

// TestAuditRoute404: when neither audit route exists, the dead letter says
// so and does not send the user to check the base URL (the lookup worked).
func TestAuditRoute404(t *testing.T) {
	f := start(t, snipeittest.Opts{}, nil)
	u, _ := url.Parse(f.srv.URL())
	proxy := httputil.NewSingleHostReverseProxy(u)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/audit") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"status":"error","messages":"404 endpoint not found","payload":null}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	s, err := New(Opts{BaseURL: front.URL, Token: token, RatePerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	out := s.Deliver(context.Background(), []outbox.Event{event("seen", "DAB-0101")})
	expect(t, out, "reject")
	msg := out[0].Err.Error()
	if strings.Contains(msg, "base URL") || !strings.Contains(msg, "404 to both audit routes") || !strings.Contains(msg, "DAB-0101") {
		t.Errorf("error %q: want both routes named, no base URL advice", msg)
	}
}
