package koha

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/sync/koha/kohatest"
)

// holdDefinition reads the property names of Koha's hold definition from
// testdata/koha-swagger-holds.txt.
func holdDefinition(t *testing.T) (props map[string]bool, getParams string) {
	t.Helper()
	b, err := os.ReadFile("testdata/koha-swagger-holds.txt")
	if err != nil {
		t.Fatal(err)
	}
	props = map[string]bool{}
	section := ""
	var params strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		if s, ok := strings.CutPrefix(line, "== "); ok {
			section = strings.Fields(s)[0]
			continue
		}
		switch section {
		case "api/v1/swagger/definitions/hold.yaml":
			if strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") && strings.HasSuffix(line, ":") {
				props[strings.TrimSpace(strings.TrimSuffix(line, ":"))] = true
			}
		case "api/v1/swagger/paths/holds.yaml":
			params.WriteString(line + "\n")
		}
	}
	return props, params.String()
}

// TestHoldsSwaggerEvidence: every field FetchHolds reads is in Koha's hold
// definition, the paging it sends is declared for GET /holds, and every
// field the loopback Koha writes is in the definition too (so the test
// server cannot drift from Koha).
func TestHoldsSwaggerEvidence(t *testing.T) {
	props, params := holdDefinition(t)
	if len(props) < 20 {
		t.Fatalf("evidence not read: %v", props)
	}
	for _, f := range []string{"hold_id", "biblio_id", "item_id", "pickup_library_id", "hold_date", "status", "suspended", "cancellation_date"} {
		if !props[f] {
			t.Errorf("FetchHolds reads %s, which Koha's hold definition does not have", f)
		}
	}
	for _, want := range []string{"/holds:\n  get:", "parameters/page", "parameters/per_page", "parameters/order_by"} {
		if !strings.Contains(params, want) {
			t.Errorf("GET /holds evidence lacks %q", want)
		}
	}
	srv := kohatest.New(kohatest.Opts{})
	defer srv.Close()
	it := srv.AddItem(kohatest.Item{Barcode: "B1", Title: "Holes"})
	srv.AddHold(kohatest.Hold{PatronID: 7, ItemID: it.ItemID, Pickup: "MPL", Placed: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)})
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/holds", nil)
	req.SetBasicAuth("tally", "password")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var hs []map[string]any
	if err := json.Unmarshal(body, &hs); err != nil || len(hs) != 1 {
		t.Fatalf("%s: %v", body, err)
	}
	for k := range hs[0] {
		if !props[k] {
			t.Errorf("the loopback Koha writes %s, which the hold definition does not have", k)
		}
	}
}

// FetchHolds against the loopback Koha: pending holds become copies to
// pull (an item-level hold its own copy; a record-level hold one copy on
// the shelf, its pickup library's first), found and suspended holds and
// holds with no copy on the shelf are counted, and a copy held twice is
// listed once with its earliest hold. Two holds per page make it page.
func TestFetchHolds(t *testing.T) {
	srv := kohatest.New(kohatest.Opts{})
	defer srv.Close()
	day := func(s string) time.Time { d, _ := time.Parse("2006-01-02", s); return d }
	hobbit := srv.AddItem(kohatest.Item{Barcode: "H1", Title: "The hobbit", HomeLibrary: "CPL"})
	srv.AddItem(kohatest.Item{BiblioID: hobbit.BiblioID, Barcode: "H2", HomeLibrary: "MPL"})
	srv.AddItem(kohatest.Item{BiblioID: hobbit.BiblioID, Barcode: "H3", HomeLibrary: "MPL"})
	owls := srv.AddItem(kohatest.Item{Barcode: "O1", Title: "Owls"})
	lost := srv.AddItem(kohatest.Item{Barcode: "L1", Title: "Lost", LostStatus: 1})
	out := srv.AddItem(kohatest.Item{Barcode: "C1", Title: "Out"})
	if err := srv.Checkout("C1", 9, day("2026-12-20")); err != nil {
		t.Fatal(err)
	}
	srv.AddHold(kohatest.Hold{PatronID: 1, BiblioID: hobbit.BiblioID, Pickup: "MPL", Placed: day("2026-11-01")})
	srv.AddHold(kohatest.Hold{PatronID: 2, BiblioID: hobbit.BiblioID, Pickup: "FPL", Placed: day("2026-11-02")})
	srv.AddHold(kohatest.Hold{PatronID: 3, ItemID: owls.ItemID, Pickup: "CPL", Placed: day("2026-11-20")})
	srv.AddHold(kohatest.Hold{PatronID: 4, ItemID: owls.ItemID, Pickup: "FPL", Placed: day("2026-11-10")})
	srv.AddHold(kohatest.Hold{PatronID: 5, ItemID: lost.ItemID, Pickup: "CPL"})
	srv.AddHold(kohatest.Hold{PatronID: 6, ItemID: out.ItemID, Pickup: "CPL"})
	srv.AddHold(kohatest.Hold{PatronID: 7, ItemID: hobbit.ItemID, Pickup: "CPL", Status: "W"})
	srv.AddHold(kohatest.Hold{PatronID: 8, BiblioID: owls.BiblioID, Pickup: "CPL", Suspended: true})

	o := DefaultOpts
	o.BaseURL, o.User, o.Password, o.PerPage = srv.URL, "tally", "password", 2
	holds, sk, err := FetchHolds(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range holds {
		got = append(got, fmt.Sprintf("%s %s %s", h.Barcode, h.Pickup, h.Placed))
	}
	// Owls: the item-level holds take O1, the earlier one (FPL) is kept.
	// The hobbit: MPL's hold takes an MPL copy (H2), FPL's the next one (H1).
	want := "O1 FPL 2026-11-10 | H2 MPL 2026-11-01 | H1 FPL 2026-11-02"
	if g := strings.Join(got, " | "); g != want {
		t.Errorf("holds\n got %s\nwant %s", g, want)
	}
	if sk != (HoldsSkipped{Found: 1, Suspended: 1, NoCopy: 2}) {
		t.Errorf("skipped %+v", sk)
	}
	if n := srv.Requests()["GET /holds"]; n != 4 {
		t.Errorf("%d pages of holds read, want 4 (8 holds, 2 a page)", n)
	}
}
