package callnumber

import (
	"unicode"
	"unicode/utf8"
)

// maxInput bounds the bytes of a call number that take part in its key, so
// that a pathological string costs bounded time and memory. Real call numbers
// are under 60 bytes; two strings that agree on their first maxInput bytes
// shelve together.
const maxInput = 256

type kind uint8

const (
	alpha  kind = iota + 1 // a run of letters (any script; case is folded when encoding)
	digits                 // a run of ASCII digits
)

// gap describes the characters between a token and the one before it. The
// parser needs to know whether a token is attached ("QA76", "R69"), follows a
// point ("599.75", ".P98"), or follows a space or other punctuation.
type gap uint8

const (
	gapDot   gap = 1 << iota // '.'
	gapSpace                 // white space
	gapSlash                 // '/' or an apostrophe: DDC segmentation and prime marks
	gapOther                 // any other punctuation, symbol, control or invalid byte
)

type token struct {
	start, end int32 // byte offsets into the (truncated) input
	kind       kind
	gap        gap
}

// scan splits s into letter and digit runs, appending to buf. Everything else
// is separator, recorded only in the next token's gap.
func scan(s string, buf []token) []token {
	if len(s) > maxInput {
		s = s[:maxInput]
	}
	var g gap
	cur := token{start: -1}
	for i := 0; i < len(s); {
		c := s[i]
		var k kind
		size := 1
		switch {
		case c >= '0' && c <= '9':
			k = digits
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			k = alpha
		case c == '\'' && cur.kind == alpha && cur.start >= 0 && i+1 < len(s) && isLetterAt(s, i+1):
			// An apostrophe inside a word is ignored, as in filing: O'Brien is OBRIEN.
			i++
			continue
		case c < utf8.RuneSelf:
			switch c {
			case '.':
				g |= gapDot
			case ' ', '\t', '\n', '\r', '\v', '\f':
				g |= gapSpace
			case '/', '\'':
				g |= gapSlash
			default:
				g |= gapOther
			}
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			size = n
			switch {
			case r == utf8.RuneError && n == 1:
				g |= gapOther
			case unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r):
				// Non-ASCII digits are not numbers here: they sort as letters.
				k = alpha
			case unicode.IsSpace(r):
				g |= gapSpace
			case r == '’' && cur.kind == alpha && cur.start >= 0 && i+n < len(s) && isLetterAt(s, i+n):
				i += n
				continue
			case r == '′' || r == '’':
				g |= gapSlash
			default:
				g |= gapOther
			}
		}
		if cur.start >= 0 && (k == 0 || cur.kind != k || g != 0) {
			cur.end = int32(i)
			buf = append(buf, cur)
			cur.start = -1
		}
		if k != 0 && cur.start < 0 {
			cur = token{start: int32(i), kind: k, gap: g}
			g = 0
		}
		i += size
	}
	if cur.start >= 0 {
		cur.end = int32(len(s))
		buf = append(buf, cur)
	}
	return buf
}

func isLetterAt(s string, i int) bool {
	c := s[i]
	if c < utf8.RuneSelf {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r)
}

// upperASCII copies an ASCII letter token into dst in upper case for table
// look-ups; ok is false if the token is not short ASCII letters.
func upperASCII(dst []byte, w string) (n int, ok bool) {
	if len(w) > len(dst) {
		return 0, false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		case c >= 'A' && c <= 'Z':
		default:
			return 0, false
		}
		dst[i] = c
	}
	return len(w), true
}

// appendUpper appends w with letters folded to upper case and apostrophes
// (which scan keeps inside words) dropped.
func appendUpper(b []byte, w string) []byte {
	for i := 0; i < len(w); {
		c := w[i]
		if c == '\'' {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			if c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(w[i:])
		if r != '’' {
			b = utf8.AppendRune(b, unicode.ToUpper(r))
		}
		i += n
	}
	return b
}
