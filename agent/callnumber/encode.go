package callnumber

// Key layout. A key is printable ASCII (plus upper-cased UTF-8 letters), so it
// can be stored in a TEXT column and compared with BINARY collation.
//
//	Dewey  'D' {prefix word ' '} ' ' class ' ' decimal ' ' cutter ' ' suffix
//	LC     'L' letters ' ' number decimal ' ' {date | cutter ' ' | work ' '} [' ' suffix]
//	Other  'O' suffix
//
// Every part ends in the separator ' ', the lowest byte a key holds, so
// comparing keys compares parts in order and a missing part sorts before a
// present one ("nothing before something"). Trailing separators are trimmed,
// which keeps keys short and makes a call number's key a byte prefix of the
// keys it is a prefix of ("599" of "599.75 ROW"), which InRange relies on.
//
// Digit strings are stored in two ways:
//   - as written, compared digit by digit: the Dewey class and decimal, LC
//     decimals and cutters (599.75 < 599.8, .R69 < .R7);
//   - as numbers, for the LC class number and every number in a suffix
//     (v.2 < v.10): a length byte '0'+n (n significant digits, at most 16;
//     longer ones share '@' and compare as text) and then the digits. Length
//     bytes sort above ' ' and below letters, so numbers file before words.
//
// Letters are upper-cased, so keys are case-insensitive; other characters
// only separate words.
const sep = ' '

// appendKey appends the key of p to b.
func (p *parsed) appendKey(b []byte) []byte {
	t, s := p.t, p.s
	start := len(b)
	switch p.scheme {
	case Dewey:
		b = append(b, 'D')
		for i := range p.npre {
			b = appendUpper(b, p.text(i))
			b = append(b, sep)
		}
		b = append(b, sep)
		if p.class >= 0 {
			b = append(b, p.text(p.class)...)
		}
		b = append(b, sep)
		b = p.appendDecimal(b)
		for i := p.cutFrom; i < p.cutTo; i++ {
			b = appendUpper(b, p.text(i))
		}
		b = append(b, sep)
		b = appendNatural(b, s, t[p.rest:])
	case LC:
		b = append(b, 'L')
		b = appendUpper(b, p.text(0))
		b = append(b, sep)
		if p.class >= 0 {
			b = appendNum(b, p.text(p.class))
		}
		b = p.appendDecimal(b)
		cutterSeen := false
		for k := p.elemFrom; k < p.rest; {
			e, next := p.lcElem(k, cutterSeen)
			switch e {
			case eNum:
				b = appendNum(b, p.text(k))
			case eCutter:
				b = appendUpper(b, p.text(k))
				b = append(b, p.text(k+1)...)
				b = append(b, sep)
				cutterSeen = true
			case eWork:
				b = appendUpper(b, p.text(k))
				b = append(b, sep)
			}
			k = next
		}
		if p.rest < len(t) {
			b = append(b, sep)
			b = appendNatural(b, s, t[p.rest:])
		}
	default:
		if len(t) == 0 {
			return b
		}
		b = append(b, 'O')
		b = appendNatural(b, s, t)
	}
	for len(b) > start && b[len(b)-1] == sep {
		b = b[:len(b)-1]
	}
	return b
}

// appendDecimal appends the decimal digits without trailing zeros (599.70 is
// 599.7, as in Koha's zero-padded key) and a separator.
func (p *parsed) appendDecimal(b []byte) []byte {
	d := len(b)
	for i := p.decFrom; i < p.decTo; i++ {
		b = append(b, p.text(i)...)
	}
	for len(b) > d && b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	return append(b, sep)
}

// wordOnly reports whether p is nothing but Dewey prefix words ("B", "J FIC"),
// which a range end matches as whole words: "B" ends before "BIO".
func (p *parsed) wordOnly() bool {
	return p.scheme == Dewey && p.npre > 0 && p.class < 0 && p.cutFrom == p.cutTo && p.rest == len(p.t)
}

// appendNatural encodes tokens for natural order: words case-insensitively,
// word by word, and digit runs by numeric value.
func appendNatural(b []byte, s string, t []token) []byte {
	for _, tk := range t {
		w := s[tk.start:tk.end]
		if tk.kind == digits {
			b = appendNum(b, w)
			continue
		}
		b = appendUpper(b, w)
		b = append(b, sep)
	}
	return b
}

// appendNum encodes a digit run by value: length byte, then the digits
// without leading zeros.
func appendNum(b []byte, w string) []byte {
	for len(w) > 0 && w[0] == '0' {
		w = w[1:]
	}
	b = append(b, '0'+byte(min(len(w), 16)))
	return append(b, w...)
}
