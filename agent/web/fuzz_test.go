package web

import (
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzScopeForm feeds arbitrary form bodies to the new-inventory form
// parser: it must return a scope that validates or an error, never panic.
func FuzzScopeForm(f *testing.F) {
	f.Add("name=Fiction&location=Fiction&skip_status=checked_out&shelf_order=on&missing_lost_value=4")
	f.Add("name=x&call_from=900&call_to=100")
	f.Add("name=x&skip_seen_since=2026-13-45&kind=robot")
	f.Add("name=%00&missing_lost_value=-1&skip_status=%E2%80%AE")
	f.Fuzz(func(t *testing.T, body string) {
		v, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		name, sc, pol, err := scopeFromForm(v)
		if err != nil {
			if statusOf(err) != 400 {
				t.Fatalf("form mistake %q is not a 400: %v", body, err)
			}
			return
		}
		if name != strings.TrimSpace(name) {
			t.Fatalf("name %q not trimmed", name)
		}
		if pol.MissingLostValue < 0 || pol.MissingLostValue > 99 {
			t.Fatalf("lost value %d accepted", pol.MissingLostValue)
		}
		_ = sc.Validate() // may reject a backwards range; must not panic
	})
}

// FuzzCleanCode: whatever a keyboard wedge types, a code is accepted only
// when it is short, printable text.
func FuzzCleanCode(f *testing.F) {
	f.Add("30234000517862")
	f.Add(" \t<script>alert(1)</script>\r\n")
	f.Add("=cmd|' /C calc'!A0")
	f.Add("A\x07B")
	f.Add(strings.Repeat("9", 200))
	f.Add("\xff\xfe")
	f.Fuzz(func(t *testing.T, in string) {
		code, err := cleanCode(in)
		if err != nil {
			if statusOf(err) != 400 {
				t.Fatalf("%q: not a 400: %v", in, err)
			}
			return
		}
		if code == "" || len(code) > 128 || code != strings.TrimSpace(code) || !utf8.ValidString(code) {
			t.Fatalf("%q accepted as %q", in, code)
		}
		for _, r := range code {
			if !unicode.IsPrint(r) {
				t.Fatalf("%q accepted with %U", in, r)
			}
		}
	})
}
