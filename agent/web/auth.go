package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

const (
	sidCookie  = "tally_sid"
	csrfField  = "csrf"
	csrfHeader = "X-CSRF-Token"
	maxLogins  = 1000 // live logins kept; the oldest go first
)

// authState holds logins and the key that derives CSRF tokens. Every
// browser gets a random session id in a cookie; its CSRF token is an HMAC
// of that id, so anonymous (loopback) sessions need no server state.
type authState struct {
	key     []byte
	token   [sha256.Size]byte // hash of the login secret: compared in constant time, whatever the length
	noToken bool
	ttl     time.Duration
	now     func() time.Time
	guesses *guesses

	mu     sync.Mutex
	logins map[string]time.Time // session id → expiry
}

func newAuth(o Opts) (*authState, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	perAddr, global := NetworkPerAddress, NetworkGlobal
	if IsLoopback(o.Addr) {
		perAddr, global = LocalGlobal, LocalGlobal
	}
	return &authState{key: key, token: sha256.Sum256([]byte(o.Token)), noToken: o.Token == "", ttl: o.LoginTTL, now: o.Now,
		guesses: newGuesses(perAddr, global, o.Now), logins: map[string]time.Time{}}, nil
}

func newID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (a *authState) csrf(sid string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte("csrf\x00" + sid))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// credential is the result of one credential check.
type credential int

const (
	credWrong  credential = iota
	credRight             // the try is given back
	credLocked            // too many wrong tries lately: not even looked at
)

// check is the one credential check every path goes through: it takes a
// try from the client's and the global budget first, compares in constant
// time, and gives the try back when the credential was right.
func (a *authState) check(r *http.Request, got string) credential {
	if a.noToken {
		return credWrong
	}
	addr := addrKey(r.RemoteAddr)
	if !a.guesses.take(addr) {
		return credLocked
	}
	h := sha256.Sum256([]byte(got))
	if subtle.ConstantTimeCompare(h[:], a.token[:]) != 1 {
		return credWrong
	}
	a.guesses.refund(addr)
	return credRight
}

func (a *authState) loggedIn(sid string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	exp, ok := a.logins[sid]
	if ok && a.now().After(exp) {
		delete(a.logins, sid)
		return false
	}
	return ok
}

func (a *authState) addLogin(sid string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if len(a.logins) >= maxLogins {
		var oldest string
		var ot time.Time
		for id, exp := range a.logins {
			if now.After(exp) {
				delete(a.logins, id)
				continue
			}
			if oldest == "" || exp.Before(ot) {
				oldest, ot = id, exp
			}
		}
		if len(a.logins) >= maxLogins {
			delete(a.logins, oldest)
		}
	}
	a.logins[sid] = now.Add(a.ttl)
}

func (a *authState) logout(sid string) {
	a.mu.Lock()
	delete(a.logins, sid)
	a.mu.Unlock()
}

type ctxKey int

const (
	keySID ctxKey = iota
	keyBearer
)

func sidOf(r *http.Request) string {
	s, _ := r.Context().Value(keySID).(string)
	return s
}

// secure wraps every request: security headers, the loopback guard, the
// session cookie, login and CSRF checks.
func (s *Server) secure(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		if !s.login {
			// No login: only this machine may talk to us, and only under a
			// local name (a rebound DNS name would let a web page in).
			if !IsLoopback(r.RemoteAddr) || !IsLoopback(hostOnly(r.Host)) {
				http.Error(w, "tally answers only on this machine (loopback); set a login token to serve others", http.StatusForbidden)
				return
			}
		}
		if err := cop.Check(r); err != nil {
			http.Error(w, "cross-origin request refused", http.StatusForbidden)
			return
		}
		bearer := false
		if scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " "); strings.EqualFold(scheme, "Bearer") {
			// (Another scheme, such as a proxy's Basic, is not ours to judge.)
			switch s.auth.check(r, strings.TrimSpace(cred)) {
			case credLocked:
				s.auth.retryAfter(w)
				writeJSONError(w, http.StatusTooManyRequests, "too many wrong tokens lately: "+s.auth.wait()+", then try again")
				return
			case credWrong:
				writeJSONError(w, http.StatusUnauthorized, "bad token")
				return
			}
			bearer = true
		}
		sid := ""
		if c, err := r.Cookie(sidCookie); err == nil && len(c.Value) == 43 {
			sid = c.Value
		}
		if sid == "" && !bearer {
			sid = newID()
			s.setSID(w, sid)
		}
		ctx := context.WithValue(r.Context(), keySID, sid)
		ctx = context.WithValue(ctx, keyBearer, bearer)
		r = r.WithContext(ctx)

		public := r.URL.Path == "/login" || r.URL.Path == "/api/csrf" || strings.HasPrefix(r.URL.Path, "/static/") || r.URL.Path == "/favicon.ico"
		if s.login && !bearer && !public && !s.auth.loggedIn(sid) {
			if strings.HasPrefix(r.URL.Path, "/api/") || r.Method != http.MethodGet {
				writeJSONError(w, http.StatusUnauthorized, "log in first (POST /login) or send Authorization: Bearer <token>")
				return
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(safeNext(r.URL.RequestURI())), http.StatusSeeOther)
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			_ = r.ParseForm() // forms only; a JSON body is left alone
			if !bearer && !s.validCSRF(r, sid) {
				if strings.HasPrefix(r.URL.Path, "/api/") {
					writeJSONError(w, http.StatusForbidden, "missing or wrong CSRF token: send the X-CSRF-Token header from GET /api/csrf")
				} else {
					http.Error(w, "This form has expired or did not come from tally. Go back, reload the page and try again.", http.StatusForbidden)
				}
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// wait says how long until a try comes back when the buckets are empty.
func (a *authState) wait() string {
	d := max(a.guesses.perAddr.Every, a.guesses.global.Every)
	if d <= time.Minute {
		return "wait a minute"
	}
	return fmt.Sprintf("wait %d minutes", int(d.Minutes()))
}

// retryAfter says when a try comes back (advice; the buckets decide).
func (a *authState) retryAfter(w http.ResponseWriter) {
	w.Header().Set("Retry-After", strconv.Itoa(int(max(a.guesses.perAddr.Every, a.guesses.global.Every).Seconds())))
}

func (s *Server) setSID(w http.ResponseWriter, sid string) {
	http.SetCookie(w, &http.Cookie{Name: sidCookie, Value: sid, Path: "/", HttpOnly: true, Secure: s.opts.SecureCookies,
		SameSite: http.SameSiteStrictMode})
}

func (s *Server) validCSRF(r *http.Request, sid string) bool {
	if sid == "" {
		return false
	}
	got := r.Header.Get(csrfHeader)
	if got == "" {
		got = r.PostForm.Get(csrfField)
	}
	return got != "" && hmac.Equal([]byte(got), []byte(s.auth.csrf(sid)))
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// safeNext keeps a post-login (or any "back") redirect on this site. It
// reads the target as a browser would (the WHATWG URL Standard's basic URL
// parser): leading and trailing C0 controls and spaces go, tabs and
// newlines anywhere go, and a backslash is a slash in an http(s) URL. What
// is left must be a path on this origin: starting with one "/", never
// "//" (another host), no scheme, no control characters. Anything else
// becomes "/". The cleaned form is what is used, so the browser and this
// check see the same string.
func safeNext(p string) string {
	if len(p) > 2048 {
		return "/"
	}
	p = strings.TrimFunc(p, func(r rune) bool { return r <= ' ' })
	p = strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return -1
		case '\\':
			return '/'
		}
		return r
	}, p)
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return "/"
	}
	for _, r := range p {
		if r < ' ' || r == 0x7f || r == utf8.RuneError {
			return "/"
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return "/"
	}
	return p
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "login", "Log in", map[string]any{"Next": safeNext(r.URL.Query().Get("next")), "Error": ""})
}

func (s *Server) loginPost(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.PostForm.Get("next"))
	if !s.login {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	switch s.auth.check(r, r.PostForm.Get("token")) {
	case credLocked:
		s.auth.retryAfter(w)
		w.WriteHeader(http.StatusTooManyRequests)
		s.render(w, r, "login", "Log in", map[string]any{"Next": next, "Error": "Too many wrong tries lately. " + strings.ToUpper(s.auth.wait()[:1]) + s.auth.wait()[1:] + ", then try again."})
		return
	case credWrong:
		w.WriteHeader(http.StatusUnauthorized)
		s.render(w, r, "login", "Log in", map[string]any{"Next": next, "Error": "That token or PIN is not right."})
		return
	}
	// A fresh session id at login: a planted cookie is worth nothing.
	sid := newID()
	s.setSID(w, sid)
	s.auth.addLogin(sid)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logoutPost(w http.ResponseWriter, r *http.Request) {
	s.auth.logout(sidOf(r))
	s.setSID(w, newID())
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
