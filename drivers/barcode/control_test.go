package barcode

import (
	"regexp"
	"strings"
	"testing"
)

// A control barcode survives Normalize as the scanner typed it and is
// never valid as an item, even under an asset pattern that takes anything.
func TestControlNeverAnItem(t *testing.T) {
	any := DefaultOpts
	any.AssetPattern = regexp.MustCompile(`.`)
	for _, raw := range []string{"#TALLY:PAUSE\r\n", "]C0#TALLY:SHELF:3", "  #TALLY:OP:Ana\t"} {
		code := Normalize(raw)
		if !IsControl(code) {
			t.Errorf("Normalize(%q) = %q: not a control code", raw, code)
		}
		for _, o := range []Opts{DefaultOpts, any} {
			r := Check(code, o)
			if r.Valid || r.Class != ClassControl || !strings.Contains(r.Problem, "control barcode") {
				t.Errorf("Check(%q) = %+v", code, r)
			}
		}
	}
	for _, item := range []string{"30234000517861", "T12345", "DAB-1234", "A123456B", "#12"} {
		if IsControl(Normalize(item)) {
			t.Errorf("%q taken for a control code", item)
		}
	}
}
