// Package barcode turns what a scanner sends into the code a library
// catalog stores, and says what kind of code it is and whether its check
// digit holds.
//
// Two steps, both pure and cheap enough for every read:
//
//   - Normalize removes transport artefacts: stray CR/LF/Tab/NUL, surrounding
//     spaces, an AIM symbology prefix ("]F0"), Codabar start/stop characters
//     and CLSI spacing. It never changes letters or digits of the code itself.
//   - Check classifies a normalized code (library item, patron card, ISBN, EAN,
//     asset tag, other) and validates the check digit of the formats that have
//     one.
//
// Facts and vectors: the 14-digit library barcode and its mod-10 check
// digit as the JerseyCat FAQ (jerseycat.org/faq/print_bar_codes.php) gives
// them, ISBN-10/13 check digits (ISO 2108), CLSI spacing (Intermec and
// Unitech scanner manuals), and AIM symbology identifiers (ISO/IEC 15424;
// github.com/NielsLeenheer/BarcodeParser src/aim.js).
package barcode

import "strings"

// MinCodabarDigits is the shortest digit run Normalize treats as Codabar
// data when it strips start/stop characters without an AIM identifier
// saying the symbology is Codabar. Library Codabar is 14 digits; shorter
// local numbering exists, but below this length a code such as "A1234B" is
// as likely to be a deliberate asset tag as a Codabar read.
const MinCodabarDigits = 6

// Normalize returns the code inside a raw scanner string.
//
// In order:
//  1. CR, LF, Tab and NUL are removed wherever they are (scanner suffixes,
//     HID POS zero padding); surrounding spaces are trimmed.
//  2. A leading AIM symbology identifier "]cm" (']' + letter + one
//     alphanumeric modifier) is removed; see SplitAIM.
//  3. Codabar start/stop characters are removed when the code looks like
//     Codabar: both ends are A–D in the same case and everything between is
//     digits (CLSI spaces allowed) — at least MinCodabarDigits of them.
//     When an AIM prefix said Codabar ("]F"), any A–D pair at the ends is
//     removed, since Codabar data never contains letters. When an AIM prefix
//     named another symbology, nothing is stripped: "A123456B" in Code 39 is
//     a real code.
//  4. CLSI spacing ("3 9990 00019 2148") is removed: when the code is only
//     digits and single spaces between digit groups, the spaces go.
//
// Ordinary codes are untouched: "DAB-1234", "ABCD" (the B…C between the
// ends is not digits), "T12345" (Follett Classic), "A12B" (too short to be
// called Codabar), "12 AB" (spaces between non-digits are kept).
//
// Normalize allocates only when it must remove characters from inside the
// string (control characters, CLSI spaces); otherwise it returns a
// substring of raw.
func Normalize(raw string) string {
	s := strings.Trim(raw, junk) // the usual case: a suffix, no copy needed
	if strings.ContainsAny(s, junk[1:]) {
		b := make([]byte, 0, len(s))
		for i := 0; i < len(s); i++ { // bytewise: invalid UTF-8 passes through unchanged
			if c := s[i]; c != '\r' && c != '\n' && c != '\t' && c != 0 {
				b = append(b, c)
			}
		}
		s = string(b)
	}
	s = trimSpaces(s)
	aim, s := SplitAIM(s)
	s = trimSpaces(s)
	switch {
	case aim == "":
		s = stripCodabar(s, false)
	case aim[1] == 'F':
		s = stripCodabar(s, true)
	}
	return stripCLSI(s)
}

// SplitAIM splits a leading AIM symbology identifier (ISO/IEC 15424,
// "]" + symbology letter + modifier character) off s. It returns "" and s
// unchanged when s does not start with one.
func SplitAIM(s string) (aim, rest string) {
	if len(s) >= 3 && s[0] == ']' && isLetter(s[1]) && isAlnum(s[2]) {
		return s[:3], s[3:]
	}
	return "", s
}

// junk is what Normalize removes: spaces at the ends, the rest anywhere.
const junk = " \r\n\t\x00"

func trimSpaces(s string) string {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	return s
}

// stripCodabar removes Codabar start/stop characters; sure means an AIM
// identifier said the symbology is Codabar.
func stripCodabar(s string, sure bool) string {
	if len(s) < 2 {
		return s
	}
	a, b := s[0], s[len(s)-1]
	if !isStartStop(a) || !isStartStop(b) {
		return s
	}
	mid := s[1 : len(s)-1]
	if sure {
		return trimSpaces(mid)
	}
	if (a >= 'a') != (b >= 'a') { // mixed case: not a scanner's output
		return s
	}
	digits := 0
	for i := 0; i < len(mid); i++ {
		switch c := mid[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == ' ' && i > 0 && i < len(mid)-1:
		default:
			return s
		}
	}
	if digits < MinCodabarDigits {
		return s
	}
	return mid
}

// stripCLSI removes single spaces between digit groups when s is made of
// nothing else.
func stripCLSI(s string) string {
	spaces := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case c == ' ':
			// A space must sit between two digits: not first, not last, not doubled.
			if i == 0 || i == len(s)-1 || s[i-1] == ' ' {
				return s
			}
			spaces++
		default:
			return s
		}
	}
	if spaces == 0 {
		return s
	}
	return strings.ReplaceAll(s, " ", "")
}

func isStartStop(c byte) bool { return (c >= 'A' && c <= 'D') || (c >= 'a' && c <= 'd') }
func isLetter(c byte) bool    { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') }
func isAlnum(c byte) bool     { return isLetter(c) || (c >= '0' && c <= '9') }
