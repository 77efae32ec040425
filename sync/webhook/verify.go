package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far a request's timestamp may be from the
// receiver's clock: it bounds replays of a captured request, and allows for
// clocks that differ a little.
const DefaultTolerance = 5 * time.Minute

// MaxBody bounds the body VerifyRequest reads.
const MaxBody = 1 << 20

// Errors from Verify; match them with errors.Is.
var (
	ErrNoSignature  = errors.New("no signature")
	ErrBadSignature = errors.New("signature does not match")
	ErrStale        = errors.New("timestamp outside the tolerance")
)

// Sign is the X-Tally-Signature value for a body sent at timestamp (unix
// seconds, as in X-Tally-Timestamp).
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a request's signature against the receiver's clock with
// DefaultTolerance. Receivers call it with the raw body, before decoding.
func Verify(secret []byte, timestamp string, body []byte, signature string) error {
	return VerifyAt(secret, timestamp, body, signature, time.Now(), DefaultTolerance)
}

// VerifyAt is Verify at a given time and tolerance.
func VerifyAt(secret []byte, timestamp string, body []byte, signature string, now time.Time, tolerance time.Duration) error {
	if signature == "" {
		return fmt.Errorf("webhook: %w: the %s header is missing", ErrNoSignature, HeaderSignature)
	}
	ts, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil || ts <= 0 {
		return fmt.Errorf("webhook: %w: %s %q is not unix seconds", ErrStale, HeaderTimestamp, clip(timestamp))
	}
	// The signature is checked before the time, so a forger learns nothing
	// from the order of errors; both are checked before the body is trusted.
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(signature), "sha256=")
	if !ok {
		return fmt.Errorf("webhook: %w: %s must start with \"sha256=\"", ErrBadSignature, HeaderSignature)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("webhook: %w: %s is not 64 hex digits", ErrBadSignature, HeaderSignature)
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strings.TrimSpace(timestamp)))
	m.Write([]byte{'.'})
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return fmt.Errorf("webhook: %w (is the secret the same on both sides?)", ErrBadSignature)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("webhook: %w: signed %s ago, tolerance %s (check both clocks)", ErrStale, d.Round(time.Second), tolerance)
	}
	return nil
}

// VerifyRequest reads r's body (up to MaxBody) and verifies it; it returns
// the body for decoding.
func VerifyRequest(r *http.Request, secret []byte) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("webhook: read body: %w", err)
	}
	if len(body) > MaxBody {
		return nil, fmt.Errorf("webhook: body larger than %d bytes", MaxBody)
	}
	if err := Verify(secret, r.Header.Get(HeaderTimestamp), body, r.Header.Get(HeaderSignature)); err != nil {
		return nil, err
	}
	return body, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
