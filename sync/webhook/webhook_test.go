package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/relay"
	"github.com/tally-inventory/tally/sync/webhook"
	"github.com/tally-inventory/tally/sync/webhook/webhooktest"
)

var secret = []byte("it's a secret to everybody")

// A known vector, computed independently:
//
//	printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac "it's a secret to everybody"
const vectorSig = "sha256=2d7c9f5b553b044947a2ba34a174a265add739b90a2eb1925f4b5a12fb2b861c"

func TestSignVector(t *testing.T) {
	got := webhook.Sign(secret, "1700000000", []byte(`{"a":1}`))
	if got != vectorSig {
		t.Errorf("Sign = %s\nwant   %s", got, vectorSig)
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1700000000, 0)
	body := []byte(`{"a":1}`)
	good := webhook.Sign(secret, "1700000000", body)
	for _, tc := range []struct {
		name      string
		secret    []byte
		ts        string
		body      string
		sig       string
		now       time.Time
		want      error
		wantInMsg string
	}{
		{"good", secret, "1700000000", `{"a":1}`, good, now, nil, ""},
		{"good within tolerance", secret, "1700000000", `{"a":1}`, good, now.Add(4 * time.Minute), nil, ""},
		{"clock behind", secret, "1700000000", `{"a":1}`, good, now.Add(-4 * time.Minute), nil, ""},
		{"replayed later", secret, "1700000000", `{"a":1}`, good, now.Add(6 * time.Minute), webhook.ErrStale, "tolerance"},
		{"from the future", secret, "1700000000", `{"a":1}`, good, now.Add(-6 * time.Minute), webhook.ErrStale, ""},
		{"body changed", secret, "1700000000", `{"a":2}`, good, now, webhook.ErrBadSignature, "secret"},
		{"timestamp changed", secret, "1700000001", `{"a":1}`, good, now, webhook.ErrBadSignature, ""},
		{"wrong secret", []byte("other"), "1700000000", `{"a":1}`, good, now, webhook.ErrBadSignature, ""},
		{"no signature", secret, "1700000000", `{"a":1}`, "", now, webhook.ErrNoSignature, "X-Tally-Signature"},
		{"no prefix", secret, "1700000000", `{"a":1}`, strings.TrimPrefix(good, "sha256="), now, webhook.ErrBadSignature, "sha256="},
		{"short hex", secret, "1700000000", `{"a":1}`, good[:20], now, webhook.ErrBadSignature, "64 hex"},
		{"not hex", secret, "1700000000", `{"a":1}`, "sha256=" + strings.Repeat("zz", 32), now, webhook.ErrBadSignature, ""},
		{"bad timestamp", secret, "yesterday", `{"a":1}`, good, now, webhook.ErrStale, "unix seconds"},
		{"empty timestamp", secret, "", `{"a":1}`, good, now, webhook.ErrStale, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := webhook.VerifyAt(tc.secret, tc.ts, []byte(tc.body), tc.sig, tc.now, webhook.DefaultTolerance)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("VerifyAt = %v, want %v", err, tc.want)
			}
			if err != nil && !strings.Contains(err.Error(), tc.wantInMsg) {
				t.Errorf("error %q does not say %q", err, tc.wantInMsg)
			}
		})
	}
}

func TestEncode(t *testing.T) {
	ev := outbox.Event{ID: 7, Key: "inv1/31234/found", Kind: outbox.Found, InventoryID: 1, Barcode: "31234",
		Data:      outbox.Data{InventoryID: 1, Inventory: "Spring", Barcode: "31234", Date: "2027-03-01", Was: "lost", ClearLost: new(true)},
		CreatedAt: time.Date(2027, 3, 1, 9, 30, 0, 0, time.UTC), Attempt: 3}
	now := time.Unix(1800000000, 0)
	body, h, err := webhook.Encode(ev, secret, now)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":7,"key":"inv1/31234/found","kind":"found","inventory_id":1,"barcode":"31234","created_at":"2027-03-01T09:30:00Z","attempt":3,"data":{"inventory_id":1,"inventory":"Spring","barcode":"31234","date":"2027-03-01","was":"lost","clear_lost":true}}`
	if string(body) != want {
		t.Errorf("body\n got %s\nwant %s", body, want)
	}
	if h.Get("Idempotency-Key") != ev.Key || h.Get("X-Tally-Event") != "found" || h.Get("X-Tally-Timestamp") != "1800000000" ||
		h.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", h)
	}
	if err := webhook.VerifyAt(secret, h.Get("X-Tally-Timestamp"), body, h.Get("X-Tally-Signature"), now, time.Minute); err != nil {
		t.Errorf("own signature does not verify: %v", err)
	}
}

func TestClassify(t *testing.T) {
	now := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	for _, tc := range []struct {
		code    int
		h       http.Header
		body    string
		verdict relay.Verdict
		after   time.Duration
		msg     string
	}{
		{200, nil, "", relay.Accept, 0, ""},
		{204, nil, "", relay.Accept, 0, ""},
		{429, h("Retry-After", "30"), "", relay.Retry, 30 * time.Second, "429"},
		{503, h("Retry-After", "Mon, 01 Mar 2027 09:02:00 GMT"), "", relay.Retry, 2 * time.Minute, "503"},
		{503, nil, "", relay.Retry, 0, ""},
		{500, nil, `{"error":"db down"}`, relay.Retry, 0, "db down"},
		{502, nil, "<html>Bad Gateway</html>", relay.Retry, 0, "Bad Gateway"},
		{408, nil, "", relay.Retry, 0, ""},
		{401, nil, "", relay.Retry, 0, "secret_file"},
		{403, nil, "", relay.Retry, 0, ""},
		{422, nil, `{"error":{"message":"unknown barcode"}}`, relay.Reject, 0, "unknown barcode"},
		{400, nil, `{"message":"bad kind"}`, relay.Reject, 0, "bad kind"},
		{404, nil, "no such hook", relay.Reject, 0, "no such hook"},
		{301, h("Location", "https://new.example/hook"), "", relay.Reject, 0, "https://new.example/hook"},
	} {
		o := webhook.Classify(tc.code, tc.h, []byte(tc.body), now)
		if o.Verdict != tc.verdict || o.RetryAfter != tc.after {
			t.Errorf("%d: %+v, want verdict %d after %v", tc.code, o, tc.verdict, tc.after)
		}
		if tc.msg != "" && (o.Err == nil || !strings.Contains(o.Err.Error(), tc.msg)) {
			t.Errorf("%d: error %v does not say %q", tc.code, o.Err, tc.msg)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                               0,
		"0":                              0,
		"-5":                             0,
		"120":                            2 * time.Minute,
		" 3 ":                            3 * time.Second,
		"999999999999":                   24 * time.Hour,
		"soon":                           0,
		"Mon, 01 Mar 2027 09:00:30 GMT":  30 * time.Second,
		"Mon, 01 Mar 2027 08:00:00 GMT":  0,
		"Monday, 01-Mar-27 09:01:00 GMT": time.Minute,
	} {
		if got := webhook.RetryAfter(in, now); got != want {
			t.Errorf("RetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func FuzzVerify(f *testing.F) {
	f.Add("1700000000", []byte(`{"a":1}`), vectorSig)
	f.Add("", []byte{}, "")
	f.Add("-1", []byte("x"), "sha256=")
	f.Add("99999999999999999999", []byte("x"), "sha256="+strings.Repeat("0", 64))
	now := time.Unix(1700000000, 0)
	f.Fuzz(func(t *testing.T, ts string, body []byte, sig string) {
		err := webhook.VerifyAt(secret, ts, body, sig, now, webhook.DefaultTolerance)
		if err == nil {
			// Only a real signature verifies.
			if !strings.EqualFold(webhook.Sign(secret, strings.TrimSpace(ts), body), strings.TrimSpace(sig)) {
				t.Fatalf("accepted a forged signature %q for %q", sig, ts)
			}
			return
		}
		if !errors.Is(err, webhook.ErrBadSignature) && !errors.Is(err, webhook.ErrStale) && !errors.Is(err, webhook.ErrNoSignature) {
			t.Fatalf("unclassified error %v", err)
		}
	})
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "120", "Mon, 01 Mar 2027 09:00:30 GMT", "-1", "1e9", "Sun Nov  6 08:49:37 1994"} {
		f.Add(s)
	}
	now := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d := webhook.RetryAfter(v, now); d < 0 || d > 24*time.Hour {
			t.Fatalf("RetryAfter(%q) = %v: out of [0, 24h]", v, d)
		}
	})
}

// TestDeliver: against the receiver — one request per event; a transient
// failure stops the batch and the rest is marked not sent.
func TestDeliver(t *testing.T) {
	rc := webhooktest.New(secret)
	defer rc.Close()
	rc.SetFault(func(m outbox.Event, n int) webhooktest.Fault {
		switch m.Barcode {
		case "2":
			return webhooktest.Reject
		case "4":
			return webhooktest.Fail
		}
		return webhooktest.OK
	})
	s, err := webhook.New(rc.URL(), webhook.Opts{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	var evs []outbox.Event
	for i := 1; i <= 6; i++ {
		bc := string(rune('0' + i))
		evs = append(evs, outbox.Event{ID: int64(i), Key: "inv1/" + bc + "/seen", Kind: outbox.Seen, Barcode: bc})
	}
	out := s.Deliver(context.Background(), evs)
	want := []relay.Verdict{relay.Accept, relay.Reject, relay.Accept, relay.Retry, relay.Retry, relay.Retry}
	for i, o := range out {
		if o.Verdict != want[i] {
			t.Errorf("event %d: verdict %d, want %d (%v)", i+1, o.Verdict, want[i], o.Err)
		}
	}
	if errors.Is(out[3].Err, relay.ErrNotSent) || !errors.Is(out[4].Err, relay.ErrNotSent) {
		t.Errorf("not-sent marking: %v / %v", out[3].Err, out[4].Err)
	}
	if got := rc.Stats().Requests; got != 4 {
		t.Errorf("%d requests, want 4 (the batch stops at the 500)", got)
	}
	if !strings.Contains(out[1].Err.Error(), "no item with barcode 2") {
		t.Errorf("reject message: %v", out[1].Err)
	}
}

func TestExtraHeadersAndRedirect(t *testing.T) {
	var gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/new", http.StatusMovedPermanently)
			return
		}
		gotAuth = r.Header.Get("Authorization")
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	s, _ := webhook.New(srv.URL+"/new", webhook.Opts{Secret: secret, Header: http.Header{"Authorization": {"Bearer t0k"}}})
	ev := []outbox.Event{{ID: 1, Key: "k", Kind: "seen"}}
	if o := s.Deliver(context.Background(), ev); o[0].Verdict != relay.Accept || gotAuth != "Bearer t0k" {
		t.Errorf("%+v, auth %q", o, gotAuth)
	}
	s, _ = webhook.New(srv.URL+"/old", webhook.Opts{Secret: secret})
	if o := s.Deliver(context.Background(), ev); o[0].Verdict != relay.Reject || !strings.Contains(o[0].Err.Error(), "/new") {
		t.Errorf("redirect: %+v", o)
	}
}

func TestNewErrors(t *testing.T) {
	for _, u := range []string{"", "ftp://x/y", "http://", "not a url"} {
		if _, err := webhook.New(u, webhook.Opts{Secret: secret}); err == nil {
			t.Errorf("New(%q): want an error", u)
		}
	}
	if _, err := webhook.New("https://example.org/h", webhook.Opts{}); err == nil || !strings.Contains(err.Error(), "secret_file") {
		t.Errorf("no secret: %v", err)
	}
}

func TestVerifyRequest(t *testing.T) {
	body, h, _ := webhook.Encode(outbox.Event{Key: "k", Kind: "seen"}, secret, time.Now())
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
	r.Header = h
	got, err := webhook.VerifyRequest(r, secret)
	if err != nil || string(got) != string(body) {
		t.Errorf("VerifyRequest = %q, %v", got, err)
	}
	r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)+" "))
	r.Header = h
	if _, err := webhook.VerifyRequest(r, secret); !errors.Is(err, webhook.ErrBadSignature) {
		t.Errorf("tampered body: %v", err)
	}
}
