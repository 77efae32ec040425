// Package snipeit delivers equipment inventory results to Snipe-IT as asset
// audits, and imports cart manifests (the assets checked out to each cart).
//
// The contract, as Snipe-IT implements it (snipe/snipe-it, routes/api.php
// and Api/AssetsController): bearer-token auth with Accept:
// application/json; GET /api/v1/hardware/bytag/{tag}; POST
// /api/v1/hardware/audit with asset_tag in the body, the one audit route
// every release from v6.0 to v8.1.x has (v8.1.0 added POST
// /api/v1/hardware/{id}/audit and kept this one as "legacy"; see
// testdata/audit-routes.txt) — should a later release drop it, the sink
// finds the 404 once and uses the per-asset route from then on; errors such
// as an unknown asset come back as HTTP 200 with
// {"status":"error","messages":…}; every route is throttled to
// API_THROTTLE_PER_MINUTE (120 by default).
//
// An audit is not idempotent: every call adds an audit row to the asset's
// history. So the sink looks the asset up first (it needs the id for the
// audit route anyway) and audits only when Snipe-IT's last_audit_date is
// before the day of the scan: a resend after a crash, or a second event for
// the same asset, makes no second audit.
package snipeit

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/relay"
)

// Opts configures the sink and FetchCarts. Start from DefaultOpts.
type Opts struct {
	// Name is the sink's name in metrics and status pages; "" is "snipeit".
	Name string
	// BaseURL is Snipe-IT's address, e.g. https://assets.example.org; the
	// /api/v1 prefix is added when missing.
	BaseURL string
	// Token is a personal access token (Bearer). TokenFile, read when Token
	// is empty, keeps it out of the config file; after a 401 the file is
	// read again so a rotated token is picked up.
	Token     string
	TokenFile string
	// RatePerMinute paces requests (each audit is a lookup and a POST);
	// match the server's API_THROTTLE_PER_MINUTE. 0 means 120; negative
	// means no pacing.
	RatePerMinute int
	// LocationID, when non-zero, is sent with each audit as the location
	// where the asset was seen; with UpdateLocation the asset is also moved
	// there.
	LocationID     int
	UpdateLocation bool
	// MissingStatusID, when non-zero, is the status label set on assets
	// reported missing (missing, cart_missing). Snipe-IT has no "missing"
	// audit, so by default those events are skipped.
	MissingStatusID int
	// Timeout bounds one HTTP request.
	Timeout time.Duration
	// Zone is Snipe-IT's APP_TIMEZONE, in which it reports dates; nil is
	// UTC (Snipe-IT's default).
	Zone *time.Location
	// Equipment reports whether a barcode is an asset tracked in Snipe-IT;
	// other events are skipped. nil treats every event as equipment, so a
	// book's barcode would come back as "Asset does not exist" (rejected).
	Equipment func(barcode string) bool
	// HTTPClient replaces the default client (one with Timeout).
	HTTPClient *http.Client

	// Carts for FetchCarts: asset tags of cart assets, a category whose
	// assets are all carts, and locations used as carts. Devices are the
	// assets checked out to a cart.
	CartTags        []string
	CartCategoryID  int
	CartLocationIDs []int
	// PageSize is the limit of each page of GET /hardware; Snipe-IT caps it
	// at MAX_RESULTS (500 by default).
	PageSize int
}

// DefaultOpts are Snipe-IT's defaults: 120 requests a minute, UTC.
var DefaultOpts = Opts{
	Name:          "snipeit",
	RatePerMinute: 120,
	Timeout:       15 * time.Second,
	PageSize:      500,
}

// Sink audits equipment in Snipe-IT. It implements relay.Sink.
type Sink struct {
	o Opts
	c *client
	// perAsset: the legacy audit route answered 404, so audits go to
	// POST /hardware/{id}/audit.
	perAsset atomic.Bool
}

var _ relay.Sink = (*Sink)(nil)

// New validates o and returns a sink. It makes no network requests; it
// reads TokenFile if set.
func New(o Opts) (*Sink, error) {
	if err := fill(&o); err != nil {
		return nil, err
	}
	c, err := newClient(&o)
	if err != nil {
		return nil, err
	}
	return &Sink{o: o, c: c}, nil
}

func fill(o *Opts) error {
	if o.Name == "" {
		o.Name = DefaultOpts.Name
	}
	if o.RatePerMinute == 0 {
		o.RatePerMinute = DefaultOpts.RatePerMinute
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultOpts.Timeout
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultOpts.PageSize
	}
	if o.LocationID < 0 || o.MissingStatusID < 0 || o.CartCategoryID < 0 {
		return errors.New("snipeit: location, status and category ids must be positive (or 0 for none)")
	}
	if o.UpdateLocation && o.LocationID == 0 {
		return errors.New("snipeit: UpdateLocation needs LocationID: the Snipe-IT location id to move audited assets to")
	}
	return nil
}

// Name implements relay.Sink.
func (s *Sink) Name() string { return s.o.Name }

// RateLimit is the request rate the sink keeps to (n requests per period),
// so the relay can size batches and schedule; 0 means unlimited. An audit
// costs two requests (lookup and POST); one already audited costs one.
func (s *Sink) RateLimit() (n int, per time.Duration) {
	return max(s.o.RatePerMinute, 0), time.Minute
}

// job is one asset's events in a batch: they share one lookup and at most
// one audit (or status change).
type job struct {
	tag     string
	missing bool
	idx     []int
	p       []outbox.Data
}

// Deliver implements relay.Sink. Events for the same asset in one batch
// share one lookup and one audit whose note names them all. After a
// failure that would repeat (network down, 429, bad token) the rest of the
// batch gets the same verdict without being tried.
func (s *Sink) Deliver(ctx context.Context, events []outbox.Event) []relay.Outcome {
	out := make([]relay.Outcome, len(events))
	var jobs []*job
	byTag := map[string]*job{}
	for i, ev := range events {
		p := ev.Data
		var missing bool
		switch ev.Kind {
		case outbox.Seen, outbox.Found, outbox.CartForeign:
		case outbox.Missing, outbox.CartMissing:
			if s.o.MissingStatusID == 0 {
				out[i] = relay.Outcome{Verdict: relay.Skip}
				continue
			}
			missing = true
		default:
			out[i] = relay.Outcome{Verdict: relay.Skip}
			continue
		}
		if s.o.Equipment != nil && !s.o.Equipment(ev.Barcode) {
			out[i] = relay.Outcome{Verdict: relay.Skip}
			continue
		}
		tag := ev.Barcode
		if p.AssetTag != "" {
			tag = p.AssetTag
		}
		tag = strings.TrimSpace(tag)
		if tag == "" {
			out[i] = relay.Outcome{Verdict: relay.Reject, Err: fmt.Errorf("snipeit: event %d (%s) has no asset tag", ev.ID, ev.Kind)}
			continue
		}
		key := strings.ToUpper(tag) + "\x00" + strconv.FormatBool(missing)
		j := byTag[key]
		if j == nil {
			j = &job{tag: tag, missing: missing}
			byTag[key] = j
			jobs = append(jobs, j)
		}
		j.idx = append(j.idx, i)
		j.p = append(j.p, p)
	}
	var halt *relay.Outcome
	for _, j := range jobs {
		if halt == nil && ctx.Err() != nil {
			halt = &relay.Outcome{Verdict: relay.Retry, Err: fmt.Errorf("snipeit: stopped before delivery: %w", ctx.Err())}
		}
		if halt != nil {
			for _, i := range j.idx {
				out[i] = *halt
			}
			continue
		}
		var done []bool // per event of the job: already true upstream
		var err error
		if j.missing {
			err = s.markMissing(ctx, j)
		} else {
			done, err = s.audit(ctx, events, j)
		}
		o := relay.Outcome{Verdict: relay.Accept}
		if err != nil {
			o = relay.Outcome{Verdict: relay.Reject, Err: err}
			var ce *callError
			if errors.As(err, &ce) {
				o.Verdict, o.RetryAfter = ce.verdict, ce.retryAfter
				if ce.halt {
					h := o
					halt = &h
				}
			}
		}
		for k, i := range j.idx {
			if k < len(done) && done[k] {
				out[i] = relay.Outcome{Verdict: relay.Accept}
				continue
			}
			out[i] = o
		}
	}
	return out
}

// lookup finds an asset by tag (GET /hardware/bytag/{tag}).
func (s *Sink) lookup(ctx context.Context, tag string) (*Asset, error) {
	b, err := s.c.do(ctx, http.MethodGet, "/hardware/bytag/"+escapeTag(tag), nil, nil)
	if err != nil {
		return nil, err
	}
	a, err := decodeAsset(b, s.c.zone)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) {
			return nil, &callError{verdict: relay.Reject, err: fmt.Errorf("snipeit: asset tag %q: %w", tag, err)}
		}
		// Unreadable: perhaps a proxy page. The lookup changes nothing,
		// so a retry is safe.
		return nil, retry(fmt.Errorf("snipeit: asset tag %q: %w", tag, err), 0)
	}
	return a, nil
}

// audit audits the job's asset unless Snipe-IT already has an audit on or
// after the day of each event. done marks the events that needed no audit.
func (s *Sink) audit(ctx context.Context, events []outbox.Event, j *job) (done []bool, err error) {
	a, err := s.lookup(ctx, j.tag)
	if err != nil {
		return nil, err
	}
	done = make([]bool, len(j.idx))
	var pending []int
	lastDay := ""
	if !a.LastAudit.IsZero() {
		lastDay = a.LastAudit.Format(time.DateOnly)
	}
	for k, i := range j.idx {
		if lastDay != "" && lastDay >= s.eventDay(events[i], j.p[k]) {
			done[k] = true
			continue
		}
		pending = append(pending, k)
	}
	if len(pending) == 0 {
		return done, nil
	}
	body := map[string]any{"note": s.note(events, j, pending)}
	if s.o.LocationID != 0 {
		body["location_id"] = s.o.LocationID
		if s.o.UpdateLocation {
			body["update_location"] = "1"
		}
	}
	b, err := s.postAudit(ctx, a, j.tag, body)
	if err != nil {
		return done, err
	}
	if err := decodeResult(b); err != nil {
		var ae *APIError
		if errors.As(err, &ae) {
			return done, &callError{verdict: relay.Reject, err: fmt.Errorf("snipeit: audit of %q (asset %d): %w", j.tag, a.ID, err)}
		}
		// The audit may have happened; the next try looks first.
		return done, retry(fmt.Errorf("snipeit: audit of %q (asset %d): %w", j.tag, a.ID, err), 0)
	}
	return done, nil
}

// postAudit posts an audit on the legacy route, which every release has,
// or — once that answered 404 — on the per-asset route of v8.1.0 and later.
// A 404 there means this Snipe-IT has no audit route tally knows: the base
// URL is right (the lookup just worked through it).
func (s *Sink) postAudit(ctx context.Context, a *Asset, tag string, body map[string]any) ([]byte, error) {
	if a.AssetTag != "" {
		tag = a.AssetTag // Snipe-IT's own spelling
	}
	if !s.perAsset.Load() {
		legacy := make(map[string]any, len(body)+1)
		maps.Copy(legacy, body)
		legacy["asset_tag"] = tag
		b, err := s.c.do(ctx, http.MethodPost, "/hardware/audit", nil, legacy)
		if !notFound(err) {
			return b, err
		}
		s.perAsset.Store(true)
	}
	b, err := s.c.do(ctx, http.MethodPost, "/hardware/"+strconv.Itoa(a.ID)+"/audit", nil, body)
	if notFound(err) {
		return nil, &callError{verdict: relay.Reject, halt: true, status: http.StatusNotFound, err: fmt.Errorf(
			"snipeit: audit of %q: this Snipe-IT answers 404 to both audit routes, POST /api/v1/hardware/audit (v6.0 to v8.1.x) and POST /api/v1/hardware/{id}/audit (v8.1.0 and later): tally knows no other way to audit on this version", tag)}
	}
	return b, err
}

func notFound(err error) bool {
	var ce *callError
	return errors.As(err, &ce) && ce.status == http.StatusNotFound
}

// eventDay is the scan's day in Snipe-IT's zone, the unit of "already
// audited": the scan time when known, else the payload's date, else when
// the outbox row was written.
func (s *Sink) eventDay(ev outbox.Event, p outbox.Data) string {
	if t, err := time.Parse(time.RFC3339, p.At); err == nil {
		return t.In(s.c.zone).Format(time.DateOnly)
	}
	if _, err := time.Parse(time.DateOnly, p.Date); err == nil {
		return p.Date
	}
	if !ev.CreatedAt.IsZero() {
		return ev.CreatedAt.In(s.c.zone).Format(time.DateOnly)
	}
	return s.c.lim.now().In(s.c.zone).Format(time.DateOnly)
}

// note is the audit note: which inventory saw the asset, and why.
func (s *Sink) note(events []outbox.Event, j *job, pending []int) string {
	var what []string
	first := j.p[pending[0]]
	for _, k := range pending {
		p := j.p[k]
		switch events[j.idx[k]].Kind {
		case outbox.Seen:
			what = append(what, "seen")
		case outbox.Found:
			w := "found"
			if p.Was != "" {
				w += " (was " + strings.ReplaceAll(p.Was, "_", " ") + ")"
			}
			what = append(what, w)
		case outbox.CartForeign:
			w := "found in cart " + orDash(p.Cart)
			if p.HomeCart != "" {
				w += ", belongs in cart " + p.HomeCart
			}
			what = append(what, w)
		}
	}
	n := "tally"
	if first.Inventory != "" {
		n += " inventory " + strconv.Quote(first.Inventory)
	}
	if d := s.eventDay(events[j.idx[pending[0]]], first); d != "" {
		n += " " + d
	}
	n += ": " + strings.Join(what, "; ")
	if first.Device != "" {
		n += " (device " + first.Device + ")"
	}
	return n
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// markMissing sets MissingStatusID on the asset unless it already has it.
// Setting a field is safe to repeat.
func (s *Sink) markMissing(ctx context.Context, j *job) error {
	a, err := s.lookup(ctx, j.tag)
	if err != nil {
		return err
	}
	if a.StatusID == s.o.MissingStatusID {
		return nil
	}
	b, err := s.c.do(ctx, http.MethodPatch, "/hardware/"+strconv.Itoa(a.ID), nil, map[string]any{"status_id": s.o.MissingStatusID})
	if err != nil {
		return err
	}
	if err := decodeResult(b); err != nil {
		var ae *APIError
		if errors.As(err, &ae) {
			return &callError{verdict: relay.Reject, err: fmt.Errorf("snipeit: set status %d on %q (asset %d): %w", s.o.MissingStatusID, j.tag, a.ID, err)}
		}
		return retry(fmt.Errorf("snipeit: set status on %q (asset %d): %w", j.tag, a.ID, err), 0)
	}
	return nil
}

// escapeTag escapes a tag for the bytag route, whose {any} parameter
// matches across slashes, segment by segment.
func escapeTag(tag string) string {
	parts := strings.Split(tag, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}
