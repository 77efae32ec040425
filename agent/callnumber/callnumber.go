// Package callnumber parses library call numbers and builds sort keys that put
// items in the order a librarian shelves them.
//
// Three schemes are recognised from the text (or forced by the caller):
//
//   - Dewey, with the prefixes school libraries use: "599.75 ROW",
//     "J 599.75 .R69 2019 c.2", "FIC ROWLING", "E FIC CAR", "B LIN", "92 ROW",
//     "REF 031 WOR v.3", "DVD 791.43 STA".
//   - LC: "QA76.73 .P98 2020", "PS3545 .I345 Z5 1990 v.2", "E185.5 .B4".
//   - Other: anything else, in natural order (digit runs by value, case
//     ignored): "Cart 2" before "Cart 10".
//
// # Shelf order
//
// Keys agree with Koha's cn_sort (C4::ClassSortRoutine::Dewey, and
// Library::CallNumber::LC behind C4::ClassSortRoutine::LCC) wherever Koha is
// right:
//
//   - Schemes: all Dewey, then all LC, then Other.
//   - Dewey sections: the prefix is the first sort component, word by word,
//     alphabetically, as in Koha: plain Dewey numbers first, then "AB", "B",
//     "BIO", "DVD", "E", "E FIC", "FIC", "GN", "J", "J B", "J FIC", "REF",
//     "SC", "YA", "YA FIC"… Within a prefix: entries without a class number
//     ("FIC ROW") by cutter, then class numbers. A prefix is a group: every
//     "E" entry comes before every "E FIC" entry (Koha interleaves them).
//   - Dewey class: the whole number digit by digit, the decimal as a decimal
//     fraction (599.75 < 599.8; 599.7 = 599.70), then the cutter letter by
//     letter as a decimal (.R69 < .R7 < ROW < ROWLING), then the rest in
//     natural order (2019 < 2020, v.2 < v.10, c.2). The biography number
//     "92" files just before 920 (Koha files it after 929.99).
//   - LC: class letters alphabetically (Q < QA < QB), class number by value
//     (QA76 < QA761), decimal as a fraction, dates in the class by value,
//     cutters as decimals, a suffix (date, volume) before a further cutter,
//     numbers in the suffix by value.
//
// Where Koha's Dewey key goes wrong we differ on purpose: its separator '_'
// sorts after letters and digits, so "FIC ROW 2" files after "FIC ROWLING"
// and "J" after "JUV"; its numbers outside the class compare as text, so
// "v.10" files before "v.2". The tests list each case.
package callnumber

import (
	"bytes"
	"slices"
	"strings"
)

// KeyVersion changes whenever Key's output changes for any input. Stores
// that persist keys compare it and recompute their keys when it differs.
const KeyVersion = "1"

// Scheme names a classification scheme.
type Scheme string

const (
	Dewey Scheme = "dewey"
	LC    Scheme = "lc"
	Other Scheme = "other"
)

// CallNumber is a parsed call number. Text fields are upper-cased, with single
// spaces between words.
type CallNumber struct {
	Raw    string
	Scheme Scheme
	// Prefix is the Dewey section: "FIC", "J FIC", "REF", "E B".
	Prefix string
	// Class is the Dewey number ("599.75", "92") or the LC class with its
	// number and any dates in it ("QA76.73", "JK1968 2004").
	Class string
	// Cutters are the Dewey cutter ("R69", "ROWLING") or the LC cutters
	// ("P98", "I345", "Z5"), without the leading point.
	Cutters []string
	// Suffix is the rest: volume, copy, date, or the whole text of Other.
	Suffix string
}

// Key returns the sort key of c, as KeyScheme(c.Raw, c.Scheme).
func (c CallNumber) Key() string { return KeyScheme(c.Raw, c.Scheme) }

// Stack buffer sizes: real call numbers have fewer than 16 tokens and keys
// under 40 bytes, so Key allocates only the returned string. Longer input
// still works; the buffers then grow on the heap.
const (
	tokBuf = 32
	keyBuf = 64
)

// Parse splits s into its parts. It never fails: what is not recognisably
// Dewey or LC is Scheme Other.
func Parse(s string) CallNumber { return ParseScheme(s, "") }

// ParseScheme is Parse with the scheme forced, as for KeyScheme.
func ParseScheme(s string, sch Scheme) CallNumber {
	var tb [tokBuf]token
	p := parse(s, sch, tb[:0])
	return p.callNumber(s)
}

// Key returns the sort key of s: bytes.Compare(Key(a), Key(b)) is shelf
// order. Keys are short printable strings (about as long as the call number),
// safe to store in a TEXT column and compare with binary collation.
func Key(s string) string { return KeyScheme(s, "") }

// KeyScheme is Key with the scheme forced ("" detects it). A forced Dewey
// reads leading words as a prefix and any number as the class; a forced LC
// that does not start with one to three letters falls back to Other.
func KeyScheme(s string, sch Scheme) string {
	var tb [tokBuf]token
	var kb [keyBuf]byte
	p := parse(s, sch, tb[:0])
	return string(p.appendKey(kb[:0]))
}

// Compare returns -1, 0 or +1 as a shelves before, with or after b. It agrees
// with comparing Key(a) and Key(b).
func Compare(a, b string) int {
	var ta, tb [tokBuf]token
	var ka, kb [keyBuf]byte
	pa := parse(a, "", ta[:0])
	pb := parse(b, "", tb[:0])
	return bytes.Compare(pa.appendKey(ka[:0]), pb.appendKey(kb[:0]))
}

// Sort sorts call numbers into shelf order; equal keys keep their order.
func Sort(cns []string) {
	type keyed struct{ key, cn string }
	ks := make([]keyed, len(cns))
	for i, cn := range cns {
		ks[i] = keyed{Key(cn), cn}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
	for i := range ks {
		cns[i] = ks[i].cn
	}
}

func (p *parsed) callNumber(raw string) CallNumber {
	c := CallNumber{Raw: raw, Scheme: p.scheme}
	upper := func(w string) string { return string(appendUpper(nil, w)) }
	var b strings.Builder
	switch p.scheme {
	case Dewey:
		for i := range p.npre {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(upper(p.text(i)))
		}
		c.Prefix = b.String()
		b.Reset()
		if p.class >= 0 {
			b.WriteString(p.text(p.class))
		}
		p.writeDecimal(&b)
		c.Class = b.String()
		if p.cutTo > p.cutFrom {
			b.Reset()
			for i := p.cutFrom; i < p.cutTo; i++ {
				b.WriteString(upper(p.text(i)))
			}
			c.Cutters = []string{b.String()}
		}
	case LC:
		b.WriteString(upper(p.text(0)))
		if p.class >= 0 {
			b.WriteString(p.text(p.class))
		}
		p.writeDecimal(&b)
		cutterSeen := false
		for k := p.elemFrom; k < p.rest; {
			e, next := p.lcElem(k, cutterSeen)
			switch e {
			case eNum:
				b.WriteByte(' ')
				b.WriteString(p.text(k))
			case eCutter:
				c.Cutters = append(c.Cutters, upper(p.text(k))+p.text(k+1))
				cutterSeen = true
			case eWork:
				c.Cutters[len(c.Cutters)-1] += upper(p.text(k))
			}
			k = next
		}
		c.Class = b.String()
	}
	if p.rest < len(p.t) {
		c.Suffix = strings.Join(strings.Fields(upper(p.s[p.t[p.rest].start:])), " ")
	}
	return c
}

func (p *parsed) writeDecimal(b *strings.Builder) {
	if p.decTo > p.decFrom {
		b.WriteByte('.')
		for i := p.decFrom; i < p.decTo; i++ {
			b.WriteString(p.text(i))
		}
	}
}
