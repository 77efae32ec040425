package web

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
)

// The collection report page: linked from an inventory's reports, drawn
// with its two SVG charts inside the layout (no inline style, so the CSP
// holds), and downloadable as CSV with the inventory's missing items.
func TestCollectionPage(t *testing.T) {
	e := newEnv(t, Opts{Token: secretTok})
	for _, code := range []string{"F1", "F2", "F5"} {
		e.read(t, e.sess, code)
	}
	c := newClient(t, e.s)
	c.get("/login")
	if w := c.postForm("/login", form("token", secretTok, "csrf", c.token(), "next", "/")); w.Code != http.StatusSeeOther {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	if w := c.get("/inventories/1/reports"); !strings.Contains(w.Body.String(), `href="/reports/collection?inventory=1"`) {
		t.Errorf("reports page has no link to the collection report")
	}
	w := c.get("/reports/collection?inventory=1&at=2027-01-15")
	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("GET collection: %d\n%s", w.Code, body)
	}
	for _, s := range []string{"Collection report — Fiction 2027", "Median age (years)", "Share older than 20 years", "Fiction", "Equipment", "Replacement value", `value="2027-01-15"`} {
		if !strings.Contains(body, s) {
			t.Errorf("no %q in the page", s)
		}
	}
	if n := strings.Count(body, `<svg viewBox="0 0 640`); n != 2 {
		t.Errorf("%d charts, want 2", n)
	}
	if strings.Contains(body, " style=") || strings.Contains(body, "<style") || strings.Contains(body, "<script>") {
		t.Error("inline style or script in the page")
	}
	// The fixture's scope (Fiction, Tech) holds 7 fiction books and 4
	// devices; F1 F2 F5 were seen, F6 is lost (skipped), so F3 ($12.00),
	// F4 ($9.99) and the odd barcode are missing, and all 4 devices.
	w = c.get("/reports/collection?inventory=1&at=2027-01-15&format=csv")
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %d %v", w.Code, w.Header())
	}
	rows, err := csv.NewReader(w.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		got[r[0]] = strings.Join(r[2:], ",")
	}
	if got["fiction"] != "7,0,,,,3,21.99,1" || got["equipment"] != "4,0,,,,4,0.00,4" {
		t.Errorf("CSV rows fiction %q equipment %q\n%v", got["fiction"], got["equipment"], rows)
	}
	if w := c.get("/reports/collection?format=pdf"); w.Code != http.StatusBadRequest {
		t.Errorf("format=pdf: %d", w.Code)
	}
}
