package callnumber

import "strings"

// The word tables are switch statements, which the compiler turns into a
// binary search without hashing: cheaper than maps on this hot path.

// isLCClass reports whether w is a Library of Congress class or subclass (LC
// Classification Outline). Only these letters start an auto-detected LC call
// number, so "DVD 791.43" or "KIT 12" are never mistaken for LC. Class J on
// its own (official gazettes) is left out: in a school library "J" is the
// juvenile section, even before a cutter with a point ("J 599.75 .R69"); JA–JZ
// stay.
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
	switch string(buf[:n]) {
	case "AC", "AE", "AG", "AI", "AM", "AN", "AP", "AS", "AY", "AZ",
		"B", "BC", "BD", "BF", "BH", "BJ", "BL", "BM", "BP", "BQ", "BR", "BS", "BT", "BV", "BX",
		"C", "CB", "CC", "CD", "CE", "CJ", "CN", "CR", "CS", "CT",
		"D", "DA", "DAW", "DB", "DC", "DD", "DE", "DF", "DG", "DH", "DJ", "DJK", "DK", "DL", "DP", "DQ", "DR", "DS", "DT", "DU", "DX",
		"E", "F",
		"G", "GA", "GB", "GC", "GE", "GF", "GN", "GR", "GT", "GV",
		"H", "HA", "HB", "HC", "HD", "HE", "HF", "HG", "HJ", "HM", "HN", "HQ", "HS", "HT", "HV", "HX",
		"JA", "JC", "JF", "JJ", "JK", "JL", "JN", "JQ", "JS", "JV", "JX", "JZ",
		"K", "L", "LA", "LB", "LC", "LD", "LE", "LF", "LG", "LH", "LJ", "LT",
		"M", "ML", "MT",
		"N", "NA", "NB", "NC", "ND", "NE", "NK", "NX",
		"P", "PA", "PB", "PC", "PD", "PE", "PF", "PG", "PH", "PJ", "PK", "PL", "PM", "PN", "PQ", "PR", "PS", "PT", "PZ",
		"Q", "QA", "QB", "QC", "QD", "QE", "QH", "QK", "QL", "QM", "QP", "QR",
		"R", "RA", "RB", "RC", "RD", "RE", "RF", "RG", "RJ", "RK", "RL", "RM", "RS", "RT", "RV", "RX", "RZ",
		"S", "SB", "SD", "SF", "SH", "SK",
		"T", "TA", "TC", "TD", "TE", "TF", "TG", "TH", "TJ", "TK", "TL", "TN", "TP", "TR", "TS", "TT", "TX",
		"U", "UA", "UB", "UC", "UD", "UE", "UF", "UG", "UH",
		"V", "VA", "VB", "VC", "VD", "VE", "VF", "VG", "VK", "VM",
		"Z", "ZA":
		return true
	}
	return false
}

// prefixStage classifies a word of a school-library prefix. The words of a
// prefix come in this order, each kind at most once: audience (who the shelf
// is for or where it stands), format (medium), section. So "J FIC", "YA GN",
// "PB FIC", "J PB FIC", "E B". It returns 0 for any other word.
func prefixStage(w string) int {
	var buf [8]byte
	n, ok := upperASCII(buf[:], w)
	if !ok {
		return 0
	}
	switch string(buf[:n]) {
	case "E", "EASY", "EZ", "ER", "EP", "P", "PIC", "J", "JUV", "JR", "YA", "TEEN",
		"REF", "R", "PROF", "PRO", "TR", "SPA", "SPANISH", "ESL", "RES":
		return 1 // audience
	case "AV", "DVD", "CD", "AB", "AUD", "AUDIO", "PB", "PBK", "BB", "BD", "VID", "VHS",
		"KIT", "MAG", "PER", "LP":
		return 2 // format: audiobook, paperback, board book, large print…
	case "FIC", "F", "FICTION", "B", "BIO", "BIOG", "SC", "SS", "GN", "GRAPHIC", "NF",
		"MYS", "SF", "HF", "HOL", "MANGA", "COMIC":
		return 3 // section
	}
	return 0
}

func isPrefixWord(w string) bool { return prefixStage(w) > 0 }

// isVolumeWord reports whether w marks enumeration rather than a cutter:
// "599.75 v.2", "FIC ROW bk 3".
func isVolumeWord(w string) bool {
	var buf [8]byte
	n, ok := upperASCII(buf[:], w)
	if !ok {
		return false
	}
	switch string(buf[:n]) {
	case "V", "VOL", "VOLUME", "C", "COP", "COPY", "PT", "PART", "NO", "BK", "BOOK",
		"DISC", "DISK", "SER", "ED", "SEASON":
		return true
	}
	return false
}
