package callnumber

// parsed is a call number split into token ranges; Key encodes it and Parse
// turns it into strings. Both walk the same structure, so they agree.
type parsed struct {
	s      string
	t      []token
	scheme Scheme

	npre           int // Dewey: t[:npre] are prefix words ("J", "FIC")
	class          int // Dewey class or LC class number token; -1 if none
	decFrom, decTo int // decimal digits: one token, or several joined by DDC segmentation marks
	cutFrom, cutTo int // Dewey: the cutter's attached tokens ("R", "69")
	elemFrom       int // LC: dates in the class, cutters and work letters are t[elemFrom:rest]
	rest           int // t[rest:] is the suffix (volume, copy, date…), compared naturally
}

func (p *parsed) text(i int) string { return p.s[p.t[i].start:p.t[i].end] }

// reset clears the parts, keeping the tokens. (Field by field: assigning a
// whole struct through p would make escape analysis move the token buffer to
// the heap.)
func (p *parsed) reset() {
	p.scheme, p.npre, p.class = "", 0, -1
	p.decFrom, p.decTo, p.cutFrom, p.cutTo, p.elemFrom, p.rest = 0, 0, 0, 0, 0, 0
}

// parse detects the scheme (or applies force) and finds the parts. A forced
// scheme that auto-detection also picks parses identically, so
// KeyScheme(s, Parse(s).Scheme) == Key(s).
func parse(s string, force Scheme, buf []token) parsed {
	if len(s) > maxInput {
		s = s[:maxInput]
	}
	p := parsed{s: s, t: scan(s, buf), class: -1}
	auto := LC
	if !p.tryLC(false) {
		p.reset()
		auto = Dewey
		if !p.tryDewey(false) {
			p.reset()
			p.setOther()
			auto = Other
		}
	}
	if force == auto || (force != Dewey && force != LC && force != Other) {
		return p
	}
	p.reset()
	switch {
	case force == Dewey && p.tryDewey(true):
	case force == LC && p.tryLC(true):
	default:
		p.reset()
		p.setOther()
	}
	return p
}

func (p *parsed) setOther() {
	p.scheme = Other
	p.rest = 0
}

// tryDewey accepts [prefix words] class[.decimal] [cutter] [suffix], or known
// prefix words without a class ("FIC ROW", "E B LIN"). Strictly, a class is
// three digits ("599"), or "92" and other short numbers followed by a cutter
// or decimal; after words that are not school prefixes it needs a decimal or
// cutter too, so "Room 101" stays Other. Relaxed, any digits are a class.
func (p *parsed) tryDewey(relaxed bool) bool {
	t := p.t
	n := len(t)
	if n == 0 {
		return false
	}
	j := 0
	for j < n && t[j].kind == alpha {
		j++
	}
	if j < n && p.deweyClass(j, relaxed) {
		p.scheme = Dewey
		p.npre = j
		p.class = j
		p.deweyTail(j + 1)
		return true
	}
	np := p.knownPrefix()
	if np == 0 && !relaxed {
		return false
	}
	p.scheme = Dewey
	p.npre = np
	p.deweyTail(np)
	return true
}

func (p *parsed) deweyClass(j int, relaxed bool) bool {
	if relaxed {
		return true
	}
	w := p.text(j)
	followed := j+1 < len(p.t) && (p.t[j+1].kind == alpha || isDecimalGap(p.t[j+1].gap))
	if j > 0 {
		if len(w) != 3 && w != "92" {
			return false
		}
		if followed {
			return true
		}
		for i := range j {
			if !isPrefixWord(p.text(i)) {
				return false
			}
		}
		return true
	}
	return len(w) == 3 || len(w) < 3 && followed
}

// knownPrefix counts the leading school-prefix words of a call number without
// a class: audience, format and section words, in that order, each at most
// once ("J", "FIC", "J FIC", "E B", "PB FIC"). So "FIC J" is FIC by an author
// J, not a "FIC J" section.
func (p *parsed) knownPrefix() int {
	t := p.t
	stage := 0
	i := 0
	for i < len(t) && t[i].kind == alpha {
		st := prefixStage(p.text(i))
		if st <= stage {
			break
		}
		stage = st
		i++
	}
	return i
}

func isDecimalGap(g gap) bool { return g&gapDot != 0 && g&(gapSlash|gapOther) == 0 }

func (p *parsed) deweyTail(k int) {
	t := p.t
	n := len(t)
	if p.class >= 0 && k < n && t[k].kind == digits && isDecimalGap(t[k].gap) {
		p.decFrom = k
		k++
		// "599.75/5" (a DDC segmentation mark) is 599.755.
		for k < n && t[k].kind == digits && t[k].gap == gapSlash {
			k++
		}
		p.decTo = k
	}
	p.cutFrom, p.cutTo = k, k
	if k < n && t[k].kind == alpha && !(isVolumeWord(p.text(k)) && k+1 < n && t[k+1].kind == digits) {
		k++
		for k < n && t[k].gap == 0 {
			k++
		}
		p.cutTo = k
	}
	p.rest = k
}

type elem uint8

const (
	eNone   elem = iota
	eNum         // a date or number in the class, before any cutter: "JK1968 2004 .B3"
	eCutter      // a letter and its decimal digits: ".P98", "Z5"
	eWork        // work letters attached to a cutter: the "a" of "P98a"
)

// lcElem classifies t[k] in the middle part of an LC call number and returns
// the index after it. Its rules follow Library::CallNumber::LC, which Koha uses.
func (p *parsed) lcElem(k int, cutterSeen bool) (elem, int) {
	t := p.t
	switch tk := t[k]; tk.kind {
	case digits:
		if !cutterSeen {
			return eNum, k + 1
		}
	case alpha:
		if tk.end-tk.start == 1 && k+1 < len(t) && t[k+1].kind == digits && t[k+1].gap == 0 {
			return eCutter, k + 2
		}
		if cutterSeen && tk.gap == 0 && t[k-1].kind == digits {
			return eWork, k + 1
		}
	}
	return eNone, k
}

// tryLC accepts class letters, a class number with optional decimal, dates,
// cutters and a suffix. Strictly, the letters must be an LC class; when they
// are also a school prefix ("E", "J", "B", "GN", "CD") the number must be
// attached ("E185"), or be followed by a cutter with a point (".B4"), or be
// other than three digits and be followed by a cutter: "E 590 SMI" and
// "J 599.75 R69" are Dewey, "E 185.5 .B4" and "B 72 R87" are LC.
func (p *parsed) tryLC(relaxed bool) bool {
	t := p.t
	n := len(t)
	if n == 0 || t[0].kind != alpha {
		return false
	}
	w := p.text(0)
	if relaxed {
		var buf [3]byte
		if _, ok := upperASCII(buf[:], w); !ok {
			return false
		}
	} else if !isLCClass(w) {
		return false
	}
	if n == 1 {
		if !relaxed && isPrefixWord(w) {
			return false
		}
		p.scheme, p.elemFrom, p.rest = LC, 1, 1
		return true
	}
	if t[1].kind != digits || !relaxed && t[1].end-t[1].start > 4 {
		return false
	}
	p.class = 1
	k := 2
	if k < n && t[k].kind == digits && isDecimalGap(t[k].gap) {
		p.decFrom, p.decTo = k, k+1
		k++
	}
	p.elemFrom = k
	firstCutter := -1
	for k < n {
		e, next := p.lcElem(k, firstCutter >= 0)
		if e == eNone {
			break
		}
		if e == eCutter && firstCutter < 0 {
			firstCutter = k
		}
		k = next
	}
	p.rest = k
	if !relaxed && isPrefixWord(w) {
		num := p.text(1)
		attached := t[1].gap == 0
		dotted := firstCutter >= 0 && t[firstCutter].gap&gapDot != 0
		short := firstCutter >= 0 && len(num) != 3 && num != "92"
		if !attached && !dotted && !short {
			return false
		}
	}
	p.scheme = LC
	return true
}
