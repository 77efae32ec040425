package web

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tally-inventory/tally/agent/store"
	"github.com/tally-inventory/tally/drivers"
)

// TestBrowserSmallThings: on a phone the chart labels are readable and
// distinct though every read fell within one second; undo says what it
// took back; a read into a paused session offers Resume, which works.
func TestBrowserSmallThings(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	ctx, consoleErrors := browser(t)
	d := newDemo(t)
	var reads = d.fiction[:6]
	for _, it := range reads { // all within a second or so
		d.device(t, d.shelf, []drivers.Read{scanRead(it.Barcode)}, 0)
	}

	// Charts at phone width.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(d.url+"/inventories/1/reports")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "charts", `document.querySelectorAll('svg.linechart text.tick').length > 0`)
	waitJS(t, ctx, "page fits the phone", `document.documentElement.scrollWidth <= window.innerWidth`)
	small, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('svg text.tick')]
		.filter(e => e.getBoundingClientRect().height < 10).map(e => e.textContent + ' ' + e.getBoundingClientRect().height.toFixed(1) + 'px').join(', ')`))
	if err != nil || small != "" {
		t.Errorf("chart labels smaller than 10 px on a phone: %s (%v)", small, err)
	}
	labels, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('svg.linechart text.tick[text-anchor]:not([dominant-baseline])')].map(e => e.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, l := range labels {
		if seen[l] {
			t.Errorf("time label %q twice: %v", l, labels)
		}
		seen[l] = true
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 960)); err != nil {
		t.Fatal(err)
	}

	// Undo says what it took back.
	if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/sessions/%d", d.url, d.shelf))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "live", `document.getElementById('conn').classList.contains('live')`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#undoform button"))); err != nil {
		t.Fatal(err)
	}
	last := reads[len(reads)-1]
	waitJS(t, ctx, "undo note", fmt.Sprintf(`!document.getElementById('undo-note').hidden && document.getElementById('undo-note').textContent === %s`,
		js("Took back: On shelf — "+itemLine(last.Title, last.CallNumber, last.Barcode))))

	// Paused elsewhere; a scan here offers Resume.
	if _, err := d.b.SetSessionState(ctx, d.shelf, store.SessionPaused); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#code"), last.Barcode+"\r")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "resume offered", `!!document.querySelector('#scan-error #resume') && document.getElementById('scan-error').textContent.includes('paused')`)
	if txt, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('scan-error').textContent`)); strings.Contains(txt, "tally session") {
		t.Errorf("the scan screen tells the librarian to run a CLI command: %q", txt)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__beforeResume = true`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#resume"))); err != nil {
		t.Fatal(err)
	}
	waitAcrossNavigation(t, ctx, "resumed and reloaded", `window.__beforeResume === undefined && document.readyState === 'complete' &&
		!!document.getElementById('code') && !document.getElementById('code').disabled && !document.querySelector('.banner')`)
	if s, err := d.b.DB.Session(ctx, d.shelf); err != nil || s.State != "open" {
		t.Fatalf("session after Resume: %+v %v", s, err)
	}
	var errs []string
	for _, e := range consoleErrors() {
		if !strings.Contains(e, "status of 409") { // the refused read itself
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}

// waitAcrossNavigation is waitJS for a condition reached by navigating:
// an evaluation while the page changes fails and is tried again.
func waitAcrossNavigation(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	for end := time.Now().Add(deadline); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr)); err == nil && ok {
			return
		}
	}
	t.Fatalf("%s: not within %s", what, deadline)
}
