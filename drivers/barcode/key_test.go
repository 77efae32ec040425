package barcode

import "testing"

func TestKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"31234000123456", "31234000123456"},
		{" t0001\t", "T0001"},
		{"T0001", "T0001"},
		{"dab-0101", "DAB-0101"},
		{"e\u0301-12", "\u00c9-12"}, // decomposed é: composed (NFC), then upper-cased
		{"\u00e9-12", "\u00c9-12"},
		{"", ""},
	} {
		if got := Key(tc.in); got != tc.want {
			t.Errorf("Key(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
