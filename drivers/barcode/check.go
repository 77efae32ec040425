package barcode

import (
	"regexp"
	"strconv"
)

// Class says what kind of code a barcode is. The values are stable strings
// so they can label metrics and journal rows.
type Class string

const (
	ClassItem   Class = "item"   // 14-digit library item barcode (T=ItemPrefix)
	ClassPatron Class = "patron" // library patron card: an error during an inventory
	ClassISBN   Class = "isbn"   // ISBN-10, or EAN-13 with a 978/979 "Bookland" prefix
	ClassEAN    Class = "ean"    // EAN-13, EAN-8 or UPC-A product code
	ClassAsset  Class = "asset"  // equipment asset tag (Opts.AssetPattern)
	ClassOther  Class = "other"  // any other code: schools use many without check digits
)

// Opts says how a library numbers its barcodes. Profile and config loaders
// set these fields by name.
type Opts struct {
	// ItemPrefix is the first character of a 14-digit item barcode
	// (T in T IIII NNNNNNNN C), as a character: '3'. 0 disables the rule.
	ItemPrefix byte
	// PatronPrefix is the first character of a 14-digit patron card: '2'.
	// 0 disables the rule.
	PatronPrefix byte
	// Institution is the 4-digit institution code (IIII) of this library.
	// When set, a 14-digit item or patron barcode with another institution
	// code is invalid (it belongs to another library). "" accepts any.
	Institution string
	// AssetPattern matches equipment asset tags (e.g. `^DAB-\d{4}$`). It is
	// tried first, so it wins over every other rule. nil: no asset tags.
	AssetPattern *regexp.Regexp
	// PatronPattern matches patron cards that are not 14-digit library
	// codes (e.g. student ID cards). Tried after AssetPattern. nil: none.
	PatronPattern *regexp.Regexp
	// ISBN10 checks 10-character codes of digits (last may be X) as
	// ISBN-10. A valid one is returned in its ISBN-13 form.
	ISBN10 bool
	// EAN8 checks 8-digit codes as EAN-8. Off by default: many schools use
	// 8-digit local barcodes without a check digit, and nine in ten of those
	// would fail an EAN-8 check. Turn on when the scanner reports the
	// symbology or the library has no 8-digit local codes.
	EAN8 bool
}

// DefaultOpts is the common North American library convention: items start
// with 3, patron cards with 2, any institution, ISBN-10 checked, 8-digit
// codes left unchecked, no asset tags.
var DefaultOpts = Opts{ItemPrefix: '3', PatronPrefix: '2', ISBN10: true}

// Result is what Check says about one code.
type Result struct {
	Code    string // the code, canonical: ISBN-10 → ISBN-13, UPC-A → EAN-13 (leading 0); others as given
	Class   Class
	Valid   bool   // false when a check digit or the format is wrong
	Problem string // why Valid is false, in words; "" when Valid
}

// Check classifies a normalized code (see Normalize) and validates the check
// digit of formats that have one:
//
//   - a tally control barcode (ControlPrefix): never valid as an item.
//   - AssetPattern, then PatronPattern, when configured.
//   - 14 digits starting with ItemPrefix or PatronPrefix: library barcode,
//     mod-10 ("Luhn") check digit, institution code when configured.
//   - 13 digits: EAN-13; 978/979 prefixes are ISBNs.
//   - 12 digits: UPC-A, checked and returned as EAN-13.
//   - 10 characters, digits with an optional final X: ISBN-10 (Opts.ISBN10).
//   - 8 digits: EAN-8 (Opts.EAN8).
//   - anything else: ClassOther, valid (Follett Classic "T12345", Code 39
//     tags, local numbering without a check digit).
//
// Check does not allocate for a valid library or EAN-13 code.
func Check(code string, o Opts) Result {
	if code == "" {
		return Result{Code: code, Class: ClassOther, Problem: "empty code"}
	}
	digits := true
	for i := 0; i < len(code); i++ {
		c := code[i]
		if (c < 0x20 && c != 0x1d) || c == 0x7f { // GS (0x1D) is a GS1 separator, not garbage
			return Result{Code: code, Class: ClassOther,
				Problem: "control character 0x" + hex2(c) + " at offset " + strconv.Itoa(i) + "; normalize the code first"}
		}
		if c < '0' || c > '9' {
			digits = false
		}
	}
	if IsControl(code) { // before AssetPattern: a broad pattern must not take a command for a tag
		return Result{Code: code, Class: ClassControl,
			Problem: "a tally control barcode (from `tally sheet control`), not an item: scan it on a scanner the agent reads"}
	}
	if o.AssetPattern != nil && o.AssetPattern.MatchString(code) {
		return Result{Code: code, Class: ClassAsset, Valid: true}
	}
	if o.PatronPattern != nil && o.PatronPattern.MatchString(code) {
		return Result{Code: code, Class: ClassPatron, Valid: true}
	}
	if !digits {
		if o.ISBN10 && len(code) == 10 && isISBN10Shape(code) {
			return checkISBN10(code)
		}
		return Result{Code: code, Class: ClassOther, Valid: true}
	}
	switch len(code) {
	case 14:
		switch {
		case o.ItemPrefix != 0 && code[0] == o.ItemPrefix:
			return checkLibrary(code, ClassItem, o)
		case o.PatronPrefix != 0 && code[0] == o.PatronPrefix:
			return checkLibrary(code, ClassPatron, o)
		}
	case 13:
		class := ClassEAN
		if code[:3] == "978" || code[:3] == "979" {
			class = ClassISBN
		}
		return checkEAN(code, code, class)
	case 12:
		return checkEAN(code, "0"+code, ClassEAN)
	case 10:
		if o.ISBN10 {
			return checkISBN10(code)
		}
	case 8:
		if o.EAN8 {
			return checkEAN(code, code, ClassEAN)
		}
	}
	return Result{Code: code, Class: ClassOther, Valid: true}
}

func checkLibrary(code string, class Class, o Opts) Result {
	want, _ := LibraryCheckDigit(code[:13])
	if got := code[13]; got != want {
		return Result{Code: code, Class: class, Problem: checkProblem(got, want)}
	}
	if o.Institution != "" && code[1:5] != o.Institution {
		return Result{Code: code, Class: class,
			Problem: "institution code is " + code[1:5] + ", expected " + o.Institution + " (a barcode of another library?)"}
	}
	return Result{Code: code, Class: class, Valid: true}
}

// checkEAN checks the EAN check digit of code and returns canon as Code.
func checkEAN(code, canon string, class Class) Result {
	want, _ := EANCheckDigit(code[:len(code)-1])
	if got := code[len(code)-1]; got != want {
		return Result{Code: code, Class: class, Problem: checkProblem(got, want)}
	}
	return Result{Code: canon, Class: class, Valid: true}
}

func checkISBN10(code string) Result {
	sum := 0
	for i := 0; i < 9; i++ {
		sum += (10 - i) * int(code[i]-'0')
	}
	want := byte('0' + (11-sum%11)%11)
	if want == '0'+10 {
		want = 'X'
	}
	got := code[9]
	if got == 'x' {
		got = 'X'
	}
	if got != want {
		return Result{Code: code, Class: ClassISBN, Problem: checkProblem(code[9], want)}
	}
	c13, _ := ISBN10To13(code)
	return Result{Code: c13, Class: ClassISBN, Valid: true}
}

func isISBN10Shape(s string) bool {
	for i := 0; i < 9; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	c := s[9]
	return c >= '0' && c <= '9' || c == 'X' || c == 'x'
}

func checkProblem(got, want byte) string {
	return "check digit is " + string(rune(got)) + ", expected " + string(rune(want))
}

func hex2(c byte) string {
	const h = "0123456789abcdef"
	return string([]byte{h[c>>4], h[c&15]})
}

// LibraryCheckDigit returns the mod-10 check digit (as a character) of the
// first 13 digits of a 14-digit library barcode: odd positions doubled
// (digits summed), even positions as they are, C = (10 − sum mod 10) mod 10.
// ok is false when s is not 13 digits.
func LibraryCheckDigit(s string) (c byte, ok bool) {
	if len(s) != 13 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 13; i++ {
		d := int(s[i] - '0')
		if d < 0 || d > 9 {
			return 0, false
		}
		if i%2 == 0 { // position i+1 is odd
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10), true
}

// EANCheckDigit returns the GS1 check digit (as a character) of the data
// digits of an EAN-8 (7), UPC-A (11), EAN-13 (12) or GTIN-14 (13): weights
// 3,1,3,… from the right. ok is false when s is not 7, 11, 12 or 13 digits.
func EANCheckDigit(s string) (c byte, ok bool) {
	switch len(s) {
	case 7, 11, 12, 13:
	default:
		return 0, false
	}
	sum := 0
	for i := 0; i < len(s); i++ {
		d := int(s[len(s)-1-i] - '0')
		if d < 0 || d > 9 {
			return 0, false
		}
		if i%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10), true
}

// ISBN10To13 converts an ISBN-10 to its ISBN-13 form ("978" + the first nine
// digits + a new EAN check digit). It does not validate the ISBN-10 check
// character; ok is false when the first nine characters are not digits.
func ISBN10To13(s string) (string, bool) {
	if len(s) != 10 {
		return "", false
	}
	var b [13]byte
	copy(b[:], "978")
	copy(b[3:], s[:9])
	c, ok := EANCheckDigit(string(b[:12]))
	if !ok {
		return "", false
	}
	b[12] = c
	return string(b[:]), true
}
