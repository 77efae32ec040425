package snipeit

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Replies as Snipe-IT sends them (AssetsTransformer, formatStandardApiResponse,
// the exception handler), plus the bodies of proxies and login pages.
var replySeeds = []string{
	`{"id":11,"name":"Chromebook 1","asset_tag":"DAB-0101","serial":"SN1","model":{"id":3,"name":"Chromebook 3110"},"status_label":{"id":1,"name":"Ready to Deploy","status_type":"deployable","status_meta":"deployed"},"category":{"id":3,"name":"Laptops"},"location":null,"assigned_to":{"id":1,"name":"Cart 1","type":"asset"},"last_audit_date":{"datetime":"2024-03-04 15:00:00","formatted":"Mon Mar 04, 2024 3:00PM"},"next_audit_date":{"date":"2025-03-04","formatted":"Tue Mar 04, 2025"},"deleted_at":null,"custom_fields":{}}`,
	`{"status":"error","messages":"Asset does not exist.","payload":null}`,
	`{"status":"error","messages":{"location_id":["The selected location id is invalid."]},"payload":null}`,
	`{"status":"success","messages":"Asset audit successfully logged.","payload":{"id":11,"asset_tag":"DAB-0101","note":"n","next_audit_date":{"date":"2025-03-04","formatted":"x"}}}`,
	`{"total":2,"rows":[{"id":1,"asset_tag":"A &amp; B"},{"id":2,"asset_tag":"C","deleted_at":{"datetime":"2024-01-01 00:00:00"}}]}`,
	`{"error":"Unauthorized or unauthenticated."}`,
	`{"id":5,"last_audit_date":"2024-03-04"}`,
	`{"id":5,"last_audit_date":{"datetime":"yesterday"}}`,
	`<html><body>502 Bad Gateway</body></html>`,
	``,
	`{"total":-1,"rows":[]}`,
	`{"status":"error","messages":["a",{"b":["c"]},null,3]}`,
}

// FuzzDecodeReply feeds any bytes to every reply decoder: no panics, and
// a decoded asset always has an id.
func FuzzDecodeReply(f *testing.F) {
	for _, s := range replySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if a, err := decodeAsset(b, time.UTC); err == nil {
			if a.ID <= 0 {
				t.Errorf("decoded asset without an id: %+v", a)
			}
		} else if err.Error() == "" {
			t.Error("empty error")
		}
		if rows, total, err := decodePage(b, time.UTC); err == nil {
			if total < 0 {
				t.Errorf("negative total %d", total)
			}
			for _, a := range rows {
				if a.ID <= 0 {
					t.Errorf("row without an id: %+v", a)
				}
			}
		}
		_ = decodeResult(b)
		_, _ = decodeLocation(b)
		_ = decodeMessages(b)
	})
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		body, want string
	}{
		{`<html>`, "reply is not JSON (byte 1"},
		{``, "empty reply"},
		{`{"id":"x"}`, `reply has string where int was expected for "id"`},
		{`{"id":5,"last_audit_date":{"datetime":"yesterday"}}`, `last_audit_date: "yesterday" is not a date`},
		{`{"status":"error","messages":{"b":["2"],"a":["1","3"]}}`, "a: 1; a: 3; b: 2"},
		{`{"total":3,"rows":[{"id":1},{"id":2}]}`, "2 assets have this tag"},
		{`{"name":"no id"}`, "asset has no id"},
	} {
		_, err := decodeAsset([]byte(tc.body), time.UTC)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("decodeAsset(%s) = %v, want %q", tc.body, err, tc.want)
		}
	}
	if err := decodeResult([]byte(`{"id":1}`)); err == nil || !strings.Contains(err.Error(), `no "status":"success"`) {
		t.Errorf("decodeResult of an asset: %v", err)
	}
	var ae *APIError
	if err := decodeResult([]byte(`{"status":"error","messages":"Asset not found","payload":null}`)); !errors.As(err, &ae) || ae.Messages[0] != "Asset not found" {
		t.Errorf("decodeResult of an error: %v", err)
	}
	if _, _, err := decodePage([]byte(`{"id":1}`), time.UTC); err == nil || !strings.Contains(err.Error(), `no "total" and "rows"`) {
		t.Errorf("decodePage of an asset: %v", err)
	}
	a, err := decodeAsset([]byte(replySeeds[0]), time.UTC)
	if err != nil || a.AssetTag != "DAB-0101" || a.Assigned == nil || a.Assigned.Type != "asset" || a.StatusType != "deployable" ||
		!a.LastAudit.Equal(time.Date(2024, 3, 4, 15, 0, 0, 0, time.UTC)) {
		t.Errorf("decodeAsset = %+v, %v", a, err)
	}
}
