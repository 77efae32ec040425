package web

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/drivers"
)

// Pulls in a real browser: a list uploaded on the inventory page is
// attached through the agent's API, the inventory page counts pulled and
// still to pull, and on the scan screen a read of a listed book gets the
// violet pull badge with its reason — on the last read and in the feed —
// while a read of another book does not.
func TestBrowserPullBadge(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	ctx, consoleErrors := browser(t)
	d := newDemo(t)
	dir := artifacts(t)
	a := d.fiction
	bg := context.Background()
	sess, err := d.b.DB.Session(bg, d.shelf)
	if err != nil {
		t.Fatal(err)
	}
	inv := sess.InventoryID
	listed0, _, err := d.b.DB.PullProgress(bg, inv)
	if err != nil {
		t.Fatal(err)
	}

	list := filepath.Join(t.TempDir(), "repairs.csv")
	os.WriteFile(list, []byte("barcode,reason\n"+a[0].Barcode+",repair the spine\n"+a[5].Barcode+",replace the label\n"), 0o644)
	page := fmt.Sprintf("%s/inventories/%d", d.url, inv)
	if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS("#pullfile"), []string{list}), chromedp.Click(chromedp.CSS("#pullform button"))); err != nil {
		t.Fatal(err)
	}
	// The page reloads itself once the list is attached.
	for end := time.Now().Add(deadline); ; time.Sleep(100 * time.Millisecond) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](textIs("pull-left", fmt.Sprint(listed0+2))))
		if err == nil && ok {
			break
		}
		if time.Now().After(end) {
			msg, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById('pull-msg')||{}).textContent + ' / ' + (document.getElementById('pull-counts')||{}).textContent`))
			t.Fatalf("counts after the upload: not within %s (%v): %s", deadline, err, msg)
		}
	}
	waitJS(t, ctx, "none pulled yet", textIs("pull-pulled", "0"))

	if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/sessions/%d", d.url, d.shelf))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "live connection", `document.getElementById('conn').classList.contains('live')`)
	res := d.device(t, d.shelf, []drivers.Read{scanRead(a[0].Barcode)}, 0)
	if res[0].Outcome != reconcile.OK || res[0].Detail.Pull != "pull: repair the spine" {
		t.Fatalf("read of a listed book: %s %q", res[0].Outcome, res[0].Detail.Pull)
	}
	waitJS(t, ctx, "pull badge on the last read", `document.getElementById('last').classList.contains('pull') &&
		!document.getElementById('last-pull').hidden && document.getElementById('last-pull').textContent === 'pull: repair the spine'`)
	waitJS(t, ctx, "badge colour differs from the outcome's", `getComputedStyle(document.getElementById('last-pull')).backgroundColor === 'rgb(74, 44, 145)'`)
	waitJS(t, ctx, "pull badge in the feed", fmt.Sprintf(`(document.querySelector('#feed li.pull[data-id="%d"] .pullbadge')||{}).textContent === 'pull: repair the spine'`, res[0].ReadID))
	shot(t, ctx, dir, "scan-pull.png", false)

	res = d.device(t, d.shelf, []drivers.Read{scanRead(a[1].Barcode)}, 0)
	waitJS(t, ctx, "no badge on a book not listed", fmt.Sprintf(`document.getElementById('last-item').textContent.includes(%s) &&
		!document.getElementById('last').classList.contains('pull') && document.getElementById('last-pull').hidden &&
		!document.querySelector('#feed li[data-id="%d"]').classList.contains('pull')`, js(a[1].Barcode), res[0].ReadID))

	// A reload renders the same badge from the journal.
	if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/sessions/%d", d.url, d.shelf))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "badge after a reload", fmt.Sprintf(`(document.querySelector('#feed li.pull[data-barcode=%s] .pullbadge')||{}).textContent === 'pull: repair the spine'`, js(a[0].Barcode)))

	if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "pulled count", textIs("pull-pulled", "1"))
	waitJS(t, ctx, "still to pull", textIs("pull-left", fmt.Sprint(listed0+1)))
	time.Sleep(50 * time.Millisecond)
	if errs := consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}
