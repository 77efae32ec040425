package snipeit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"sort"
	"strings"
	"time"
)

// Asset is the part of Snipe-IT's asset JSON (its AssetsTransformer) that
// tally uses. Strings are unescaped: Snipe-IT HTML-escapes every string it
// returns (PHP e()), so "Cart &amp; Kit" arrives for "Cart & Kit".
type Asset struct {
	ID          int
	Name        string
	AssetTag    string
	Serial      string
	Model       string
	ModelNumber string
	Category    string
	StatusID    int
	StatusName  string // the status label's name, e.g. "Ready to Deploy"
	StatusType  string // deployable, pending, undeployable or archived
	LocationID  int
	Location    string
	Assigned    *Assignee // nil when not checked out
	LastAudit   time.Time // zero when never audited; wall clock of Snipe-IT's APP_TIMEZONE
	Deleted     bool
}

// Assignee is what an asset is checked out to.
type Assignee struct {
	ID   int
	Name string
	Type string // user, asset or location
}

// APIError is a reply Snipe-IT sent on purpose: HTTP 200 with
// {"status":"error"} (asset not found, validation failed), or a 4xx with a
// JSON body. Messages are Snipe-IT's own words.
type APIError struct {
	HTTPStatus int
	Messages   []string
}

func (e *APIError) Error() string {
	msg := strings.Join(e.Messages, "; ")
	if msg == "" {
		msg = "no message"
	}
	if e.HTTPStatus != 200 {
		return fmt.Sprintf("snipe-it answered HTTP %d: %s", e.HTTPStatus, msg)
	}
	return "snipe-it answered with an error: " + msg
}

// wire types mirror the JSON; every field is optional.
type (
	wireNamed struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	wireStatus struct {
		ID         int    `json:"id"`
		Name       string `json:"name"`
		StatusType string `json:"status_type"`
	}
	wireAssignee struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
		Type string `json:"type"`
	}
	wireAsset struct {
		ID            int           `json:"id"`
		Name          *string       `json:"name"`
		AssetTag      *string       `json:"asset_tag"`
		Serial        *string       `json:"serial"`
		Model         *wireNamed    `json:"model"`
		ModelNumber   *string       `json:"model_number"`
		StatusLabel   *wireStatus   `json:"status_label"`
		Category      *wireNamed    `json:"category"`
		Location      *wireNamed    `json:"location"`
		AssignedTo    *wireAssignee `json:"assigned_to"`
		LastAuditDate *wireDate     `json:"last_audit_date"`
		DeletedAt     *wireDate     `json:"deleted_at"`
	}
	// wireReply is any reply: an asset, a list, or a status envelope.
	wireReply struct {
		wireAsset
		Status   *string         `json:"status"`
		Messages json.RawMessage `json:"messages"`
		Payload  json.RawMessage `json:"payload"`
		Total    *int            `json:"total"`
		Rows     json.RawMessage `json:"rows"`
		Error    *string         `json:"error"`   // Laravel's 401 body
		Message  *string         `json:"message"` // Laravel's default error body
	}
)

// wireDate is Snipe-IT's date object {"datetime": "2006-01-02 15:04:05",
// "formatted": …} or {"date": "2006-01-02", …}; older versions send a bare
// string. Raw keeps whichever text was sent.
type wireDate struct{ Raw string }

func (d *wireDate) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		return nil
	case len(b) > 0 && b[0] == '"':
		return json.Unmarshal(b, &d.Raw)
	}
	var o struct {
		Datetime *string `json:"datetime"`
		Date     *string `json:"date"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	if o.Datetime != nil {
		d.Raw = *o.Datetime
	} else if o.Date != nil {
		d.Raw = *o.Date
	}
	return nil
}

// maxBody bounds what is read of one reply: a 500-asset page is about
// 1.5 MB.
const maxBody = 16 << 20

// decodeReply parses a reply body; errors say where the JSON went wrong.
func decodeReply(body []byte) (*wireReply, error) {
	var r wireReply
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, jsonError(body, err)
	}
	return &r, nil
}

func jsonError(body []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case len(bytes.TrimSpace(body)) == 0:
		return errors.New("empty reply where JSON was expected; is the URL Snipe-IT's API?")
	case errors.As(err, &se):
		return fmt.Errorf("reply is not JSON (byte %d: %v; starts %q); is the URL Snipe-IT's API, and is no proxy or login page in the way?", se.Offset, se, head(body))
	case errors.As(err, &te):
		return fmt.Errorf("reply has %s where %s was expected for %q (byte %d); is this a Snipe-IT version tally knows?", te.Value, te.Type, strings.TrimPrefix(te.Field, "wireAsset."), te.Offset)
	}
	return fmt.Errorf("reply is not Snipe-IT JSON: %w", err)
}

func head(b []byte) string {
	if len(b) > 40 {
		b = b[:40]
	}
	return string(b)
}

// apiError returns the reply's error, if it is one: {"status":"error"}, or
// Laravel's {"error"}/{"message"} bodies.
func (r *wireReply) apiError(httpStatus int) *APIError {
	if r.Status != nil && *r.Status != "error" && httpStatus < 300 {
		return nil
	}
	if r.Status == nil && r.Error == nil && (r.Message == nil || httpStatus < 300) {
		return nil
	}
	e := &APIError{HTTPStatus: httpStatus, Messages: decodeMessages(r.Messages)}
	if r.Error != nil {
		e.Messages = append(e.Messages, html.UnescapeString(*r.Error))
	}
	if r.Message != nil {
		e.Messages = append(e.Messages, html.UnescapeString(*r.Message))
	}
	return e
}

// decodeMessages flattens Snipe-IT's "messages": a string, a list, or
// validation errors {"field": ["text", …]} (sorted by field).
func decodeMessages(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return nil
		}
		return []string{html.UnescapeString(s)}
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		var out []string
		for _, m := range list {
			out = append(out, decodeMessages(m)...)
		}
		return out
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) == nil {
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []string
		for _, k := range keys {
			for _, m := range decodeMessages(fields[k]) {
				out = append(out, k+": "+m)
			}
		}
		return out
	}
	if string(raw) == "null" {
		return nil
	}
	return []string{string(raw)}
}

// decodeAsset reads the reply to GET /hardware/bytag/{tag} or
// /hardware/{id}: an asset, {"status":"error"} (as *APIError), or a list
// when several assets share the tag.
func decodeAsset(body []byte, zone *time.Location) (*Asset, error) {
	r, err := decodeReply(body)
	if err != nil {
		return nil, err
	}
	if e := r.apiError(200); e != nil {
		return nil, e
	}
	if r.Rows != nil {
		rows, _, err := decodeRows(r, zone)
		if err != nil {
			return nil, err
		}
		var live []Asset
		for _, a := range rows {
			if !a.Deleted {
				live = append(live, a)
			}
		}
		if len(live) != 1 {
			return nil, &APIError{HTTPStatus: 200, Messages: []string{fmt.Sprintf("%d assets have this tag; tally needs it to name exactly one", len(live))}}
		}
		return &live[0], nil
	}
	a, err := r.wireAsset.asset(zone)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// decodePage reads the reply to GET /hardware: {"total": n, "rows": […]}.
func decodePage(body []byte, zone *time.Location) ([]Asset, int, error) {
	r, err := decodeReply(body)
	if err != nil {
		return nil, 0, err
	}
	if e := r.apiError(200); e != nil {
		return nil, 0, e
	}
	if r.Rows == nil || r.Total == nil {
		return nil, 0, fmt.Errorf("reply has no \"total\" and \"rows\" (starts %q); is the URL Snipe-IT's asset list?", head(body))
	}
	return decodeRows(r, zone)
}

func decodeRows(r *wireReply, zone *time.Location) ([]Asset, int, error) {
	var rows []wireAsset
	if err := json.Unmarshal(r.Rows, &rows); err != nil {
		return nil, 0, fmt.Errorf("rows: %w", jsonError(r.Rows, err))
	}
	total := len(rows)
	if r.Total != nil {
		total = *r.Total
	}
	if total < 0 {
		return nil, 0, fmt.Errorf("reply has a negative total (%d)", total)
	}
	out := make([]Asset, 0, len(rows))
	for i, w := range rows {
		a, err := w.asset(zone)
		if err != nil {
			return nil, 0, fmt.Errorf("row %d: %w", i, err)
		}
		out = append(out, a)
	}
	return out, total, nil
}

// decodeResult reads the reply to an audit or an update:
// {"status":"success"} or an *APIError.
func decodeResult(body []byte) error {
	r, err := decodeReply(body)
	if err != nil {
		return err
	}
	if e := r.apiError(200); e != nil {
		return e
	}
	if r.Status == nil || *r.Status != "success" {
		return fmt.Errorf("reply has no \"status\":\"success\" (starts %q); is this a Snipe-IT version tally knows?", head(body))
	}
	return nil
}

// decodeLocation reads GET /locations/{id}.
func decodeLocation(body []byte) (wireNamed, error) {
	r, err := decodeReply(body)
	if err != nil {
		return wireNamed{}, err
	}
	if e := r.apiError(200); e != nil {
		return wireNamed{}, e
	}
	if r.ID <= 0 {
		return wireNamed{}, fmt.Errorf("reply has no location id (starts %q)", head(body))
	}
	return wireNamed{ID: r.ID, Name: html.UnescapeString(deref(r.Name))}, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (w *wireAsset) asset(zone *time.Location) (Asset, error) {
	if w.ID <= 0 {
		return Asset{}, fmt.Errorf("asset has no id (got %d)", w.ID)
	}
	un := func(s *string) string { return html.UnescapeString(deref(s)) }
	a := Asset{ID: w.ID, Name: un(w.Name), AssetTag: un(w.AssetTag), Serial: un(w.Serial), ModelNumber: un(w.ModelNumber)}
	if w.Model != nil {
		a.Model = html.UnescapeString(w.Model.Name)
	}
	if w.Category != nil {
		a.Category = html.UnescapeString(w.Category.Name)
	}
	if w.StatusLabel != nil {
		a.StatusID, a.StatusName, a.StatusType = w.StatusLabel.ID, html.UnescapeString(w.StatusLabel.Name), w.StatusLabel.StatusType
	}
	if w.Location != nil {
		a.LocationID, a.Location = w.Location.ID, html.UnescapeString(w.Location.Name)
	}
	if w.AssignedTo != nil {
		a.Assigned = &Assignee{ID: w.AssignedTo.ID, Name: html.UnescapeString(w.AssignedTo.Name), Type: w.AssignedTo.Type}
	}
	if w.LastAuditDate != nil && w.LastAuditDate.Raw != "" {
		t, err := parseSnipeTime(w.LastAuditDate.Raw, zone)
		if err != nil {
			return Asset{}, fmt.Errorf("asset %d: last_audit_date: %w", w.ID, err)
		}
		a.LastAudit = t
	}
	a.Deleted = w.DeletedAt != nil && w.DeletedAt.Raw != ""
	return a, nil
}

// parseSnipeTime reads "2006-01-02 15:04:05" or "2006-01-02" in Snipe-IT's
// zone.
func parseSnipeTime(s string, zone *time.Location) (time.Time, error) {
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, zone); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (want YYYY-MM-DD HH:MM:SS)", head([]byte(s)))
}
