// Package webhook delivers outbox events as signed JSON to any URL, for
// districts with their own pipeline.
//
// One event per request: each POST carries one outbox.Event as JSON
// (schema/webhook-event.schema.json), so the receiver
// needs no batch semantics and the Idempotency-Key header names exactly
// what the request changes. A receiver keeps the keys it has applied and
// answers 2xx to a key it already has: tally resends after a timeout or a
// crash, never makes a second change with the same key.
//
// Headers:
//
//	Content-Type:      application/json
//	Idempotency-Key:   the event's key (inventory/item/kind)
//	X-Tally-Event:     the event's kind
//	X-Tally-Timestamp: unix seconds when the request was signed
//	X-Tally-Signature: sha256=hex(HMAC-SHA256(secret, timestamp + "." + body))
//
// Replies: 2xx accepts. 429 and 503 are retried after their Retry-After;
// other 5xx, 408, 409, 425, timeouts and connection errors are retried: soon
// while most requests succeed, after the sink's back-off when they keep
// failing (see package relay). Up to Opts.InFlight requests are in flight.
// 401 and 403 are retried too: a wrong secret or token is fixed in the
// configuration, not by dead-lettering the whole backlog. Other 4xx and 3xx
// are permanent: the event becomes a dead letter with the receiver's message.
//
// Resends come from the relay (after a failure or a crash) and also from
// net/http itself, which retries a request carrying an Idempotency-Key once
// when a reused keep-alive connection turns out to be closed. Both are why
// the receiver must deduplicate on the key.
package webhook

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
	"time"

	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/relay"
)

// Header names.
const (
	HeaderTimestamp   = "X-Tally-Timestamp"
	HeaderSignature   = "X-Tally-Signature"
	HeaderEvent       = "X-Tally-Event"
	HeaderIdempotency = "Idempotency-Key"
)

// Opts configure a Sink.
type Opts struct {
	Name          string        // sink name in status and metrics; default "webhook"
	Secret        []byte        // HMAC key; required
	Timeout       time.Duration // per request
	RatePerMinute int           // requests a minute; 0: no limit
	// InFlight is how many requests may be in flight at once (the relay
	// sends different items in parallel; one item's events in order).
	InFlight int
	Header   http.Header  // extra headers, e.g. Authorization for a gateway
	Client   *http.Client // nil: a client with Timeout that does not follow redirects
	Now      func() time.Time
}

// DefaultOpts: 10 s per request, 4 in flight, no rate limit.
var DefaultOpts = Opts{Name: "webhook", Timeout: 10 * time.Second, InFlight: 4}

// Sink posts events to one URL.
type Sink struct {
	url  string
	opts Opts
}

var (
	_ relay.Sink        = (*Sink)(nil)
	_ relay.RateLimited = (*Sink)(nil)
	_ relay.Concurrent  = (*Sink)(nil)
)

// New makes a sink posting to endpoint.
func New(endpoint string, opts Opts) (*Sink, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("webhook: %q is not an http(s) URL", endpoint)
	}
	if len(opts.Secret) == 0 {
		return nil, errors.New("webhook: no secret: set sync.webhook.secret_file (receivers verify X-Tally-Signature with it)")
	}
	if opts.Name == "" {
		opts.Name = DefaultOpts.Name
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultOpts.Timeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.InFlight <= 0 {
		opts.InFlight = DefaultOpts.InFlight
	}
	if opts.Client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = max(opts.InFlight, tr.MaxIdleConnsPerHost) // keep-alive for every request in flight
		opts.Client = &http.Client{
			Transport: tr,
			Timeout:   opts.Timeout,
			// A redirected POST becomes a GET or loses its body: say so
			// instead of following.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return &Sink{url: endpoint, opts: opts}, nil
}

// Name implements relay.Sink.
func (s *Sink) Name() string { return s.opts.Name }

// RatePerMinute implements relay.RateLimited.
func (s *Sink) RatePerMinute() int { return s.opts.RatePerMinute }

// InFlight implements relay.Concurrent.
func (s *Sink) InFlight() int { return s.opts.InFlight }

// Deliver implements relay.Sink: one request per event, in order. After a
// transient failure the rest of the batch is not sent and is retried with it.
func (s *Sink) Deliver(ctx context.Context, events []outbox.Event) []relay.Outcome {
	out := make([]relay.Outcome, len(events))
	for i, ev := range events {
		out[i] = s.post(ctx, ev)
		if out[i].Verdict == relay.Retry {
			for j := i + 1; j < len(events); j++ {
				out[j] = relay.Outcome{Verdict: relay.Retry,
					Err: fmt.Errorf("%w: an earlier event of the batch failed: %w", relay.ErrNotSent, out[i].Err)}
			}
			break
		}
	}
	return out
}

// Encode is the body and headers of ev's request, signed at now.
func Encode(ev outbox.Event, secret []byte, now time.Time) ([]byte, http.Header, error) {
	ev.CreatedAt = ev.CreatedAt.UTC()
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, nil, fmt.Errorf("encode event %s: %w", ev.Key, err)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "tally-webhook/1")
	h.Set(HeaderIdempotency, ev.Key)
	h.Set(HeaderEvent, string(ev.Kind))
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderSignature, Sign(secret, ts, body))
	return body, h, nil
}

func (s *Sink) post(ctx context.Context, ev outbox.Event) relay.Outcome {
	body, h, err := Encode(ev, s.opts.Secret, s.opts.Now())
	if err != nil {
		return relay.Outcome{Verdict: relay.Reject, Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return relay.Outcome{Verdict: relay.Reject, Err: fmt.Errorf("webhook request: %w", err)}
	}
	for k, v := range s.opts.Header {
		req.Header[k] = v
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return relay.Outcome{Verdict: relay.Retry, Err: fmt.Errorf("webhook %s: %w", ev.Key, err)}
	}
	defer resp.Body.Close()
	// Read a little of the body for the message, and drain up to 64 KiB so
	// the connection can be reused.
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return Classify(resp.StatusCode, resp.Header, msg, s.opts.Now())
}

// Classify turns a reply into a relay outcome (see the package comment).
func Classify(code int, h http.Header, body []byte, now time.Time) relay.Outcome {
	if code >= 200 && code < 300 {
		return relay.Outcome{Verdict: relay.Accept}
	}
	err := fmt.Errorf("receiver answered %d %s%s", code, http.StatusText(code), message(body))
	switch {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		return relay.Outcome{Verdict: relay.Retry, Err: err, RetryAfter: RetryAfter(h.Get("Retry-After"), now)}
	case code >= 500, code == http.StatusRequestTimeout, code == http.StatusConflict, code == http.StatusTooEarly:
		return relay.Outcome{Verdict: relay.Retry, Err: err}
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return relay.Outcome{Verdict: relay.Retry, Err: fmt.Errorf("%w: check sync.webhook.secret_file and the receiver's credentials", err)}
	case code >= 300 && code < 400:
		return relay.Outcome{Verdict: relay.Reject, Err: fmt.Errorf("%w: the URL redirects to %q; configure the final URL", err, h.Get("Location"))}
	}
	return relay.Outcome{Verdict: relay.Reject, Err: err}
}

// message is the receiver's explanation: a JSON "error" or "message" field,
// else the text, shortened.
func message(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return ""
	}
	var j struct {
		Error   any    `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &j) == nil {
		switch e := j.Error.(type) {
		case string:
			if e != "" {
				return ": " + e
			}
		case map[string]any:
			if m, ok := e["message"].(string); ok && m != "" {
				return ": " + m
			}
		}
		if j.Message != "" {
			return ": " + j.Message
		}
	}
	s := strings.Join(strings.Fields(string(body)), " ")
	if r := []rune(s); len(r) > 300 {
		s = string(r[:300]) + "…"
	}
	return ": " + s
}

// RetryAfter parses a Retry-After header: delay seconds or an HTTP date.
// Garbage, negative values and dates in the past give 0 (back off as usual).
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, 24*time.Hour)
		}
	}
	return 0
}
