package kohatest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

type call struct {
	t   *testing.T
	srv *Server
}

func (c call) do(method, path, auth string, body string) (int, http.Header, string) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.srv.URL+"/api/v1"+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.srv.Client().Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

const basicAuth = "Basic dGFsbHk6cGFzc3dvcmQ=" // tally:password

func TestOAuthToken(t *testing.T) {
	srv := New(Opts{})
	defer srv.Close()
	c := call{t, srv}
	form := func(v url.Values) (int, string) {
		resp, err := srv.Client().PostForm(srv.URL+"/api/v1/oauth/token", v)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, body := form(url.Values{"grant_type": {"password"}}); st != 400 || !strings.Contains(body, "Unimplemented grant type") {
		t.Errorf("wrong grant: %d %s", st, body)
	}
	if st, _ := form(url.Values{"grant_type": {"client_credentials"}, "client_id": {"tally"}, "client_secret": {"nope"}}); st != 403 {
		t.Errorf("wrong secret: %d", st)
	}
	st, body := form(url.Values{"grant_type": {"client_credentials"}, "client_id": {"tally"}, "client_secret": {"secret"}})
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(body), &tok); st != 200 || err != nil || tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 {
		t.Fatalf("token: %d %s", st, body)
	}
	if st, _, _ := c.do("GET", "/items", "Bearer "+tok.AccessToken, ""); st != 200 {
		t.Errorf("with token: %d", st)
	}
	if st, _, body := c.do("GET", "/items", "", ""); st != 401 || !strings.Contains(body, "Authentication failure") {
		t.Errorf("without auth: %d %s", st, body)
	}
	srv.ExpireTokens()
	if st, _, _ := c.do("GET", "/items", "Bearer "+tok.AccessToken, ""); st != 401 {
		t.Errorf("expired token: %d", st)
	}
	if st, _, _ := c.do("GET", "/items", basicAuth, ""); st != 200 {
		t.Errorf("basic: %d", st)
	}
	srv.RevokeCredentials()
	if st, _, _ := c.do("GET", "/items", basicAuth, ""); st != 401 {
		t.Errorf("revoked basic: %d", st)
	}
}

func ids(t *testing.T, body string) []string {
	t.Helper()
	var items []struct {
		ExternalID *string `json:"external_id"`
	}
	if err := json.Unmarshal([]byte(body), &items); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var out []string
	for _, it := range items {
		out = append(out, *it.ExternalID)
	}
	return out
}

func TestItemSearch(t *testing.T) {
	srv := New(Opts{})
	defer srv.Close()
	c := call{t, srv}
	srv.AddItem(Item{Barcode: "30803"})
	srv.AddItem(Item{Barcode: "0803"})
	srv.AddItem(Item{Barcode: "AB1"})
	q := func(v string) string { return url.QueryEscape(v) }
	for _, tt := range []struct{ query, want string }{
		{"external_id=0803", "[30803 0803]"}, // Koha's default _match is contains
		{"external_id=0803&_match=exact", "[0803]"},
		{"q=" + q(`{"external_id":"0803"}`), "[0803]"},
		{"q=" + q(`{"me.external_id":"ab1"}`), "[AB1]"}, // MySQL's collation ignores case
		{"q=" + q(`{"external_id":{"-like":"%0803"}}`), "[30803 0803]"},
	} {
		st, _, body := c.do("GET", "/items?"+tt.query, basicAuth, "")
		if got := fmt.Sprint(ids(t, body)); st != 200 || got != tt.want {
			t.Errorf("%s: %d %s, want %s", tt.query, st, got, tt.want)
		}
	}
	st, _, body := c.do("GET", "/items?q="+q(`{"barcode":"0803"}`), basicAuth, "")
	if st != 400 || !strings.Contains(body, "invalid_query") {
		t.Errorf("q on a column name: %d %s", st, body)
	}
	st, _, body = c.do("GET", "/items?q="+q(`{"external_id":`), basicAuth, "")
	if st != 400 || !strings.Contains(body, "Invalid JSON") {
		t.Errorf("bad q: %d %s", st, body)
	}
}

func TestPaging(t *testing.T) {
	srv := New(Opts{})
	defer srv.Close()
	c := call{t, srv}
	for i := range 25 {
		srv.AddItem(Item{Barcode: fmt.Sprint(100 + i), Title: "T"})
	}
	st, h, body := c.do("GET", "/items", basicAuth, "")
	if st != 200 || len(ids(t, body)) != 20 || h.Get("X-Total-Count") != "25" {
		t.Fatalf("page 1: %d, %d items, total %q", st, len(ids(t, body)), h.Get("X-Total-Count"))
	}
	if l := h.Get("Link"); !strings.Contains(l, `_page=2&_per_page=20>; rel="next"`) || !strings.Contains(l, `rel="last"`) {
		t.Errorf("page 1 Link: %s", l)
	}
	_, h, body = c.do("GET", "/items?_page=2", basicAuth, "")
	if got := ids(t, body); len(got) != 5 || got[0] != "120" || strings.Contains(h.Get("Link"), `"next"`) {
		t.Errorf("page 2: %v, Link %s", got, h.Get("Link"))
	}
	_, _, body = c.do("GET", "/items?_per_page=-1", basicAuth, "")
	if len(ids(t, body)) != 25 {
		t.Errorf("_per_page=-1 did not return everything")
	}
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/items?_per_page=1", nil)
	req.Header.Set("Authorization", basicAuth)
	req.Header.Set("x-koha-embed", "biblio")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"biblio":{`) || !strings.Contains(string(b), `"title":"T"`) {
		t.Errorf("embed biblio: %s", b)
	}
}

func TestPutItem(t *testing.T) {
	srv := New(Opts{Now: func() time.Time { return time.Date(2024, 5, 14, 12, 0, 0, 0, time.UTC) }})
	defer srv.Close()
	c := call{t, srv}
	it := srv.AddItem(Item{Barcode: "P1"})
	path := fmt.Sprintf("/biblios/%d/items/%d", it.BiblioID, it.ItemID)
	if st, _, body := c.do("PUT", path, basicAuth, `{"lost_status":4,"last_seen_date":"2024-05-14T09:30:00Z"}`); st != 200 ||
		!strings.Contains(body, `"lost_status":4`) || !strings.Contains(body, `"last_seen_date":"2024-05-14T11:30:00+02:00"`) ||
		!strings.Contains(body, `"lost_date":"2024-05-14T14:00:00+02:00"`) {
		t.Errorf("PUT: %d %s", st, body)
	}
	if st, _, _ := c.do("PUT", path, basicAuth, `{"lost_status":4}`); st != 200 {
		t.Errorf("same PUT again: %d", st)
	}
	if n := len(srv.Changes()); n != 1 {
		t.Errorf("%d changes after a repeated PUT, want 1: %+v", n, srv.Changes())
	}
	if st, _, body := c.do("PUT", path, basicAuth, `{"itemlost":4}`); st != 400 || !strings.Contains(body, "Properties not allowed: itemlost.") {
		t.Errorf("column name: %d %s", st, body)
	}
	if st, _, body := c.do("PUT", fmt.Sprintf("/biblios/%d/items/%d", it.BiblioID+100, it.ItemID), basicAuth, `{"lost_status":0}`); st != 404 || !strings.Contains(body, "Item not found") {
		t.Errorf("wrong biblio: %d %s", st, body)
	}
	if st, _, body := c.do("PATCH", fmt.Sprintf("/items/%d", it.ItemID), basicAuth, `{"lost_status":0}`); st != 404 || !strings.Contains(body, `"Not Found."`) {
		t.Errorf("PATCH (no such route in Koha): %d %s", st, body)
	}
}

func TestSpecAndVersions(t *testing.T) {
	for _, o := range []Opts{{}, {NoItemUpdate: true, Checkin: true}} {
		srv := New(o)
		c := call{t, srv}
		st, _, body := c.do("GET", "/", "", "")
		var spec struct {
			Paths map[string]map[string]any `json:"paths"`
		}
		if err := json.Unmarshal([]byte(body), &spec); st != 200 || err != nil {
			t.Fatalf("spec: %d %v", st, err)
		}
		_, put := spec.Paths["/biblios/{biblio_id}/items/{item_id}"]["put"]
		_, del := spec.Paths["/checkouts/{checkout_id}"]["delete"]
		if put == o.NoItemUpdate || del != o.Checkin {
			t.Errorf("opts %+v: spec has put %v, delete %v", o, put, del)
		}
		it := srv.AddItem(Item{Barcode: "Q1"})
		st, _, _ = c.do("PUT", fmt.Sprintf("/biblios/%d/items/%d", it.BiblioID, it.ItemID), basicAuth, `{"lost_status":1}`)
		if (st == 404) != o.NoItemUpdate {
			t.Errorf("opts %+v: PUT answered %d", o, st)
		}
		srv.Close()
	}
}

func TestFaults(t *testing.T) {
	srv := New(Opts{})
	defer srv.Close()
	c := call{t, srv}
	it := srv.AddItem(Item{Barcode: "R1"})
	srv.Inject(Fault{Kind: Status, Status: 502, Count: 2})
	srv.Inject(Fault{Kind: RateLimit, RetryAfter: 3 * time.Second})
	srv.Inject(Fault{Kind: ErrorBody})
	for i, want := range []int{502, 502, 429, 200, 200} {
		st, h, body := c.do("GET", "/items", basicAuth, "")
		if st != want {
			t.Errorf("request %d: %d, want %d", i, st, want)
		}
		if st == 429 && h.Get("Retry-After") != "3" {
			t.Errorf("Retry-After %q", h.Get("Retry-After"))
		}
		if i == 3 && !strings.Contains(body, `"error"`) {
			t.Errorf("error body: %s", body)
		}
	}
	srv.Inject(Fault{Kind: Reset, Method: "PUT"})
	req, _ := http.NewRequest("PUT", fmt.Sprintf("%s/api/v1/biblios/%d/items/%d", srv.URL, it.BiblioID, it.ItemID), strings.NewReader(`{"lost_status":2}`))
	req.Header.Set("Authorization", basicAuth)
	resp, err := srv.Client().Do(req)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Error("reset: no error reading the response")
	}
	if got, _ := srv.Item("R1"); got.LostStatus != 2 {
		t.Errorf("reset: the change was not applied first (lost %d)", got.LostStatus)
	}
	srv.SetDown(true)
	if st, _, _ := c.do("GET", "/items", basicAuth, ""); st != 503 {
		t.Errorf("down: %d", st)
	}
}
