package web

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/sample"
	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/barcode"
)

var update = flag.Bool("update", false, "write the README screenshots to testdata/screenshots")

// deadline is how long the page may take to show a committed read. It is
// a generous bound for a loaded CI machine, not a measurement: the live
// path is measured by BenchmarkLiveRead.
const deadline = 10 * time.Second

func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed: CI must install it (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); skipping the browser tests")
	return ""
}

func artifacts(t *testing.T) string {
	if d := os.Getenv("TALLY_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// browser starts a fresh headless Chromium and returns a tab context, and
// a function that reports console errors and exceptions seen so far.
func browser(t *testing.T) (context.Context, func() []string) {
	path := chromium(t)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 960),
	)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	tctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelT)
	if err := chromedp.Do(tctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	var mu sync.Mutex
	var errs []string
	msgs := chromedp.Console(tctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				mu.Lock()
				errs = append(errs, m.String())
				mu.Unlock()
			}
		}
	}()
	return tctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), errs...)
	}
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

// waitJS waits until a JavaScript expression is true.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(deadline))); err != nil {
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById('last')||document.body).innerText.slice(0,400)`))
		t.Fatalf("%s: not within %s (%v)\npage shows: %s", what, deadline, err, got)
	}
}

func textIs(id, want string) string {
	return fmt.Sprintf(`(document.getElementById(%s)||{}).textContent === %s`, js(id), js(want))
}

func shot(t *testing.T, ctx context.Context, dir, name string, full bool) {
	t.Helper()
	act := chromedp.CaptureScreenshot()
	if full {
		act = chromedp.FullScreenshot(100)
	}
	png, err := chromedp.Run(ctx, act)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	if *update && !strings.Contains(name, "-") {
		if err := os.WriteFile(filepath.Join("testdata", "screenshots", name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// demo is a small generated library with a shelf inventory of Fiction and
// a cart inventory, served on a real loopback port.
type demo struct {
	b       *testBackend
	url     string
	fiction []catalog.Item // available Fiction books, shelf order
	other   catalog.Item   // a Nonfiction book
	shelf   int64
	cart    int64
	carts   map[string][]catalog.Item
}

func newDemo(t *testing.T) *demo {
	o := sample.DefaultOpts
	o.Books, o.Carts, o.PerCart = 400, 2, 12
	items := sample.Generate(o)
	b := newBackend(t, items)
	hub := engine.NewHub()
	b.OnResult = hub.Publish
	s, err := New(b, hub, Opts{Addr: "127.0.0.1:0", Title: "tally — Lincoln Elementary"})
	if err != nil {
		t.Fatal(err)
	}
	d := &demo{b: b, url: "http://" + serve(t, s), carts: map[string][]catalog.Item{}}
	for _, it := range items {
		switch {
		case it.Location == "Fiction" && it.Status == catalog.StatusAvailable && !it.HoldWaiting:
			d.fiction = append(d.fiction, it)
		case it.Location == "Nonfiction" && d.other.Barcode == "":
			d.other = it
		case it.Container != "":
			d.carts[it.Container] = append(d.carts[it.Container], it)
		}
	}
	bg := context.Background()
	skips := []catalog.Status{catalog.StatusCheckedOut, catalog.StatusLost, catalog.StatusMissing, catalog.StatusWithdrawn}
	inv, err := b.DB.CreateInventory(bg, "Spring 2027 — Fiction", catalog.Scope{Locations: []string{"Fiction"}, SkipStatuses: skips}, reconcile.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := b.DB.StartSession(bg, inv.ID, "shelf", "", "Maya (student assistant)", "")
	if err != nil {
		t.Fatal(err)
	}
	cinv, err := b.DB.CreateInventory(bg, "Chromebook carts — December", catalog.Scope{Kinds: []catalog.Kind{catalog.KindEquipment},
		SkipStatuses: []catalog.Status{catalog.StatusInRepair}}, reconcile.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := b.DB.StartSession(bg, cinv.ID, "cart", "CART-01", "Mr. Ortiz", "")
	if err != nil {
		t.Fatal(err)
	}
	d.shelf, d.cart = ss.ID, cs.ID
	return d
}

// device is the simulated scanner: it submits reads one after another,
// like a person walking the shelf, and hands back what was committed.
func (d *demo) device(t *testing.T, sid int64, reads []drivers.Read, gap time.Duration) []*engine.Result {
	t.Helper()
	type out struct {
		res []*engine.Result
		err error
	}
	ch := make(chan out, 1)
	go func() {
		var o out
		for _, rd := range reads {
			r, err := d.b.Submit(context.Background(), sid, rd)
			if err != nil {
				o.err = fmt.Errorf("read %s: %w", rd.Code, err)
				break
			}
			o.res = append(o.res, r)
			time.Sleep(gap)
		}
		ch <- o
	}()
	o := <-ch
	if o.err != nil {
		t.Fatal(o.err)
	}
	return o.res
}

func scanRead(code string) drivers.Read {
	return drivers.Read{Device: "desk-scanner", Kind: drivers.KindScanner, Code: code}
}

func TestBrowserScanAndCart(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	ctx, consoleErrors := browser(t)
	d := newDemo(t)
	dir := artifacts(t)
	a := d.fiction
	if len(a) < 14 {
		t.Fatalf("only %d Fiction books", len(a))
	}

	// ---- the scan screen ----
	if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/sessions/%d", d.url, d.shelf))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "live connection", `document.getElementById('conn').classList.contains('live')`)
	// Marks the document: a reload would lose it, so the checks below prove
	// the page updated in place.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__tallyMark = true`)); err != nil {
		t.Fatal(err)
	}

	unknown := "3999900001234"
	c, _ := barcode.LibraryCheckDigit(unknown)
	unknown += string(c)
	misread := []byte(a[1].Barcode)
	misread[8] = '0' + (misread[8]-'0'+5)%10
	// Walk the shelf: a[9] is shelved too early, a[4] is found at the end
	// of the run, a[6] is not on the shelf, a book from Nonfiction strays in,
	// one barcode is not ours and one is misread.
	seq := []string{a[0].Barcode, a[1].Barcode, a[2].Barcode, a[3].Barcode, a[9].Barcode, a[5].Barcode, a[7].Barcode,
		a[8].Barcode, a[10].Barcode, d.other.Barcode, unknown, string(misread), a[11].Barcode, a[4].Barcode}
	var reads []drivers.Read
	for _, code := range seq {
		reads = append(reads, scanRead(code))
	}
	res := d.device(t, d.shelf, reads, 40*time.Millisecond)
	last := res[len(res)-1]
	lv := viewOf(last)
	if last.Outcome != reconcile.OutOfOrder {
		t.Fatalf("the walk should end on a misshelved book, got %s", last.Outcome)
	}
	wantHead := fmt.Sprintf("Misshelved — belongs between %s and %s", a[3].CallNumber, a[5].CallNumber)
	if lv.Headline != wantHead {
		t.Fatalf("headline %q, want %q", lv.Headline, wantHead)
	}
	waitJS(t, ctx, "last read", textIs("last-headline", wantHead))
	waitJS(t, ctx, "last read colour", `document.getElementById('last').classList.contains('o-out_of_order')`)
	waitJS(t, ctx, "last read icon", `document.querySelector('#last use').getAttribute('href') === '#o-out_of_order'`)
	waitJS(t, ctx, "progress", textIs("prog-text", progressOf(last.Seen, last.Expected).Text))
	waitJS(t, ctx, "feed", fmt.Sprintf(`document.querySelectorAll('#feed li').length === %d`, len(seq)))
	// Every read reached the feed, newest first, with its words.
	for i, r := range res {
		li := fmt.Sprintf(`document.querySelector('#feed li[data-id="%d"]')`, r.ReadID)
		waitJS(t, ctx, fmt.Sprintf("feed entry %d", i), fmt.Sprintf(`!!%s && %s.querySelector('.lbl').textContent.length > 0`, li, li))
	}
	waitJS(t, ctx, "stray book", fmt.Sprintf(`[...document.querySelectorAll('#feed li.o-wrong_location .hl')].some(e => e.textContent.includes(%s))`, js("Belongs somewhere else — MAIN / Nonfiction")))
	waitJS(t, ctx, "unknown", `document.querySelectorAll('#feed li.o-unknown').length === 1`)
	waitJS(t, ctx, "invalid", `document.querySelectorAll('#feed li.o-invalid').length === 1`)
	// a[9] was shelved early: proven by the books after it, and marked in place.
	waitJS(t, ctx, "retro mark", fmt.Sprintf(`document.querySelector('#feed li[data-barcode=%s]').classList.contains('o-out_of_order')`, js(a[9].Barcode)))
	waitJS(t, ctx, "counters", `document.querySelector('#counts li[data-outcome="out_of_order"] b').textContent === '2' &&
		document.querySelector('#counts li[data-outcome="wrong_location"] b').textContent === '1'`)
	// The live missing list shows the book not on the shelf, in shelf order,
	// once recounted for the stretch walked.
	waitJS(t, ctx, "missing recount", `document.getElementById('missing-heading').textContent.startsWith('Not seen in the stretch you walked')`)
	waitJS(t, ctx, "missing list", fmt.Sprintf(`!!document.querySelector('#missing li[data-barcode=%s]') && !document.querySelector('#missing li[data-barcode=%s]')`,
		js(a[6].Barcode), js(a[4].Barcode)))
	shot(t, ctx, dir, "scan.png", false)

	// A keyboard-wedge scanner types into the focused input; Enter submits.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#code"), a[12].Barcode+"\r")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "typed read", fmt.Sprintf(`document.getElementById('last-item').textContent.includes(%s) && document.getElementById('last').classList.contains('o-ok')`, js(a[12].Barcode)))
	// With focus on the Undo button, the wedge's keystrokes still land in
	// the input and Enter adds the read instead of pressing Undo.
	if err := chromedp.Do(ctx, chromedp.Focus(chromedp.CSS("#undoform button")), chromedp.KeyEvent(a[13].Barcode+"\r")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "wedge read with focus elsewhere", fmt.Sprintf(`document.getElementById('last-item').textContent.includes(%s)`, js(a[13].Barcode)))
	// Undo takes back the last read.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#undoform button"))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "undo", fmt.Sprintf(`document.getElementById('last-item').textContent.includes(%s) && !document.querySelector('#feed li[data-barcode=%s]')`,
		js(a[12].Barcode), js(a[13].Barcode)))
	n, err := d.b.DB.CountReads(context.Background())
	if err != nil || n != int64(len(seq)+2) {
		t.Fatalf("journal has %d reads (%v), want %d", n, err, len(seq)+2)
	}
	if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__tallyMark === true`)); err != nil || !ok {
		t.Fatalf("the page reloaded instead of updating live (%v)", err)
	}

	// A phone-size screen: nothing wider than the viewport.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "fits a phone", `document.documentElement.scrollWidth <= window.innerWidth`)
	shot(t, ctx, dir, "scan-phone.png", false)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 960)); err != nil {
		t.Fatal(err)
	}

	// ---- the cart check ----
	members := d.carts["CART-01"]
	var expected []catalog.Item
	for _, m := range members {
		if m.Status != catalog.StatusInRepair {
			expected = append(expected, m)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/sessions/%d", d.url, d.cart))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "cart live", `document.getElementById('conn').classList.contains('live')`)
	waitJS(t, ctx, "grid", fmt.Sprintf(`document.querySelectorAll('#grid li').length === %d`, len(members)))
	// An RFID sweep reads most of the cart, and a hotspot from CART-02.
	foreign := d.carts["CART-02"][0]
	var sweep []drivers.Read
	for i, m := range expected[:len(expected)-2] {
		rd := drivers.Read{Device: "wand", Kind: drivers.KindRFID, Code: m.RFID}
		if i%3 == 0 {
			rd = scanRead(m.AssetTag)
		}
		sweep = append(sweep, rd)
		if i == 3 {
			sweep = append(sweep, drivers.Read{Device: "wand", Kind: drivers.KindRFID, Code: foreign.RFID})
		}
	}
	d.device(t, d.cart, sweep, 30*time.Millisecond)
	waitJS(t, ctx, "grid lights up", fmt.Sprintf(`document.querySelectorAll('#grid li.s-present').length === %d`, len(expected)-2))
	waitJS(t, ctx, "foreign called out", fmt.Sprintf(`document.getElementById('foreign').textContent.includes(%s) && document.getElementById('foreign').textContent.includes('CART-02')`, js(foreign.Barcode)))
	waitJS(t, ctx, "waiting", fmt.Sprintf(`document.getElementById('waiting-n').textContent === '2' && document.getElementById('waiting').textContent.includes(%s)`, js(expected[len(expected)-1].AssetTag)))
	waitJS(t, ctx, "not complete yet", textIs("cart-status", fmt.Sprintf("%d of %d devices present", len(expected)-2, len(expected))))
	shot(t, ctx, dir, "cart.png", false)
	d.device(t, d.cart, []drivers.Read{scanRead(expected[len(expected)-2].Barcode), scanRead(expected[len(expected)-1].Barcode)}, 0)
	waitJS(t, ctx, "cart complete", textIs("cart-status", fmt.Sprintf("Cart complete — all %d devices present", len(expected))))
	waitJS(t, ctx, "complete style", `document.getElementById('cart-status').classList.contains('complete')`)
	shot(t, ctx, dir, "cart-complete.png", false)

	// ---- the report ----
	if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/inventories/1/reports", d.url))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "charts", `!!document.querySelector('svg.linechart polyline') && document.querySelectorAll('svg.barchart rect').length > 0`)
	waitJS(t, ctx, "summary", `document.querySelector('table.summary').textContent.includes('items expected')`)
	shot(t, ctx, dir, "report.png", true)
	if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/inventories/1/reports/out_of_order", d.url))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "shelf-order report", fmt.Sprintf(`document.querySelector('table.report').textContent.includes(%s)`, js(a[9].Barcode)))
	shot(t, ctx, dir, "report-shelf-order.png", true)

	if errs := consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors (script errors or CSP violations):\n%s", strings.Join(errs, "\n"))
	}
	t.Logf("screenshots in %s", dir)
}
