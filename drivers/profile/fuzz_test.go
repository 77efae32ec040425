package profile

import (
	"errors"
	"strings"
	"testing"
)

// FuzzLoad: no input panics Load, and every failure is a *FieldError that
// names the file.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(goodScanner))
	f.Add([]byte(goodRFID))
	f.Add([]byte("name: [unclosed\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Add([]byte("match:\n  - vid: 0x0c2e\n    pid: !!binary AAAA\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Load("fuzz.yaml", data)
		if err == nil {
			if p == nil || p.Name == "" {
				t.Fatalf("nil error but profile %+v", p)
			}
			return
		}
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Fatalf("error is not a FieldError: %v", err)
		}
		if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}
