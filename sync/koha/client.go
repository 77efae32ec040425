package koha

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxBody bounds what is read of one response: a page of 1,000 items with
// their biblios is well under 8 MiB, Koha's whole spec under 16.
const maxBody = 32 << 20

// APIError is a failed Koha API call: the HTTP status and Koha's message
// (its JSON "error" field, or the validator's "errors" list).
type APIError struct {
	Op         string // what tally was doing: "look up barcode 31234", "update item 12"
	Status     int
	Msg        string
	Code       string        // Koha's error_code, when it sends one
	RetryAfter time.Duration // from Retry-After on 429 and 503
}

func (e *APIError) Error() string {
	return fmt.Sprintf("koha: %s: HTTP %d: %s", e.Op, e.Status, e.Msg)
}

// Temporary reports whether a later retry may succeed.
func (e *APIError) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout || e.Status >= 500
}

// AuthError means Koha refused tally's credentials. It is permanent until
// someone fixes the configuration.
type AuthError struct {
	Err  error
	Hint string
}

func (e *AuthError) Error() string { return fmt.Sprintf("%v (%s)", e.Err, e.Hint) }
func (e *AuthError) Unwrap() error { return e.Err }

// BodyError is a response that is not what the API contract says: a 200
// carrying an error object, an HTML maintenance page, a truncated body. The
// request may or may not have taken effect, so it is retried (state is
// checked before every change).
type BodyError struct {
	Op     string
	Status int
	Msg    string
}

func (e *BodyError) Error() string {
	return fmt.Sprintf("koha: %s: HTTP %d with an unexpected body: %s", e.Op, e.Status, e.Msg)
}

// client speaks Koha's REST API: base URL, auth (OAuth2 client credentials
// with a cached token, or basic), JSON bodies, error bodies.
type client struct {
	o    Opts
	api  string // …/api/v1
	hc   *http.Client
	now  func() time.Time
	mu   sync.Mutex // guards tok and exp
	tok  string
	exp  time.Time
	toks int // tokens fetched (tests, metrics)
}

func newClient(o Opts) (*client, error) {
	api, err := apiBase(o.BaseURL)
	if err != nil {
		return nil, err
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	c := *hc
	c.Timeout = o.Timeout
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return &client{o: o, api: api, hc: &c, now: now}, nil
}

// apiBase accepts https://koha.example.org, …/ and …/api/v1.
func apiBase(base string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil {
		return "", fmt.Errorf("koha: base URL %q: %v", base, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("koha: base URL %q must be http(s)://host of the Koha staff interface, e.g. https://koha-staff.example.org", base)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("koha: base URL %q must not have a query or fragment", base)
	}
	p := strings.TrimRight(u.Path, "/")
	p = strings.TrimSuffix(p, "/api/v1")
	u.Path = p + "/api/v1"
	return u.String(), nil
}

// request is one API call.
type request struct {
	op     string
	method string
	path   string // under /api/v1, e.g. "/items"
	query  url.Values
	header map[string]string
	body   any // marshalled to JSON when non-nil
}

// response is a successful call's status, headers and body.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with auth. A 401 on a bearer token refreshes the
// token once and resends, as the token may have expired in between.
func (c *client) do(ctx context.Context, r request) (*response, error) {
	refreshed := false
	for {
		auth, err := c.authHeader(ctx, refreshed)
		if err != nil {
			return nil, err
		}
		res, err := c.send(ctx, r, auth)
		if err != nil {
			var ae *APIError
			if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
				if c.oauth() && !refreshed {
					refreshed = true
					continue
				}
				hint := "check the user and password, and that Koha's RESTBasicAuth system preference is on"
				if c.oauth() {
					hint = "a fresh token was refused too: check the API key's patron permissions (catalogue, editcatalogue, circulate)"
				}
				return nil, &AuthError{Err: err, Hint: hint}
			}
		}
		return res, err
	}
}

func (c *client) oauth() bool { return c.o.ClientID != "" }

func (c *client) send(ctx context.Context, r request, auth string) (*response, error) {
	u := c.api + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, fmt.Errorf("koha: %s: %w", r.op, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("koha: %s: %w", r.op, err)
	}
	req.Header.Set("Accept", "application/json")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.o.UserAgent != "" {
		req.Header.Set("User-Agent", c.o.UserAgent)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("koha: %s: %w", r.op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("koha: %s: reading the response: %w", r.op, err)
	}
	if len(b) > maxBody {
		return nil, &BodyError{Op: r.op, Status: resp.StatusCode, Msg: fmt.Sprintf("response larger than %d MiB", maxBody>>20)}
	}
	if resp.StatusCode >= 300 {
		return nil, apiError(r.op, resp, b, c.now())
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// apiError builds an APIError from Koha's error body: {"error": "…",
// "error_code": "…"} from controllers, {"errors": [{"message", "path"}]}
// from the OpenAPI validator.
func apiError(op string, resp *http.Response, body []byte, now time.Time) *APIError {
	e := &APIError{Op: op, Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), now)}
	var kb struct {
		Error  any    `json:"error"`
		Code   string `json:"error_code"`
		Errors []struct {
			Message string `json:"message"`
			Path    string `json:"path"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &kb) == nil {
		switch v := kb.Error.(type) {
		case string:
			e.Msg = v
		case nil:
		default:
			b, _ := json.Marshal(v)
			e.Msg = string(b)
		}
		e.Code = kb.Code
		for _, x := range kb.Errors {
			if e.Msg != "" {
				e.Msg += "; "
			}
			e.Msg += strings.TrimSpace(x.Message + " " + x.Path)
		}
	}
	if e.Msg == "" {
		e.Msg = snippet(body)
	}
	if e.Msg == "" {
		e.Msg = http.StatusText(resp.StatusCode)
	}
	return e
}

// retryAfter reads delay-seconds or an HTTP-date; 0 when absent or bad.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		if n > 86400 {
			n = 86400
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// snippet is the start of a body for a message: one line, at most 200 bytes.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// authHeader returns the Authorization value, fetching a token when there
// is none, it is about to expire, or force is set.
func (c *client) authHeader(ctx context.Context, force bool) (string, error) {
	if !c.oauth() {
		return "Basic " + basic(c.o.User, c.o.Password), nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !force && c.tok != "" && c.now().Before(c.exp) {
		return "Bearer " + c.tok, nil
	}
	tok, ttl, err := c.fetchToken(ctx)
	if err != nil {
		return "", err
	}
	// Renew a little early so a token does not expire on its way to Koha.
	margin := ttl / 10
	if margin > time.Minute {
		margin = time.Minute
	}
	c.tok, c.exp = tok, c.now().Add(ttl-margin)
	c.toks++
	return "Bearer " + tok, nil
}

func basic(u, p string) string {
	return base64Encode(u + ":" + p)
}

// fetchToken runs the OAuth2 client-credentials grant against
// POST /api/v1/oauth/token (form: grant_type, client_id, client_secret).
func (c *client) fetchToken(ctx context.Context) (string, time.Duration, error) {
	const op = "get an OAuth2 token"
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.o.ClientID}, "client_secret": {c.o.ClientSecret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.api+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("koha: %s: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if c.o.UserAgent != "" {
		req.Header.Set("User-Agent", c.o.UserAgent)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("koha: %s: %w", op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", 0, fmt.Errorf("koha: %s: reading the response: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		e := apiError(op, resp, b, c.now())
		if e.Temporary() {
			return "", 0, e
		}
		return "", 0, &AuthError{Err: e, Hint: "check client_id and client_secret (Koha: patron → More → Manage API keys) and that the RESTOAuth2ClientCredentials system preference is on"}
	}
	var t struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(b, &t); err != nil || t.AccessToken == "" {
		return "", 0, &BodyError{Op: op, Status: resp.StatusCode, Msg: "no access_token in " + snippet(b)}
	}
	if t.TokenType != "" && !strings.EqualFold(t.TokenType, "bearer") {
		return "", 0, &BodyError{Op: op, Status: resp.StatusCode, Msg: fmt.Sprintf("token_type %q is not Bearer", t.TokenType)}
	}
	ttl := time.Duration(t.ExpiresIn) * time.Second
	if t.ExpiresIn <= 0 || t.ExpiresIn > 30*86400 {
		ttl = time.Hour // Koha's default lifetime
	}
	return t.AccessToken, ttl, nil
}
