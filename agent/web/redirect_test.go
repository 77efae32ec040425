package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/sessions/1", "/sessions/1"},
		{"/inventories/1/reports/missing?format=csv&x=1", "/inventories/1/reports/missing?format=csv&x=1"},
		{"/a#frag", "/a#frag"},
		{"/:23", "/:23"},
		{"/%2F%2Fevil.example", "/%2F%2Fevil.example"}, // encoded: a path on this site
		{"\\sessions\\1", "/sessions/1"},
		{"  /sessions/1\n", "/sessions/1"},
		{"/ses\tsions/1", "/sessions/1"},
		// Off-site, however written.
		{"/\t/evil.example/", "/"}, // the reported attack
		{"/\n/evil.example/", "/"},
		{"/\r\n/evil.example/", "/"},
		{"\t//evil.example", "/"},
		{"//evil.example", "/"},
		{"/\\evil.example", "/"},
		{"\\/evil.example", "/"},
		{"\\\\evil.example", "/"},
		{"\x00//evil.example", "/"},
		{" //evil.example", "/"},
		{"https://evil.example/", "/"},
		{"http:evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"java\tscript:alert(1)", "/"},
		{"evil.example", "/"},
		{"", "/"},
		{"/a\x00b", "/"},
		{"/a\x7fb", "/"},
		{"/" + strings.Repeat("a", 3000), "/"},
	} {
		if got := safeNext(tc.in); got != tc.want {
			t.Errorf("safeNext(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// browserish resolves ref against base the way the URL Standard's parser
// begins (strip C0 controls and spaces at the ends, drop tabs and
// newlines, backslash as slash in an http URL) and then as RFC 3986 does.
func browserish(base *url.URL, ref string) (*url.URL, error) {
	ref = strings.TrimFunc(ref, func(r rune) bool { return r <= ' ' })
	ref = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(ref)
	if i := strings.IndexAny(ref, "?#"); i >= 0 {
		ref = strings.ReplaceAll(ref[:i], "\\", "/") + ref[i:]
	} else {
		ref = strings.ReplaceAll(ref, "\\", "/")
	}
	u, err := url.Parse(ref)
	if err != nil {
		return nil, err
	}
	return base.ResolveReference(u), nil
}

// TestSafeNextAgainstURLStandard checks the normaliser against the URL
// Standard's own conformance data (web-platform-tests): whatever it lets
// through, a browser resolves on the base's origin, to the same URL.
func TestSafeNextAgainstURLStandard(t *testing.T) {
	var data struct {
		Source string `json:"source"`
		Tests  []struct {
			Input, Base, Href, Origin string
		} `json:"tests"`
	}
	b, err := os.ReadFile("testdata/urltestdata-subset.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &data); err != nil {
		t.Fatal(err)
	}
	kept, offsite := 0, 0
	for _, tc := range data.Tests {
		base, _ := url.Parse(tc.Base)
		same := tc.Origin == base.Scheme+"://"+base.Host
		if !same {
			offsite++
		}
		got := safeNext(tc.Input)
		if got == "/" && strings.TrimFunc(tc.Input, func(r rune) bool { return r <= ' ' }) != "/" {
			continue // refused (safe)
		}
		kept++
		if !same {
			t.Errorf("%q: kept as %q, but a browser goes to %s", tc.Input, got, tc.Origin)
			continue
		}
		if r, _ := browserish(base, got); r.String() != tc.Href {
			t.Errorf("%q: kept as %q → %s, a browser goes to %s", tc.Input, got, r, tc.Href)
		}
	}
	if kept < 3 || offsite < 5 {
		t.Fatalf("fixture too thin: %d kept, %d off-site", kept, offsite)
	}
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/sessions/1", "/\t/evil.example/", "\\\\x\\hello", "/a?b#c", "http:x", " /x\n"} {
		f.Add(s)
	}
	base, _ := url.Parse("http://tally.school.example:8080/inventories/1")
	f.Fuzz(func(t *testing.T, in string) {
		got := safeNext(in)
		if safeNext(got) != got {
			t.Fatalf("safeNext(%q) = %q is not stable: %q", in, got, safeNext(got))
		}
		r, err := browserish(base, got)
		if err != nil {
			t.Fatalf("safeNext(%q) = %q does not parse: %v", in, got, err)
		}
		if r.Scheme != base.Scheme || r.Host != base.Host || r.User != nil {
			t.Fatalf("safeNext(%q) = %q leaves the site: %s", in, got, r)
		}
	})
}

// TestBrowserLoginRedirectStaysOnSite logs in with a real Chromium through
// a login link whose next= is the reported attack, and checks Chromium
// ends on tally, not on the other host.
func TestBrowserLoginRedirectStaysOnSite(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	ctx, consoleErrors := browser(t)
	const pin = "482913"
	e := newEnv(t, Opts{Addr: "127.0.0.1:0", Token: pin})
	site := "http://" + serve(t, e.s)
	var hits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, "evil")
	}))
	defer evil.Close()
	evilHost := strings.TrimPrefix(evil.URL, "http://")
	attack := "/\t/" + evilHost + "/"

	if err := chromedp.Do(ctx, chromedp.Navigate(site+"/login?next="+url.QueryEscape(attack))); err != nil {
		t.Fatal(err)
	}
	// The attack is real in this browser: resolved by Chromium itself, the
	// raw target is the other host.
	host, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`new URL(%s, location.href).host`, js(attack))))
	if err != nil || host != evilHost {
		t.Fatalf("Chromium resolves %q to host %q (%v), want %q: the test's attack is not one", attack, host, err, evilHost)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#token"), pin+"\r")); err != nil {
		t.Fatal(err)
	}
	waitAcrossNavigation(t, ctx, "after login", `document.readyState === 'complete' && !location.href.includes('/login')`)
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(href, site+"/") || hits.Load() != 0 {
		t.Fatalf("after login Chromium is at %s (other host hit %d times), want %s/; console: %s", href, hits.Load(), site, consoleErrors())
	}
	if errs := consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
