package barcode

import (
	"regexp"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "30234000517861", "30234000517861"},
		{"cr suffix", "30234000517861\r", "30234000517861"},
		{"crlf suffix", "30234000517861\r\n", "30234000517861"},
		{"tab suffix", "30234000517861\t", "30234000517861"},
		{"stray lf inside", "3023400\n0517861", "30234000517861"},
		{"hid pos nul padding", "30234000517861\x00\x00\x00", "30234000517861"},
		{"surrounding spaces", "  30234000517861 ", "30234000517861"},
		{"aim codabar", "]F030234000517861", "30234000517861"},
		{"aim ean13", "]E09780306406157", "9780306406157"},
		{"aim code39 keeps letters", "]A0A123456B", "A123456B"},
		{"aim codabar start stop", "]F0A30234000517861B", "30234000517861"},
		{"aim codabar lower start stop", "]F0a30234000517861d", "30234000517861"},
		{"codabar start stop", "A30234000517861B", "30234000517861"},
		{"codabar lower", "c30234000517861d", "30234000517861"},
		{"codabar with cr", "A30234000517861B\r", "30234000517861"},
		{"codabar mixed case kept", "A30234000517861b", "A30234000517861b"},
		{"codabar too short kept", "A12345B", "A12345B"},
		{"codabar min length", "A123456B", "123456"},
		{"codabar clsi", "A3 9990 00019 2148B", "39990000192148"},
		{"clsi", "3 9990 00019 2148", "39990000192148"},
		{"clsi with cr", "3 9990 00019 2148\r\n", "39990000192148"},
		{"double space kept", "3  9990", "3  9990"},
		{"space between letters kept", "12 AB", "12 AB"},
		{"asset tag", "DAB-1234", "DAB-1234"},
		{"abcd", "ABCD", "ABCD"},
		{"ab", "AB", "AB"},
		{"follett classic", "T12345", "T12345"},
		{"isbn10 x", "080442957X", "080442957X"},
		{"lone bracket", "]", "]"},
		{"bracket not aim", "]-12", "]-12"},
		{"empty", "", ""},
		{"only controls", "\r\n\t", ""},
		{"gs1 separator kept", "]C1010950123456789\x1d10ABC", "010950123456789\x1d10ABC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSplitAIM(t *testing.T) {
	tests := []struct{ in, aim, rest string }{
		{"]E09780306406157", "]E0", "9780306406157"},
		{"]d2010950", "]d2", "010950"},
		{"]X0", "]X0", ""},
		{"]E", "", "]E"},
		{"]1A", "", "]1A"},
		{"12345", "", "12345"},
	}
	for _, tt := range tests {
		aim, rest := SplitAIM(tt.in)
		if aim != tt.aim || rest != tt.rest {
			t.Errorf("SplitAIM(%q) = %q, %q; want %q, %q", tt.in, aim, rest, tt.aim, tt.rest)
		}
	}
}

func TestCheck(t *testing.T) {
	inst := DefaultOpts
	inst.Institution = "1234"
	asset := DefaultOpts
	asset.AssetPattern = regexp.MustCompile(`^DAB-\d{4}$`)
	asset.PatronPattern = regexp.MustCompile(`^S\d{6}$`)
	ean8 := DefaultOpts
	ean8.EAN8 = true
	noISBN10 := DefaultOpts
	noISBN10.ISBN10 = false

	tests := []struct {
		name string
		code string
		o    Opts
		want Result
	}{
		{"item jerseycat", "30234000517861", DefaultOpts, Result{"30234000517861", ClassItem, true, ""}},
		{"item bad check", "30234000517862", DefaultOpts, Result{"30234000517862", ClassItem, false, "check digit is 2, expected 1"}},
		{"item transposed", "30234000517681", DefaultOpts, Result{"30234000517681", ClassItem, false, "check digit is 1, expected 9"}},
		// The CLSI manual example does not pass mod-10: it must be reported.
		{"clsi manual example", "39990000192148", DefaultOpts, Result{"39990000192148", ClassItem, false, "check digit is 8, expected 3"}},
		{"patron", "20234000123456", DefaultOpts, Result{"20234000123456", ClassPatron, true, ""}},
		{"patron bad", "20234000123457", DefaultOpts, Result{"20234000123457", ClassPatron, false, "check digit is 7, expected 6"}},
		{"institution ok", "31234000000016", inst, Result{"31234000000016", ClassItem, true, ""}},
		{"institution other", "30234000517861", inst, Result{"30234000517861", ClassItem, false, "institution code is 0234, expected 1234 (a barcode of another library?)"}},
		{"14 digits other prefix", "40234000517861", DefaultOpts, Result{"40234000517861", ClassOther, true, ""}},
		{"prefixes disabled", "30234000517862", Opts{}, Result{"30234000517862", ClassOther, true, ""}},
		{"isbn13", "9780306406157", DefaultOpts, Result{"9780306406157", ClassISBN, true, ""}},
		{"isbn13 979", "9791000000008", DefaultOpts, Result{"9791000000008", ClassISBN, true, ""}},
		{"isbn13 bad", "9780306406158", DefaultOpts, Result{"9780306406158", ClassISBN, false, "check digit is 8, expected 7"}},
		{"isbn10", "0306406152", DefaultOpts, Result{"9780306406157", ClassISBN, true, ""}},
		{"isbn10 X", "080442957X", DefaultOpts, Result{"9780804429573", ClassISBN, true, ""}},
		{"isbn10 x lower", "080442957x", DefaultOpts, Result{"9780804429573", ClassISBN, true, ""}},
		{"isbn10 bad", "0306406153", DefaultOpts, Result{"0306406153", ClassISBN, false, "check digit is 3, expected 2"}},
		{"isbn10 X wrong", "030640615X", DefaultOpts, Result{"030640615X", ClassISBN, false, "check digit is X, expected 2"}},
		{"isbn10 off", "0306406153", noISBN10, Result{"0306406153", ClassOther, true, ""}},
		{"isbn10 off X", "080442957X", noISBN10, Result{"080442957X", ClassOther, true, ""}},
		{"ean13", "4006381333931", DefaultOpts, Result{"4006381333931", ClassEAN, true, ""}},
		{"ean13 bad", "4006381333932", DefaultOpts, Result{"4006381333932", ClassEAN, false, "check digit is 2, expected 1"}},
		{"upc-a", "036000291452", DefaultOpts, Result{"0036000291452", ClassEAN, true, ""}},
		{"upc-a bad", "036000291453", DefaultOpts, Result{"036000291453", ClassEAN, false, "check digit is 3, expected 2"}},
		{"ean8 off", "96385075", DefaultOpts, Result{"96385075", ClassOther, true, ""}},
		{"ean8", "96385074", ean8, Result{"96385074", ClassEAN, true, ""}},
		{"ean8 bad", "96385075", ean8, Result{"96385075", ClassEAN, false, "check digit is 5, expected 4"}},
		{"follett classic", "T12345", DefaultOpts, Result{"T12345", ClassOther, true, ""}},
		{"asset", "DAB-1234", asset, Result{"DAB-1234", ClassAsset, true, ""}},
		{"asset not matched", "DAB-12345", asset, Result{"DAB-12345", ClassOther, true, ""}},
		{"patron pattern", "S123456", asset, Result{"S123456", ClassPatron, true, ""}},
		{"empty", "", DefaultOpts, Result{"", ClassOther, false, "empty code"}},
		{"control", "3023\r4000517861", DefaultOpts, Result{"3023\r4000517861", ClassOther, false, "control character 0x0d at offset 4; normalize the code first"}},
		{"gs1 separator", "0109501234\x1d10AB", DefaultOpts, Result{"0109501234\x1d10AB", ClassOther, true, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Check(tt.code, tt.o); got != tt.want {
				t.Errorf("Check(%q) = %+v, want %+v", tt.code, got, tt.want)
			}
		})
	}
}

func TestCheckDigits(t *testing.T) {
	if c, ok := LibraryCheckDigit("3023400051786"); !ok || c != '1' {
		t.Errorf("LibraryCheckDigit(3023400051786) = %c, %v; want 1", c, ok)
	}
	if _, ok := LibraryCheckDigit("302340005178a"); ok {
		t.Error("LibraryCheckDigit accepted a letter")
	}
	if _, ok := LibraryCheckDigit("302"); ok {
		t.Error("LibraryCheckDigit accepted 3 digits")
	}
	if c, ok := EANCheckDigit("978030640615"); !ok || c != '7' {
		t.Errorf("EANCheckDigit(978030640615) = %c, %v; want 7", c, ok)
	}
	if _, ok := EANCheckDigit("97803064061"); !ok {
		t.Error("EANCheckDigit rejected 11 digits (UPC-A data)")
	}
	if _, ok := EANCheckDigit("9780306"); !ok {
		t.Error("EANCheckDigit rejected 7 digits (EAN-8 data)")
	}
	if _, ok := EANCheckDigit("12345"); ok {
		t.Error("EANCheckDigit accepted 5 digits")
	}
	if s, ok := ISBN10To13("0306406152"); !ok || s != "9780306406157" {
		t.Errorf("ISBN10To13(0306406152) = %q, %v; want 9780306406157", s, ok)
	}
	if _, ok := ISBN10To13("03064X6152"); ok {
		t.Error("ISBN10To13 accepted a letter inside")
	}
}

// Every valid library barcode must survive its round trip through a
// scanner's decorations.
func TestNormalizeThenCheck(t *testing.T) {
	for _, raw := range []string{
		"30234000517861", "A30234000517861B\r\n", "]F030234000517861\r", "]F0D30234000517861A",
		"3 0234 00051 7861", "3 0234 00051 7861\t", "  30234000517861\x00",
	} {
		r := Check(Normalize(raw), DefaultOpts)
		if r.Code != "30234000517861" || r.Class != ClassItem || !r.Valid {
			t.Errorf("Check(Normalize(%q)) = %+v", raw, r)
		}
	}
}

func TestCheckZeroAllocs(t *testing.T) {
	asset := DefaultOpts
	asset.AssetPattern = regexp.MustCompile(`^DAB-\d{4}$`)
	for _, tc := range []struct {
		code string
		o    Opts
	}{
		{"30234000517861", DefaultOpts},
		{"9780306406157", DefaultOpts},
		{"T12345", DefaultOpts},
		{"30234000517861", asset},
	} {
		if n := testing.AllocsPerRun(100, func() { _ = Check(tc.code, tc.o) }); n != 0 {
			t.Errorf("Check(%q) allocates %v times, want 0", tc.code, n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = Normalize("]F0A30234000517861B") }); n != 0 {
		t.Errorf("Normalize allocates %v times on a code without interior junk, want 0", n)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"30234000517861\r\n", "A30234000517861B", "]F0a30234000517861d", "3 9990 00019 2148",
		"DAB-1234", "ABCD", "]", "]A0", " \t", "A1 2B", "]F0A B", "\x00\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Normalize(in)
		if len(out) > len(in) {
			t.Fatalf("Normalize(%q) = %q grew", in, out)
		}
		if strings.ContainsAny(out, "\r\n\t\x00") {
			t.Fatalf("Normalize(%q) = %q kept a control character", in, out)
		}
		if out != strings.Trim(out, " ") {
			t.Fatalf("Normalize(%q) = %q has surrounding spaces", in, out)
		}
		if isDigits(in) && out != in {
			t.Fatalf("Normalize(%q) = %q changed an all-digit code", in, out)
		}
		// Normalize never invents characters: out is a subsequence of in.
		j := 0
		for i := 0; i < len(in) && j < len(out); i++ {
			if in[i] == out[j] {
				j++
			}
		}
		if j != len(out) {
			t.Fatalf("Normalize(%q) = %q is not a subsequence of its input", in, out)
		}
	})
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"30234000517861", "20234000123456", "0306406152", "080442957X", "9780306406157",
		"036000291452", "96385074", "T12345", "", "\x1d", "3023\r4000517861",
	} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, code string, ean8 bool) {
		o := DefaultOpts
		o.EAN8 = ean8
		o.Institution = "0234"
		r := Check(code, o)
		if r.Valid != (r.Problem == "") {
			t.Fatalf("Check(%q) = %+v: Valid and Problem disagree", code, r)
		}
		switch r.Class {
		case ClassItem, ClassPatron, ClassISBN, ClassEAN, ClassOther:
		default:
			t.Fatalf("Check(%q) class %q", code, r.Class)
		}
		if r.Valid && r.Class == ClassItem {
			// A valid item barcode passes Luhn over all 14 digits.
			if len(r.Code) != 14 || !luhnOK(r.Code) {
				t.Fatalf("Check(%q) valid item but fails Luhn", code)
			}
		}
		if r.Valid && (r.Class == ClassEAN || r.Class == ClassISBN) {
			if c, ok := EANCheckDigit(r.Code[:len(r.Code)-1]); !ok || c != r.Code[len(r.Code)-1] {
				t.Fatalf("Check(%q) = %+v: canonical code fails its EAN check", code, r)
			}
		}
	})
}

// luhnOK is an independent Luhn check (doubling every second digit from the
// right), used to cross-check LibraryCheckDigit.
func luhnOK(s string) bool {
	sum := 0
	for i := 0; i < len(s); i++ {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

var sinkResult Result
var sinkString string

func BenchmarkCheckItem(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkResult = Check("30234000517861", DefaultOpts)
	}
}

func BenchmarkCheckItemAssetPattern(b *testing.B) {
	o := DefaultOpts
	o.AssetPattern = regexp.MustCompile(`^DAB-\d{4}$`)
	b.ReportAllocs()
	for b.Loop() {
		sinkResult = Check("30234000517861", o)
	}
}

func BenchmarkCheckInvalid(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkResult = Check("30234000517862", DefaultOpts)
	}
}

func BenchmarkNormalizeClean(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkString = Normalize("30234000517861")
	}
}

func BenchmarkNormalizeCodabarCR(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkString = Normalize("A30234000517861B\r")
	}
}

// BenchmarkNormalizeCheck is the per-barcode cost the pipeline pays.
func BenchmarkNormalizeCheck(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkResult = Check(Normalize("]F0A30234000517861B"), DefaultOpts)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/barcode")
}
