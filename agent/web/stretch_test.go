package web

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/tally-inventory/tally/agent/catalog"
)

// The live "not seen in the stretch you walked" list names only books the
// walk has passed: not the rest of the call number the student is in, and
// not the shelf up to a book shelved far from home. Checked on a reload and
// on the live stream's own tracker.
func TestMissingOnlyWhereWalked(t *testing.T) {
	var items []catalog.Item
	add := func(call string, n int) {
		for i := 1; i <= n; i++ {
			items = append(items, catalog.Item{Barcode: fmt.Sprintf("%s%02d", call[4:], i), CallNumber: call,
				Title: fmt.Sprintf("%s %02d", call, i), Library: "MAIN", Location: "Fiction"})
		}
	}
	add("FIC ADA", 12)
	add("FIC BAK", 3)
	add("FIC CAR", 3)
	e := newEnvWith(t, items, Opts{})
	b, s, ctx := e.b, e.s, context.Background()
	live, _, err := s.load(ctx, e.sess)
	if err != nil {
		t.Fatal(err)
	}
	sub := e.hub.Subscribe(e.sess, 100)
	defer sub.Close()
	check := func(step string, want ...string) {
		t.Helper()
		_, v, err := s.load(ctx, e.sess)
		if err != nil {
			t.Fatal(err)
		}
		iv, err := b.DB.Inventory(ctx, e.inv)
		if err != nil {
			t.Fatal(err)
		}
		ms, _, _, err := missingAndProgress(ctx, b, iv)
		if err != nil {
			t.Fatal(err)
		}
		lv := live.missingWindow(ms, 100)
		for _, mv := range []*MissingView{v.Missing, &lv} {
			var got []string
			for _, r := range mv.Items {
				got = append(got, r.Barcode)
			}
			if !slices.Equal(got, want) || mv.Total != len(want) {
				t.Errorf("%s: not seen in the stretch walked %v (total %d), want %v", step, got, mv.Total, want)
			}
		}
	}
	walk := func(codes ...string) {
		for _, c := range codes {
			e.read(t, e.sess, c)
			live.apply(<-sub.C)
		}
	}
	// In the middle of FIC ADA: the six ADA books ahead are not missing.
	walk("ADA01", "ADA02", "ADA03", "ADA04", "ADA05", "ADA06")
	check("mid FIC ADA")
	// A FIC CAR book shelved among the ADAs does not pull the list ahead.
	walk("CAR02", "ADA07", "ADA08")
	check("after a misshelved book")
	// ADA09 is not on the shelf; once the walk is past FIC ADA it is named,
	// and nothing of FIC BAK, where the student stands.
	walk("ADA10", "ADA11", "ADA12", "BAK01", "BAK03")
	check("past FIC ADA", "ADA09")
}
