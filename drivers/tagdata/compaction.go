package tagdata

import (
	"errors"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Compaction is an ISO 28560-2 (ISO/IEC 15962) compaction scheme. The zero
// value, CompactAuto, lets the encoder choose the tightest scheme that fits.
type Compaction int

const (
	CompactAuto        Compaction = iota // encoder's choice
	CompactApplication                   // code 0: application defined (content parameter bitmap, ISIL compaction, else raw)
	CompactInteger                       // code 1: unsigned big-endian integer (digits, no leading zero)
	CompactNumeric                       // code 2: BCD, padded with 0xF
	Compact5Bit                          // code 3: upper case and @[\]^_ in 5 bits
	Compact6Bit                          // code 4: upper case, digits and punctuation in 6 bits
	Compact7Bit                          // code 5: ASCII in 7 bits
	CompactOctet                         // code 6: octets (ISO 8859-1 text)
	CompactUTF8                          // code 7: UTF-8 text
)

// code is the 3-bit compaction code in a precursor.
func (c Compaction) code() byte { return byte(c - 1) }

func compactionOf(code byte) Compaction { return Compaction(code&7) + 1 }

var compactionNames = [...]string{"auto", "application-defined", "integer", "numeric", "5-bit", "6-bit", "7-bit", "octets", "utf-8"}

func (c Compaction) String() string {
	if c >= 0 && int(c) < len(compactionNames) {
		return compactionNames[c]
	}
	return "compaction(" + strconv.Itoa(int(c)) + ")"
}

// bitReader reads big-endian bit groups.
type bitReader struct {
	p   []byte
	pos int // in bits
}

func (r *bitReader) left() int { return len(r.p)*8 - r.pos }

// read returns the next n (≤ 8) bits; the caller checks left() first.
func (r *bitReader) read(n int) byte {
	var v byte
	for range n {
		v = v<<1 | r.p[r.pos>>3]>>(7-r.pos&7)&1
		r.pos++
	}
	return v
}

// restAre reports whether every remaining bit equals bit.
func (r *bitReader) restAre(bit byte) bool {
	for i := r.pos; i < len(r.p)*8; i++ {
		if r.p[i>>3]>>(7-i&7)&1 != bit {
			return false
		}
	}
	return true
}

// bitWriter packs big-endian bit groups.
type bitWriter struct {
	p []byte
	n int // bits written
}

func (w *bitWriter) write(v uint32, bits int) {
	for i := bits - 1; i >= 0; i-- {
		if w.n&7 == 0 {
			w.p = append(w.p, 0)
		}
		w.p[len(w.p)-1] |= byte(v>>i&1) << (7 - w.n&7)
		w.n++
	}
}

// padOnes fills the last byte with 1 bits.
func (w *bitWriter) padOnes() {
	for w.n&7 != 0 {
		w.write(1, 1)
	}
}

var (
	errBadPadding = errors.New("bad padding bits")
)

// decodeInteger: unsigned big-endian integer as decimal.
func decodeInteger(p []byte) (string, error) {
	if len(p) == 0 {
		return "", errors.New("integer with no bytes")
	}
	if len(p) <= 8 {
		var v uint64
		for _, b := range p {
			v = v<<8 | uint64(b)
		}
		return strconv.FormatUint(v, 10), nil
	}
	if len(p) > 32 {
		return "", errors.New("integer of " + strconv.Itoa(len(p)) + " bytes is longer than any identifier (32 bytes)")
	}
	return new(big.Int).SetBytes(p).String(), nil
}

// decodeNumeric: BCD digits, a final 0xF nibble pads an odd count.
func decodeNumeric(p []byte) (string, error) {
	b := make([]byte, 0, 2*len(p))
	for i, c := range p {
		for j, nib := range [2]byte{c >> 4, c & 15} {
			switch {
			case nib <= 9:
				b = append(b, '0'+nib)
			case nib == 0xF && i == len(p)-1 && j == 1:
			default:
				return "", errors.New("nibble " + hex8(nib) + " in byte " + strconv.Itoa(i) + " is not a digit")
			}
		}
	}
	return string(b), nil
}

// decode5Bit: characters 0x41..0x5F as their low 5 bits; zero bits pad.
func decode5Bit(p []byte) (string, error) {
	r := bitReader{p: p}
	b := make([]byte, 0, len(p)*8/5)
	for r.left() >= 5 {
		v := r.read(5)
		if v == 0 {
			if !r.restAre(0) {
				return "", errBadPadding
			}
			break
		}
		b = append(b, 0x40|v)
	}
	if !r.restAre(0) {
		return "", errBadPadding
	}
	return string(b), nil
}

// decode6Bit: characters 0x20..0x5F in 6 bits (values below 0x20 stand for
// 0x40..0x5F); padding is a 1 followed by 0s, so a final group 100000 that
// ends the data exactly is padding, not a space.
func decode6Bit(p []byte) (string, error) {
	r := bitReader{p: p}
	b := make([]byte, 0, len(p)*8/6)
	for r.left() >= 6 {
		v := r.read(6)
		if v == 0x20 && r.left() == 0 {
			break
		}
		if v < 0x20 {
			v |= 0x40
		}
		b = append(b, v)
	}
	if n := r.left(); n > 0 && r.read(1) != 1 || !r.restAre(0) {
		return "", errBadPadding
	}
	return string(b), nil
}

// decode7Bit: ASCII in 7 bits; padding is all ones, so a final 1111111 is
// padding, not DEL.
func decode7Bit(p []byte) (string, error) {
	r := bitReader{p: p}
	b := make([]byte, 0, len(p)*8/7)
	for r.left() >= 7 {
		v := r.read(7)
		if v == 0x7F && r.restAre(1) {
			r.pos = len(p) * 8
			break
		}
		b = append(b, v)
	}
	if !r.restAre(1) {
		return "", errBadPadding
	}
	return string(b), nil
}

// decodeOctets: ISO 8859-1 text.
func decodeOctets(p []byte) string {
	ascii := true
	for _, c := range p {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(p)
	}
	r := make([]rune, len(p))
	for i, c := range p {
		r[i] = rune(c)
	}
	return string(r)
}

func decodeUTF8(p []byte) (string, error) {
	if !utf8.Valid(p) {
		return "", errors.New("invalid UTF-8")
	}
	return string(p), nil
}

// ISIL compaction (ISO 28560-2 annex): three character sets with latch and
// shift codes. Upper and lower sets are 5 bits, the numeric set 4 bits.
const (
	isilUpper = iota
	isilLower
	isilDigit
)

func decodeISIL(p []byte) (string, error) {
	r := bitReader{p: p}
	b := make([]byte, 0, len(p)*2)
	set, shifted := isilUpper, -1 // shifted: the set to return to after one character
	for {
		cur := set
		if shifted >= 0 {
			cur = shifted
		}
		bits := 5
		if cur == isilDigit {
			bits = 4
		}
		if r.left() < bits {
			break
		}
		v := r.read(bits)
		if cur == isilDigit {
			switch {
			case v <= 9:
				b = append(b, '0'+v)
			case v == 10:
				b = append(b, '-')
			case v == 11:
				b = append(b, ':')
			case v == 12:
				set, shifted = isilUpper, -1
				continue
			case v == 13:
				shifted = isilUpper
				continue
			case v == 14:
				set, shifted = isilLower, -1
				continue
			case v == 15:
				shifted = isilLower
				continue
			}
		} else {
			switch {
			case v == 0:
				b = append(b, '-')
			case v <= 26:
				if cur == isilUpper {
					b = append(b, 'A'+v-1)
				} else {
					b = append(b, 'a'+v-1)
				}
			case v == 27:
				if cur == isilUpper {
					b = append(b, ':')
				} else {
					b = append(b, '/')
				}
			case v == 28:
				set, shifted = 1-cur, -1 // latch to the other letter set
				continue
			case v == 29:
				shifted = 1 - cur
				continue
			case v == 30:
				set, shifted = isilDigit, -1
				continue
			case v == 31:
				shifted = isilDigit
				continue
			}
		}
		shifted = -1
	}
	if !r.restAre(1) {
		return "", errBadPadding
	}
	return string(b), nil
}

// isilSets returns the sets a character can be written in, preferred first.
func isilSets(c byte) []int {
	switch {
	case c >= 'A' && c <= 'Z':
		return []int{isilUpper}
	case c >= 'a' && c <= 'z' || c == '/':
		return []int{isilLower}
	case c >= '0' && c <= '9':
		return []int{isilDigit}
	case c == '-':
		return []int{isilUpper, isilLower, isilDigit}
	case c == ':':
		return []int{isilUpper, isilDigit}
	}
	return nil
}

func isilCode(c byte, set int) (uint32, int) {
	switch set {
	case isilDigit:
		switch c {
		case '-':
			return 10, 4
		case ':':
			return 11, 4
		}
		return uint32(c - '0'), 4
	case isilUpper:
		switch c {
		case '-':
			return 0, 5
		case ':':
			return 27, 5
		}
		return uint32(c-'A') + 1, 5
	default:
		switch c {
		case '-':
			return 0, 5
		case '/':
			return 27, 5
		}
		return uint32(c-'a') + 1, 5
	}
}

// isilSwitch is the code to latch (shift=false) or shift from one set to
// another.
func isilSwitch(from, to int, shift bool) (uint32, int) {
	var s uint32
	if shift {
		s = 1
	}
	if from == isilDigit {
		if to == isilUpper {
			return 12 + s, 4
		}
		return 14 + s, 4
	}
	if to == isilDigit {
		return 30 + s, 5
	}
	return 28 + s, 5
}

func contains(sets []int, s int) bool {
	for _, x := range sets {
		if x == s {
			return true
		}
	}
	return false
}

// encodeISIL compacts an ISIL: stay in the current set while a character
// fits, shift for a single character from another set, latch when the next
// character needs the new set too. Padding is 1 bits.
func encodeISIL(s string) ([]byte, error) {
	var w bitWriter
	set := isilUpper
	for i := 0; i < len(s); i++ {
		sets := isilSets(s[i])
		if sets == nil {
			return nil, errors.New("character " + strconv.QuoteRune(rune(s[i])) + " cannot appear in an ISIL (A-Z a-z 0-9 - : /)")
		}
		if !contains(sets, set) {
			to := sets[0]
			if i+1 == len(s) || contains(isilSets(s[i+1]), set) {
				w.write(isilSwitch(set, to, true))
				w.write(isilCode(s[i], to))
				continue
			}
			w.write(isilSwitch(set, to, false))
			set = to
		}
		w.write(isilCode(s[i], set))
	}
	w.padOnes()
	return w.p, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func inRange(s string, lo, hi byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < lo || s[i] > hi {
			return false
		}
	}
	return true
}

// canCompact reports whether s survives a round trip through scheme c.
func canCompact(c Compaction, s string) bool {
	switch c {
	case CompactInteger:
		if !isDigits(s) || (s[0] == '0' && len(s) > 1) {
			return false
		}
		_, err := strconv.ParseUint(s, 10, 64)
		return err == nil
	case CompactNumeric:
		return isDigits(s)
	case Compact5Bit:
		return s != "" && inRange(s, 0x41, 0x5F)
	case Compact6Bit:
		return s != "" && inRange(s, 0x20, 0x5F) && s[len(s)-1] != ' '
	case Compact7Bit:
		return s != "" && inRange(s, 0x00, 0x7E)
	case CompactOctet:
		for _, r := range s {
			if r > 0xFF {
				return false
			}
		}
		return utf8.ValidString(s)
	case CompactUTF8:
		return utf8.ValidString(s)
	}
	return false
}

// autoCompaction picks the scheme ISO 28560-2 recommends for s: the
// tightest that can hold it, integer before numeric before 5/6/7-bit, then
// UTF-8 for anything else.
func autoCompaction(s string) Compaction {
	for _, c := range []Compaction{CompactInteger, CompactNumeric, Compact5Bit, Compact6Bit, Compact7Bit} {
		if canCompact(c, s) {
			return c
		}
	}
	return CompactUTF8
}

// compact encodes s with scheme c (not application-defined).
func compact(c Compaction, s string) ([]byte, error) {
	if !canCompact(c, s) {
		return nil, errors.New(strconv.Quote(s) + " cannot be written with " + c.String() + " compaction")
	}
	switch c {
	case CompactInteger:
		v, _ := strconv.ParseUint(s, 10, 64)
		var b []byte
		for ; v > 0; v >>= 8 {
			b = append([]byte{byte(v)}, b...)
		}
		if len(b) == 0 {
			b = []byte{0}
		}
		return b, nil
	case CompactNumeric:
		b := make([]byte, (len(s)+1)/2)
		for i := range b {
			hi := s[2*i] - '0'
			lo := byte(0xF)
			if 2*i+1 < len(s) {
				lo = s[2*i+1] - '0'
			}
			b[i] = hi<<4 | lo
		}
		return b, nil
	case Compact5Bit:
		var w bitWriter
		for i := 0; i < len(s); i++ {
			w.write(uint32(s[i]&0x1F), 5)
		}
		return w.p, nil // zero padding
	case Compact6Bit:
		var w bitWriter
		for i := 0; i < len(s); i++ {
			w.write(uint32(s[i]&0x3F), 6)
		}
		if w.n&7 != 0 {
			w.write(1, 1)
			for w.n&7 != 0 {
				w.write(0, 1)
			}
		}
		return w.p, nil
	case Compact7Bit:
		var w bitWriter
		for i := 0; i < len(s); i++ {
			w.write(uint32(s[i]), 7)
		}
		w.padOnes()
		return w.p, nil
	case CompactOctet:
		b := make([]byte, 0, len(s))
		for _, r := range s {
			b = append(b, byte(r))
		}
		return b, nil
	case CompactUTF8:
		return []byte(s), nil
	}
	return nil, errors.New("compaction " + c.String() + " needs raw bytes")
}

// joinNames joins with ", ".
func joinNames(names []string) string { return strings.Join(names, ", ") }
