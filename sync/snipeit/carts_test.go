package snipeit

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/sync/snipeit/snipeittest"
)

func fetchOpts(f *fixture) Opts {
	return f.sink.o
}

func TestFetchCarts(t *testing.T) {
	f := start(t, snipeittest.Opts{}, nil)
	o := fetchOpts(f)
	o.CartTags = []string{"cart-02"} // also in category 9: listed once
	o.CartCategoryID = 9
	o.CartLocationIDs = []int{20}
	o.PageSize = 2
	items, err := FetchCarts(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	audited := time.Date(2023, 9, 1, 8, 0, 0, 0, time.UTC)
	want := []Device{
		{Tag: "DAB-0201", Title: "Hotspot 1", Type: "Hotspot MF833", Cart: "CART-02", Status: "available"},
		{Tag: "dab-0202", Title: "Hotspot 2", Type: "Hotspot MF833", Cart: "CART-02", Status: "available"},
		{Tag: "DAB-0101", Serial: "SN1", Title: "Chromebook 1", Type: "Chromebook 3110", Cart: "CART-01", Status: "available"},
		{Tag: "DAB-0102", Serial: "SN2", Title: "Chromebook 2", Type: "Chromebook 3110", Cart: "CART-01", Status: "in_repair"},
		{Tag: "DAB-0103", Serial: "SN3", Title: "Chromebook 3110", Type: "Chromebook 3110", Cart: "CART-01", Status: "available", LastAudit: audited},
		// DAB-0104 is Lost/Stolen, an archived label: Snipe-IT's list leaves it out.
		{Tag: "CALC-01", Title: "TI-84 <1>", Type: "TI-84 Plus CE", Cart: `Math Cart "B"`, Status: "available"},
	}
	if !reflect.DeepEqual(items, want) {
		t.Errorf("items:\n%s\nwant:\n%s", dump(items), dump(want))
	}
	// Page size 2: the category's two carts take one page, CART-02's two
	// devices one, CART-01's three two, the location's one device one.
	var lists []string
	for _, r := range f.srv.Requests() {
		if r.Op == "list" {
			lists = append(lists, r.Path)
		}
	}
	if len(lists) != 5 {
		t.Errorf("%d list requests, want 5", len(lists))
	}
}

func dump(items []Device) string {
	var b strings.Builder
	for _, it := range items {
		fmt.Fprintf(&b, "  %+v\n", it)
	}
	return b.String()
}

func TestFetchCartsShowArchived(t *testing.T) {
	f := start(t, snipeittest.Opts{ShowArchived: true}, nil)
	o := fetchOpts(f)
	o.CartTags = []string{"CART-01"}
	items, err := FetchCarts(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 4 || items[3].Tag != "DAB-0104" || items[3].Status != "lost" {
		t.Fatalf("items = %s", dump(items))
	}
	o.MissingStatusID = 7
	items, _ = FetchCarts(context.Background(), o)
	if items[3].Status != "missing" {
		t.Errorf("with MissingStatusID 7: status %q", items[3].Status)
	}
}

func TestFetchCartsErrors(t *testing.T) {
	f := start(t, snipeittest.Opts{}, nil)
	o := fetchOpts(f)
	if _, err := FetchCarts(context.Background(), o); err == nil || !strings.Contains(err.Error(), "no carts configured") {
		t.Errorf("no carts: %v", err)
	}
	o.CartTags = []string{"NOPE"}
	if _, err := FetchCarts(context.Background(), o); err == nil || !strings.Contains(err.Error(), `cart "NOPE"`) || !strings.Contains(err.Error(), "Asset does not exist.") {
		t.Errorf("unknown cart: %v", err)
	}
	o.CartTags = nil
	o.CartLocationIDs = []int{404}
	if _, err := FetchCarts(context.Background(), o); err == nil || !strings.Contains(err.Error(), "Location not found") {
		t.Errorf("unknown location: %v", err)
	}
	f.srv.ExpireToken()
	o.CartLocationIDs = []int{20}
	if _, err := FetchCarts(context.Background(), o); err == nil || !strings.Contains(err.Error(), "check the Snipe-IT API token") {
		t.Errorf("expired token: %v", err)
	}
}

// An import waits out a 429 and retries 5xx and resets.
func TestFetchCartsRetries(t *testing.T) {
	f := start(t, snipeittest.Opts{ThrottlePerMinute: 2}, nil)
	o := fetchOpts(f)
	o.CartTags = []string{"CART-01", "CART-02"}
	if err := fill(&o); err != nil {
		t.Fatal(err)
	}
	c, err := newClient(&o)
	if err != nil {
		t.Fatal(err)
	}
	var slept []time.Duration
	c.lim.sleep = func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		f.clock.Add(d) // the server's throttle window moves on
		return nil
	}
	f.srv.Inject("list", snipeittest.InternalError, 1)
	f.srv.Inject("list", snipeittest.Reset, 1)
	items, err := fetchCarts(context.Background(), c, &o)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 5 {
		t.Errorf("items = %s", dump(items))
	}
	var minutes, backoffs int
	for _, d := range slept {
		switch d {
		case time.Minute:
			minutes++
		case time.Second, 2 * time.Second:
			backoffs++
		}
	}
	// Go's transport itself resends a GET whose reused connection was
	// reset, so the reset may cost no backoff.
	if minutes == 0 || backoffs < 1 {
		t.Errorf("slept %v: want whole-minute waits for 429s and a 1s backoff after the 500", slept)
	}
	if f.srv.Pending() != 0 {
		t.Error("injected faults did not fire")
	}
}
