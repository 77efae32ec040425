package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a hand-driven clock for the guess limits.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// credPath is one place a credential is checked, tried with a given
// credential from a given address.
type credPath struct {
	name string
	try  func(c *client, cred string) *httptest.ResponseRecorder
	ok   int // status when the credential is right
}

func bearer(method, path, body string) func(c *client, cred string) *httptest.ResponseRecorder {
	return func(c *client, cred string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+cred)
		return c.do(req)
	}
}

var credPaths = []credPath{
	{"login form", func(c *client, cred string) *httptest.ResponseRecorder {
		c.token() // the session id rotates at login
		return c.postForm("/login", form("token", cred, "csrf", c.csrf, "next", "/"))
	}, http.StatusSeeOther},
	{"bearer GET api", bearer("GET", "/api/inventories", ""), http.StatusOK},
	{"bearer POST api", bearer("POST", "/api/sessions/1/reads", `{"code":"F1"}`), http.StatusCreated},
	{"bearer GET page", bearer("GET", "/sessions/1", ""), http.StatusOK},
	{"bearer on a public path", bearer("GET", "/static/app.css", ""), http.StatusOK},
	{"bearer lower-case scheme", func(c *client, cred string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/api/devices", nil)
		req.Header.Set("Authorization", "bearer "+cred)
		return c.do(req)
	}, http.StatusOK},
	{"bearer on the event stream", bearer("GET", "/sessions/1/events", ""), 0}, // a right one streams: not tried
}

func netClient(t *testing.T, s *Server, ip string) *client {
	c := newClient(t, s)
	c.ip, c.host = ip+":40000", "tally.school.example:8080"
	return c
}

// accepted counts wrong credentials that were checked (401) before the
// first refusal unchecked (429); n bounds the tries.
func accepted(t *testing.T, p credPath, c *client, n int) int {
	t.Helper()
	for i := 0; i < n; i++ {
		w := p.try(c, fmt.Sprintf("guess-%012d", i))
		switch w.Code {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			if w.Header().Get("Retry-After") == "" {
				t.Errorf("%s: 429 without Retry-After", p.name)
			}
			return i
		default:
			t.Fatalf("%s: wrong credential %d got %d %s", p.name, i, w.Code, w.Body)
		}
	}
	return n
}

// TestGuessingLimitedOnEveryPath tries credentials on every path that
// checks one and counts how many wrong ones are looked at before the
// address is locked out; then that the right one waits for the lockout to
// end and gets in after it.
func TestGuessingLimitedOnEveryPath(t *testing.T) {
	for _, p := range credPaths {
		t.Run(p.name, func(t *testing.T) {
			clk := newClock()
			e := newEnv(t, Opts{Addr: ":8080", Token: secretTok, Now: clk.now})
			c := netClient(t, e.s, "192.0.2.7")
			if got := accepted(t, p, c, 100); got != NetworkPerAddress.Burst {
				t.Fatalf("%d wrong credentials checked before the lockout, want %d", got, NetworkPerAddress.Burst)
			}
			if p.ok == 0 {
				return
			}
			if w := p.try(c, secretTok); w.Code != http.StatusTooManyRequests {
				t.Fatalf("right credential during the lockout: %d, want 429", w.Code)
			}
			// Another address is not locked out by this one.
			if w := p.try(netClient(t, e.s, "192.0.2.8"), secretTok); w.Code != p.ok {
				t.Fatalf("right credential from another address: %d %s", w.Code, w.Body)
			}
			clk.add(NetworkPerAddress.Every)
			if w := p.try(c, secretTok); w.Code != p.ok {
				t.Fatalf("right credential after the lockout ended: %d %s", w.Code, w.Body)
			}
			// One try came back, and the right credential gave its own back.
			if got := accepted(t, p, c, 100); got != 1 {
				t.Fatalf("after the lockout %d wrong credentials were checked, want 1", got)
			}
		})
	}
}

// TestGuessingSharedAcrossPaths: a guess costs the same wherever it is
// made, so switching paths buys nothing.
func TestGuessingSharedAcrossPaths(t *testing.T) {
	clk := newClock()
	e := newEnv(t, Opts{Addr: ":8080", Token: secretTok, Now: clk.now})
	c := netClient(t, e.s, "198.51.100.1")
	total := 0
	for round := 0; round < 3; round++ {
		for _, p := range credPaths {
			if w := p.try(c, "wrong-credential-x"); w.Code == http.StatusUnauthorized {
				total++
			}
		}
	}
	if total != NetworkPerAddress.Burst {
		t.Fatalf("%d wrong credentials checked over all paths, want %d", total, NetworkPerAddress.Burst)
	}
}

// TestGuessingGlobalCap: many addresses together get the global budget,
// and over an hour no more than it allows.
func TestGuessingGlobalCap(t *testing.T) {
	clk := newClock()
	e := newEnv(t, Opts{Addr: ":8080", Token: secretTok, Now: clk.now})
	p := credPaths[1]
	checked := 0
	try := func() {
		for i := 0; i < 100; i++ {
			if w := p.try(netClient(t, e.s, fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)), "wrong-credential-x"); w.Code == http.StatusUnauthorized {
				checked++
			}
		}
	}
	try()
	if checked != NetworkGlobal.Burst {
		t.Fatalf("100 addresses: %d wrong credentials checked at once, want %d", checked, NetworkGlobal.Burst)
	}
	for m := 0; m < 60; m++ {
		clk.add(time.Minute)
		try()
	}
	if want := NetworkGlobal.Burst + 60; checked != want {
		t.Fatalf("100 addresses for an hour: %d wrong credentials checked, want %d", checked, want)
	}
	// IPv6: one /64 is one address.
	e = newEnv(t, Opts{Addr: ":8080", Token: secretTok, Now: clk.now})
	v6 := 0
	for i := 0; i < 10; i++ {
		c := newClient(t, e.s)
		c.ip, c.host = fmt.Sprintf("[2001:db8:1:2::%x]:40000", i+1), "tally:8080"
		if p.try(c, "wrong-credential-x").Code == http.StatusUnauthorized {
			v6++
		}
	}
	if v6 != NetworkPerAddress.Burst {
		t.Fatalf("10 addresses of one IPv6 /64: %d wrong credentials checked, want %d", v6, NetworkPerAddress.Burst)
	}
}

// TestKioskPIN: a PIN only on loopback, with the hard daily limit.
func TestKioskPIN(t *testing.T) {
	b := newBackend(t, fixture())
	for _, tc := range []struct {
		addr, token string
		ok          bool
	}{
		{":8080", "", false},
		{":8080", "48291300", false},    // a PIN on the network
		{":8080", "k3#d-9xq-2m", false}, // 11 characters
		{":8080", "k3#d-9xq-2m7", true},
		{"127.0.0.1:8080", "48291", false},
		{"127.0.0.1:8080", "482913", true},
		{"127.0.0.1:8080", "", true}, // no login on loopback
	} {
		_, err := New(b, nil, Opts{Addr: tc.addr, Token: tc.token})
		if (err == nil) != tc.ok {
			t.Errorf("New(%s, %q): %v", tc.addr, tc.token, err)
		}
	}
	clk := newClock()
	e := newEnv(t, Opts{Token: "482913", Now: clk.now})
	p := credPaths[0]
	c := newClient(t, e.s)
	checked := accepted(t, p, c, 100)
	for h := 0; h < 24; h++ {
		clk.add(time.Hour)
		checked += accepted(t, p, c, 100)
	}
	if want := LocalGlobal.Burst + int(24*time.Hour/LocalGlobal.Every); checked != want {
		t.Fatalf("a day of guessing the PIN: %d checked, want %d", checked, want)
	}
	clk.add(LocalGlobal.Every)
	if w := p.try(c, "482913"); w.Code != http.StatusSeeOther {
		t.Fatalf("the right PIN after the lockout: %d", w.Code)
	}
}
