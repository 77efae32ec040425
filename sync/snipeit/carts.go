package snipeit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tally-inventory/tally/sync/relay"
)

// Snipe-IT's assigned_type values: the checked-out-to model's class name.
const (
	assignedAsset    = `App\Models\Asset`
	assignedLocation = `App\Models\Location`
)

// cart is one container whose devices FetchCarts lists.
type cart struct {
	id    int
	typ   string // assignedAsset or assignedLocation
	label string // Container of its devices
}

// Device is an asset checked out to a cart, with the fields a catalog item
// takes (tally import --from snipeit makes it an equipment item whose
// container is Cart).
type Device struct {
	Tag       string // asset tag, as Snipe-IT spells it
	Serial    string
	Title     string // the asset's name, else its model
	Type      string // its model, else its category
	Cart      string // the cart's asset tag (a location cart's name)
	Location  string
	LastAudit time.Time // zero when never audited
	// Status is what its status label says, in tally's status words:
	// available, missing, lost, in_repair, damaged, withdrawn or
	// not_for_loan. A device checked out to its cart is at home there, so
	// the label alone decides.
	Status string
}

// The status words Device.Status uses (the catalog's).
const (
	statusAvailable  = "available"
	statusMissing    = "missing"
	statusLost       = "lost"
	statusInRepair   = "in_repair"
	statusDamaged    = "damaged"
	statusWithdrawn  = "withdrawn"
	statusNotForLoan = "not_for_loan"
)

// FetchCarts imports cart manifests: for each cart in o (CartTags,
// CartCategoryID, CartLocationIDs), the assets checked out to it, as
// Devices whose Cart is the cart's asset tag (a location cart's name). It pages GET /hardware?assigned_to=&assigned_type= sorted
// by id, waits out 429s and retries 5xx a few times.
//
// (Snipe-IT's GET /hardware/{id}/assigned/assets would be the direct route
// but is a stub that returns [] as of 2025.) Assets with an archived status
// are left out by Snipe-IT unless its show_archived_in_list setting is on.
func FetchCarts(ctx context.Context, o Opts) ([]Device, error) {
	if err := fill(&o); err != nil {
		return nil, err
	}
	c, err := newClient(&o)
	if err != nil {
		return nil, err
	}
	return fetchCarts(ctx, c, &o)
}

func fetchCarts(ctx context.Context, c *client, o *Opts) ([]Device, error) {
	if len(o.CartTags) == 0 && o.CartCategoryID == 0 && len(o.CartLocationIDs) == 0 {
		return nil, errors.New("snipeit: no carts configured: list cart asset tags, a cart category id, or cart location ids")
	}
	var carts []cart
	seen := map[string]bool{}
	add := func(k cart) {
		key := k.typ + strconv.Itoa(k.id)
		if !seen[key] {
			seen[key] = true
			carts = append(carts, k)
		}
	}
	for _, tag := range o.CartTags {
		b, err := c.get(ctx, "/hardware/bytag/"+escapeTag(tag), nil)
		if err != nil {
			return nil, fmt.Errorf("snipeit: cart %q: %w", tag, err)
		}
		a, err := decodeAsset(b, c.zone)
		if err != nil {
			return nil, fmt.Errorf("snipeit: cart %q: %w", tag, err)
		}
		add(cart{id: a.ID, typ: assignedAsset, label: cartLabel(a)})
	}
	if o.CartCategoryID != 0 {
		q := url.Values{"category_id": {strconv.Itoa(o.CartCategoryID)}}
		err := c.pages(ctx, q, o.PageSize, func(a Asset) { add(cart{id: a.ID, typ: assignedAsset, label: cartLabel(&a)}) })
		if err != nil {
			return nil, fmt.Errorf("snipeit: carts in category %d: %w", o.CartCategoryID, err)
		}
	}
	for _, id := range o.CartLocationIDs {
		b, err := c.get(ctx, "/locations/"+strconv.Itoa(id), nil)
		if err != nil {
			return nil, fmt.Errorf("snipeit: cart location %d: %w", id, err)
		}
		l, err := decodeLocation(b)
		if err != nil {
			return nil, fmt.Errorf("snipeit: cart location %d: %w", id, err)
		}
		add(cart{id: id, typ: assignedLocation, label: l.Name})
	}
	var devs []Device
	for _, k := range carts {
		q := url.Values{"assigned_to": {strconv.Itoa(k.id)}, "assigned_type": {k.typ}}
		err := c.pages(ctx, q, o.PageSize, func(a Asset) {
			devs = append(devs, device(&a, k.label, o.MissingStatusID))
		})
		if err != nil {
			return nil, fmt.Errorf("snipeit: devices in cart %s: %w", k.label, err)
		}
	}
	return devs, nil
}

func cartLabel(a *Asset) string {
	if a.AssetTag != "" {
		return a.AssetTag
	}
	return a.Name
}

// pages walks GET /hardware with q, limit and offset, sorted by id so a
// page boundary cannot skip or repeat an asset while others are added.
func (c *client) pages(ctx context.Context, q url.Values, limit int, each func(Asset)) error {
	q.Set("limit", strconv.Itoa(limit))
	q.Set("sort", "id")
	q.Set("order", "asc")
	got, lastID := 0, 0
	for page := 0; ; page++ {
		q.Set("offset", strconv.Itoa(got))
		b, err := c.get(ctx, "/hardware", q)
		if err != nil {
			return err
		}
		rows, total, err := decodePage(b, c.zone)
		if err != nil {
			return err
		}
		for _, a := range rows {
			if a.ID <= lastID {
				return fmt.Errorf("page at offset %d repeats asset %d; the server is not honouring sort=id&order=asc", got, a.ID)
			}
			lastID = a.ID
			each(a)
		}
		got += len(rows)
		if len(rows) == 0 || got >= total {
			return nil
		}
		if page > total {
			return fmt.Errorf("more than %d pages for %d assets; the server is not honouring offset", page, total)
		}
	}
}

// get is a GET for imports: it waits out 429s (Retry-After, else a
// minute) and retries network errors and 5xx with backoff, up to 5 tries.
func (c *client) get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	backoff := time.Second
	for attempt := 1; ; attempt++ {
		b, err := c.do(ctx, http.MethodGet, path, q, nil)
		var ce *callError
		if err == nil || !errors.As(err, &ce) || ce.verdict != relay.Retry || attempt == 5 || ctx.Err() != nil {
			return b, err
		}
		wait := ce.retryAfter
		if wait <= 0 {
			wait = backoff
			backoff *= 2
		}
		if err := c.lim.sleep(ctx, wait); err != nil {
			return nil, err
		}
		// The wait is over: don't let the 429 pause refuse the next try.
		c.lim.mu.Lock()
		c.lim.until = time.Time{}
		c.lim.mu.Unlock()
	}
}

// device is an asset checked out to the cart cartLabel.
func device(a *Asset, cartLabel string, missingStatusID int) Device {
	d := Device{Tag: a.AssetTag, Serial: a.Serial, Title: a.Name, Type: a.Model, Cart: cartLabel,
		Location: a.Location, LastAudit: a.LastAudit, Status: deviceStatus(a, missingStatusID)}
	if d.Title == "" {
		d.Title = a.Model
	}
	if d.Type == "" {
		d.Type = a.Category
	}
	return d
}

// deviceStatus reads Snipe-IT's status label: its name when it says what
// happened (Snipe-IT's stock labels include "Out for Repair" and
// "Lost/Stolen"), else its type.
func deviceStatus(a *Asset, missingStatusID int) string {
	if missingStatusID != 0 && a.StatusID == missingStatusID {
		return statusMissing
	}
	n := strings.ToLower(a.StatusName)
	switch {
	case strings.Contains(n, "missing"):
		return statusMissing
	case strings.Contains(n, "lost"), strings.Contains(n, "stolen"):
		return statusLost
	case strings.Contains(n, "repair"), strings.Contains(n, "diagnostic"):
		return statusInRepair
	case strings.Contains(n, "broken"), strings.Contains(n, "damaged"):
		return statusDamaged
	}
	switch a.StatusType {
	case "archived":
		return statusWithdrawn
	case "undeployable":
		return statusInRepair
	case "pending":
		return statusNotForLoan
	}
	return statusAvailable
}
