package koha

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/sync/koha/kohatest"
	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/relay"
)

// swaggerProp is one property of Koha's item definition.
type swaggerProp struct{ types, format string }

// readSwagger reads testdata/koha-swagger.txt: the item properties and
// the /items GET parameters, by section.
func readSwagger(t *testing.T) (props map[string]swaggerProp, closed bool, listParams string) {
	t.Helper()
	f, err := os.Open("testdata/koha-swagger.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	props = map[string]swaggerProp{}
	section, cur := "", ""
	var params strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if s, ok := strings.CutPrefix(line, "== "); ok {
			section = strings.Fields(s)[0]
			continue
		}
		switch section {
		case "api/v1/swagger/definitions/item.yaml":
			trim := strings.TrimSpace(line)
			switch {
			case line == "additionalProperties: false":
				closed = true
			case strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") && strings.HasSuffix(trim, ":"):
				cur = strings.TrimSuffix(trim, ":")
				props[cur] = swaggerProp{}
			case strings.HasPrefix(trim, "type: "):
				p := props[cur]
				p.types = strings.TrimPrefix(trim, "type: ")
				props[cur] = p
			case strings.HasPrefix(trim, "- ") && cur != "":
				p := props[cur]
				p.types += strings.Trim(strings.TrimPrefix(trim, "- "), `"`) + " "
				props[cur] = p
			case strings.HasPrefix(trim, "format: "):
				p := props[cur]
				p.format = strings.TrimPrefix(trim, "format: ")
				props[cur] = p
			}
		case "api/v1/swagger/paths/items.yaml":
			params.WriteString(line + "\n")
		}
	}
	return props, closed, params.String()
}

// TestSwaggerEvidence: what the sink sends fits Koha's OpenAPI description
// (testdata/koha-swagger.txt), and the loopback Koha refuses what Koha's
// validator would: a last_seen_date that is not a date-time, a lost_status
// that is not an integer, a property the item definition lacks.
func TestSwaggerEvidence(t *testing.T) {
	props, closed, listParams := readSwagger(t)
	if !closed || props["last_seen_date"].format != "date-time" || !strings.Contains(props["lost_status"].types, "integer") {
		t.Fatalf("evidence not read: %v closed=%v", props, closed)
	}
	// The lookup's parameters are declared for GET /items.
	for _, want := range []string{"parameters/match", "parameters/per_page", "parameters/q_param", "- biblio"} {
		if !strings.Contains(listParams, want) {
			t.Errorf("GET /items evidence lacks %q", want)
		}
	}

	f := newFixture(t, kohatest.Opts{}, nil)
	f.srv.AddItem(kohatest.Item{Barcode: "31234000111111", Title: "Holes", HomeLibrary: "MAIN", HoldingLibrary: "MAIN"})
	lostAt := map[string]any{"date": "2027-03-01", "lost_value": 4, "since": "2027-02-01T00:00:00Z"}
	f.srv.AddItem(kohatest.Item{Barcode: "31234000222222", Title: "Wonder", HomeLibrary: "MAIN", HoldingLibrary: "MAIN"})
	f.deliver([]outbox.Event{seenEv("31234000111111", "2027-03-01T10:15:00Z"), event("missing", "31234000222222", lostAt)}, relay.Accept, relay.Accept)
	changes := f.srv.Changes()
	if len(changes) != 2 {
		t.Fatalf("changes %+v: want the sighting and the missing item", changes)
	}
	// Every field the sink changed is in the item definition, with its type
	// and format.
	for _, c := range changes {
		for _, fc := range c.Fields {
			p, ok := props[fc.Name]
			if !ok {
				t.Errorf("%s: the sink sent %s, which Koha's item definition does not have", c.Request, fc.Name)
				continue
			}
			if p.format == "date-time" && fc.New != "" {
				if _, err := time.Parse(time.RFC3339, fc.New); err != nil {
					t.Errorf("%s: %s = %q is not a date-time", c.Request, fc.Name, fc.New)
				}
			}
		}
	}

	// The loopback Koha refuses what the description forbids.
	it, _ := f.srv.Item("31234000111111")
	path := fmt.Sprintf("%s/api/v1/biblios/%d/items/%d", f.srv.URL, it.BiblioID, it.ItemID)
	for _, body := range []string{
		`{"last_seen_date":"2027-03-01"}`,        // format date-time, not date
		`{"lost_status":"4"}`,                    // type integer
		`{"datelastseen":"2027-03-01 10:15:00"}`, // additionalProperties: false
	} {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPut, path, strings.NewReader(body))
		req.SetBasicAuth("tally", "password")
		req.Header.Set("Content-Type", "application/json")
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("PUT %s: %d %s, want 400 as Koha's validator answers", body, resp.StatusCode, msg)
		}
	}
}
