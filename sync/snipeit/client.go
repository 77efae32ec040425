package snipeit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tally-inventory/tally/sync/relay"
)

// callError classifies a failed call for the relay: Retry (network, 5xx,
// 429, timeouts) or Reject (Snipe-IT said no: bad token, unknown asset,
// validation).
type callError struct {
	verdict    relay.Verdict
	retryAfter time.Duration
	halt       bool // every later call would fail the same way: stop the batch
	status     int  // the HTTP status, when there was one
	err        error
}

func (e *callError) Error() string { return e.err.Error() }
func (e *callError) Unwrap() error { return e.err }

func retry(err error, after time.Duration) *callError {
	return &callError{verdict: relay.Retry, retryAfter: after, halt: true, err: err}
}

// client is the HTTP side: auth, pacing, error classification.
type client struct {
	base      string // …/api/v1
	tokenFile string
	hc        *http.Client
	lim       *limiter
	zone      *time.Location

	mu    sync.Mutex
	token string
}

func newClient(o *Opts) (*client, error) {
	if o.BaseURL == "" {
		return nil, errors.New("snipeit: no base URL: set it to the Snipe-IT address, e.g. https://assets.example.org")
	}
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("snipeit: base URL %q is not an http(s) URL such as https://assets.example.org", o.BaseURL)
	}
	base := strings.TrimRight(u.String(), "/")
	if !strings.HasSuffix(base, "/api/v1") {
		base += "/api/v1"
	}
	token := strings.TrimSpace(o.Token)
	if token == "" && o.TokenFile != "" {
		if token, err = readToken(o.TokenFile); err != nil {
			return nil, err
		}
	}
	if token == "" {
		return nil, errors.New("snipeit: no API token: create a personal access token in Snipe-IT (Account → Manage API keys) and set Token or TokenFile")
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: o.Timeout}
	}
	zone := o.Zone
	if zone == nil {
		zone = time.UTC
	}
	return &client{base: base, tokenFile: o.TokenFile, hc: hc, lim: newLimiter(o.RatePerMinute), zone: zone, token: token}, nil
}

func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("snipeit: read API token: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("snipeit: API token file %s is empty", path)
	}
	return t, nil
}

// do sends one request and returns the body of a 2xx reply. Errors are
// *callError. A 401 with a token file re-reads the file once, so a rotated
// token is picked up without a restart.
func (c *client) do(ctx context.Context, method, path string, q url.Values, body any) ([]byte, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, &callError{verdict: relay.Reject, err: fmt.Errorf("encode request: %w", err)}
		}
	}
	for attempt := 0; ; attempt++ {
		c.mu.Lock()
		token := c.token
		c.mu.Unlock()
		b, err := c.once(ctx, method, path, q, payload, token)
		var ce *callError
		if attempt == 0 && errors.As(err, &ce) && ce.err != nil && isAuthError(ce) && c.reloadToken(token) {
			continue
		}
		return b, err
	}
}

func isAuthError(ce *callError) bool {
	var ae *APIError
	return errors.As(ce.err, &ae) && ae.HTTPStatus == http.StatusUnauthorized
}

// reloadToken re-reads the token file and reports whether it changed.
func (c *client) reloadToken(used string) bool {
	if c.tokenFile == "" {
		return false
	}
	t, err := readToken(c.tokenFile)
	if err != nil || t == used {
		return false
	}
	c.mu.Lock()
	c.token = t
	c.mu.Unlock()
	return true
}

func (c *client) once(ctx context.Context, method, path string, q url.Values, payload []byte, token string) ([]byte, error) {
	if wait, err := c.lim.wait(ctx); err != nil {
		return nil, retry(err, wait)
	}
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, &callError{verdict: relay.Reject, halt: true, err: fmt.Errorf("build request: %w", err)}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	// Without Accept: application/json Laravel answers an auth failure
	// with a redirect to the login page rather than a 401.
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, retry(fmt.Errorf("%s %s: %w", method, path, err), 0)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, retry(fmt.Errorf("%s %s: reading reply: %w", method, path, err), 0)
	}
	if len(b) > maxBody {
		return nil, &callError{verdict: relay.Reject, err: fmt.Errorf("%s %s: reply is larger than %d MiB; lower the page size", method, path, maxBody>>20)}
	}
	return c.classify(method, path, resp, b)
}

// defaultThrottleWait is how long to back off after a 429 that carries no
// Retry-After. Snipe-IT's exception handler re-renders a 429 as JSON and
// drops the throttle's headers; its limiter is Laravel's fixed one-minute
// window, so a full window is always enough.
const defaultThrottleWait = time.Minute

func (c *client) classify(method, path string, resp *http.Response, b []byte) ([]byte, error) {
	st := resp.StatusCode
	where := method + " " + path
	detail := func() error {
		if r, err := decodeReply(b); err == nil {
			if e := r.apiError(st); e != nil {
				return e
			}
		}
		return &APIError{HTTPStatus: st, Messages: []string{strings.TrimSpace(head(b))}}
	}
	switch {
	case st == http.StatusTooManyRequests:
		wait, ok := retryAfter(resp.Header, time.Now())
		if !ok {
			wait = defaultThrottleWait
		}
		c.lim.pause(wait)
		return nil, retry(fmt.Errorf("%s: snipe-it is throttling requests (HTTP 429, its API_THROTTLE_PER_MINUTE); waiting %v", where, wait), wait)
	case st >= 500:
		wait, _ := retryAfter(resp.Header, time.Now())
		return nil, retry(fmt.Errorf("%s: %w", where, detail()), wait)
	case st == http.StatusUnauthorized || st == http.StatusForbidden:
		return nil, &callError{verdict: relay.Reject, halt: true,
			err: fmt.Errorf("%s: %w; check the Snipe-IT API token: it must be a current personal access token of a user allowed to view and audit assets", where, detail())}
	case st >= 300 && st < 400:
		return nil, &callError{verdict: relay.Reject, halt: true,
			err: fmt.Errorf("%s: redirected (HTTP %d to %q); check the base URL (use https:// if the server redirects to it)", where, st, resp.Header.Get("Location"))}
	case st == http.StatusNotFound:
		return nil, &callError{verdict: relay.Reject, halt: true, status: st, err: fmt.Errorf("%s: %w; check the base URL", where, detail())}
	case st >= 400:
		return nil, &callError{verdict: relay.Reject, err: fmt.Errorf("%s: %w", where, detail())}
	}
	return b, nil
}

// retryAfter reads Retry-After (seconds or an HTTP date), else Laravel's
// X-RateLimit-Reset (a Unix time).
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return time.Duration(n) * time.Second, true
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0), true
		}
	}
	if v := h.Get("X-RateLimit-Reset"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return max(time.Unix(n, 0).Sub(now), 0), true
		}
	}
	return 0, false
}

// limiter paces requests to Snipe-IT's throttle: a token bucket refilled
// at rate per minute holding at most burst tokens, plus a pause after a
// 429. It is shared by every call of one client.
type limiter struct {
	mu       sync.Mutex
	interval time.Duration // 0: unlimited
	burst    float64
	tokens   float64
	last     time.Time
	until    time.Time // no request before this (after a 429)
	now      func() time.Time
	sleep    func(context.Context, time.Duration) error
}

func newLimiter(perMinute int) *limiter {
	l := &limiter{now: time.Now, sleep: sleepCtx}
	if perMinute > 0 {
		l.interval = time.Minute / time.Duration(perMinute)
		// A small burst: Laravel's window would allow all of a minute's
		// requests at once, but other clients share the same user's budget.
		l.burst = float64(min(max(perMinute/12, 1), 10))
		l.tokens = l.burst
	}
	return l
}

// wait blocks until a request may be sent or ctx ends. While paused after
// a 429 it does not block: it returns at once with the time left, so the
// relay can schedule the retry.
func (l *limiter) wait(ctx context.Context) (time.Duration, error) {
	l.mu.Lock()
	now := l.now()
	if left := l.until.Sub(now); left > 0 {
		l.mu.Unlock()
		return left, fmt.Errorf("snipe-it throttled an earlier request; holding requests for another %v", left.Round(time.Second))
	}
	at := now
	if l.interval > 0 {
		if !l.last.IsZero() {
			l.tokens = min(l.burst, l.tokens+float64(now.Sub(l.last))/float64(l.interval))
		}
		l.last = now
		l.tokens--
		if l.tokens < 0 {
			if t := now.Add(time.Duration(-l.tokens * float64(l.interval))); t.After(at) {
				at = t
			}
		}
	}
	l.mu.Unlock()
	if d := at.Sub(now); d > 0 {
		return 0, l.sleep(ctx, d)
	}
	return 0, ctx.Err()
}

// pause holds every request for d (after a 429).
func (l *limiter) pause(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t := l.now().Add(d); t.After(l.until) {
		l.until = t
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
