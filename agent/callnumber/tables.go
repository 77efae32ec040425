package callnumber

import "strings"

// lcClasses holds the Library of Congress classes and subclasses (LC
// Classification Outline). Only these letters start an auto-detected LC call
// number, so "DVD 791.43" or "KIT 12" are never mistaken for LC. Class J on
// its own (official gazettes) is left out: in a school library "J" is the
// juvenile section, even before a cutter with a point ("J 599.75 .R69"); JA–JZ
// stay.
var lcClasses = set(`
AC AE AG AI AM AN AP AS AY AZ
B BC BD BF BH BJ BL BM BP BQ BR BS BT BV BX
C CB CC CD CE CJ CN CR CS CT
D DA DAW DB DC DD DE DF DG DH DJ DJK DK DL DP DQ DR DS DT DU DX
E F
G GA GB GC GE GF GN GR GT GV
H HA HB HC HD HE HF HG HJ HM HN HQ HS HT HV HX
JA JC JF JJ JK JL JN JQ JS JV JX JZ
K L LA LB LC LD LE LF LG LH LJ LT
M ML MT
N NA NB NC ND NE NK NX
P PA PB PC PD PE PF PG PH PJ PK PL PM PN PQ PR PS PT PZ
Q QA QB QC QD QE QH QK QL QM QP QR
R RA RB RC RD RE RF RG RJ RK RL RM RS RT RV RX RZ
S SB SD SF SH SK
T TA TC TD TE TF TG TH TJ TK TL TN TP TR TS TT TX
U UA UB UC UD UE UF UG UH
V VA VB VC VD VE VF VG VK VM
Z ZA`)

// audience words come first in a school-library prefix: who the shelf is for
// or where it stands ("E", "J", "YA", "REF").
var audience = set(`
E EASY EZ ER EP P PIC J JUV JR YA TEEN REF R PROF PRO TR SPA SPANISH ESL RES`)

// format words name a medium ("DVD", "AB" audiobook, "PB" paperback, "BB"
// board book, "LP" large print).
var format = set(`AV DVD CD AB AUD AUDIO PB PBK BB BD VID VHS KIT MAG PER LP`)

// section words name a section ("FIC", "B", "SC", "GN").
var section = set(`FIC F FICTION B BIO BIOG SC SS GN GRAPHIC NF MYS SF HF HOL MANGA COMIC`)

// volumeWords mark enumeration, not a cutter: "599.75 v.2", "FIC ROW bk 3".
var volumeWords = set(`V VOL VOLUME C COP COPY PT PART NO BK BOOK DISC DISK SER ED SEASON`)

func set(words string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// inSet reports whether the ASCII word w, in any case, is in m.
func inSet(m map[string]bool, w string) bool {
	var buf [12]byte
	n, ok := upperASCII(buf[:], w)
	return ok && m[string(buf[:n])]
}

func isLCClass(w string) bool {
	var buf [3]byte
	n, ok := upperASCII(buf[:], w)
	if !ok || n == 0 {
		return false
	}
	if buf[0] == 'K' && n > 1 {
		// Law: K plus a jurisdiction letter, optionally a third letter (KF, KFN, KJV…).
		return strings.IndexByte("BDEFGHJKLMNPQRSTUVWZ", buf[1]) >= 0
	}
	return lcClasses[string(buf[:n])]
}
// prefixStage orders the words of a school prefix: audience, then format,
// then section, each at most once ("J FIC", "YA GN", "PB FIC", "J PB FIC").
// It returns 0 for a word that is none of them.
func prefixStage(w string) int {
	switch {
	case inSet(audience, w):
		return 1
	case inSet(format, w):
		return 2
	case inSet(section, w):
		return 3
	}
	return 0
}

func isPrefixWord(w string) bool { return prefixStage(w) > 0 }
