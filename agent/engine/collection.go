package engine

import (
	"context"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/report"
)

// Collection builds the collection report at reference date at. With an
// inventory (invID > 0) it covers the items at home in the inventory's
// scope and counts the ones the inventory found missing (still missing so
// far, while it is open); with none, the whole catalog. Withdrawn items
// are no longer part of the collection and are left out.
func (e *Engine) Collection(ctx context.Context, invID int64, at time.Time) (*report.Collection, error) {
	var scope *catalog.Scope
	missing := map[string]bool{}
	name := ""
	if invID > 0 {
		inv, err := e.DB.Inventory(ctx, invID)
		if err != nil {
			return nil, err
		}
		scope, name = &inv.Scope, inv.Name
		var ms []MissingItem
		if inv.Open() {
			ms, err = e.Missing(ctx, invID)
		} else {
			ms, err = e.finalizedMissing(ctx, invID)
		}
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			missing[m.Barcode] = true
		}
	}
	hs := make([]report.Holding, 0, e.Index.Len())
	e.Index.Each(func(_ catalog.Ref, it *catalog.Item) bool {
		if it.Status == catalog.StatusWithdrawn && !missing[it.Barcode] || scope != nil && !scope.Home(it) {
			return true
		}
		hs = append(hs, report.Holding{CallNumber: it.CallNumber, Equipment: it.Kind == catalog.KindEquipment,
			Year: it.Year, Price: it.Price, Missing: missing[it.Barcode]})
		return true
	})
	return report.NewCollection(hs, at, name), nil
}
