package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var updateMARC = flag.Bool("update", false, "rewrite the golden files in testdata/marc and the fuzz seeds in testdata/fuzz")

// --- fixture encoders ---------------------------------------------------

// mfield is one MARC field for the fixture encoders: a control field when
// ctrl is set, else a data field with subfields written as code+value
// ("aThe hobbit").
type mfield struct {
	tag  string
	ctrl string
	ind  string // the two indicators; "" is two blanks
	subs []string
}

func ctl(tag, v string) mfield { return mfield{tag: tag, ctrl: v} }

func df(tag string, subs ...string) mfield { return mfield{tag: tag, subs: subs} }

// dfi is df with indicators ("#1" is blank, 1).
func dfi(tag, ind string, subs ...string) mfield {
	return mfield{tag: tag, ind: strings.ReplaceAll(ind, "#", " "), subs: subs}
}

func (f mfield) indicators() string {
	if len(f.ind) == 2 {
		return f.ind
	}
	return "  "
}

// encodeMARC writes one ISO 2709 record: leader (coding = leader/09, 'a'
// for UTF-8 or ' ' for MARC-8), directory, fields, record terminator.
func encodeMARC(coding byte, fields ...mfield) []byte {
	var dir, data bytes.Buffer
	for _, f := range fields {
		start := data.Len()
		if f.ctrl != "" {
			data.WriteString(f.ctrl)
		} else {
			data.WriteString(f.indicators())
			for _, s := range f.subs {
				data.WriteByte(marcSF)
				data.WriteString(s)
			}
		}
		data.WriteByte(marcFT)
		fmt.Fprintf(&dir, "%3s%04d%05d", f.tag, data.Len()-start, start)
	}
	dir.WriteByte(marcFT)
	base := marcLeaderLen + dir.Len()
	total := base + data.Len() + 1
	var rec bytes.Buffer
	fmt.Fprintf(&rec, "%05dnam %c22%05d   4500", total, coding, base)
	rec.Write(dir.Bytes())
	rec.Write(data.Bytes())
	rec.WriteByte(marcRT)
	if rec.Len() != total {
		panic("encodeMARC: length mismatch")
	}
	return rec.Bytes()
}

// encodeXML writes records as MARCXML; prefix "" uses the default
// namespace, "marc" a prefixed one, "-" none at all.
func encodeXML(prefix string, records ...[]mfield) []byte {
	var b bytes.Buffer
	el := func(name string) string {
		if prefix == "" || prefix == "-" {
			return name
		}
		return prefix + ":" + name
	}
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	switch prefix {
	case "":
		b.WriteString(`<collection xmlns="` + marcXMLNS + `">` + "\n")
	case "-":
		b.WriteString("<collection>\n")
	default:
		fmt.Fprintf(&b, "<%s xmlns:%s=%q>\n", el("collection"), prefix, marcXMLNS)
	}
	for _, fields := range records {
		fmt.Fprintf(&b, "  <%s>\n    <%s>00000nam a2200000   4500</%s>\n", el("record"), el("leader"), el("leader"))
		for _, f := range fields {
			if f.ctrl != "" {
				fmt.Fprintf(&b, "    <%s tag=%q>%s</%s>\n", el("controlfield"), f.tag, xmlText(f.ctrl), el("controlfield"))
				continue
			}
			fmt.Fprintf(&b, "    <%s tag=%q ind1=%q ind2=%q>\n", el("datafield"), f.tag, f.indicators()[:1], f.indicators()[1:])
			for _, s := range f.subs {
				fmt.Fprintf(&b, "      <%s code=%q>%s</%s>\n", el("subfield"), s[:1], xmlText(s[1:]), el("subfield"))
			}
			fmt.Fprintf(&b, "    </%s>\n", el("datafield"))
		}
		fmt.Fprintf(&b, "  </%s>\n", el("record"))
	}
	fmt.Fprintf(&b, "</%s>\n", el("collection"))
	return b.Bytes()
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func xmlText(s string) string { return xmlEscaper.Replace(s) }

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// The records the fixtures are made of.
var (
	hobbit = []mfield{
		ctl("001", "1001"), ctl("008", "830101s1966    nyu           000 1 eng d"),
		df("020", "a9780395071229"),
		df("100", "aTolkien, J. R. R.,", "d1892-1973."),
		df("245", "aThe hobbit, or, There and back again /", "cJ.R.R. Tolkien."),
		df("952", "0 0", "1 0", "40", "70", "aMAIN", "bMAIN", "cFIC", "oFIC TOL", "p31234000000017", "r2024-03-18", "v18.99", "g12.00", "yBOOK", "8FICTION", "91"),
		df("952", "aMAIN", "cFIC", "oFIC TOL", "p31234000000025", "q2024-06-01", "v18.99", "yBOOK", "8FICTION", "92"),
		df("952", "aMAIN", "cFIC", "oFIC TOL", "p31234000000033", "11", "r2023-09-02", "yBOOK", "93"),
	}
	potter = []mfield{
		ctl("001", "1002"),
		df("100", "aRowling, J. K."),
		df("245", "aHarry Potter and the sorcerer's stone /", "cby J.K. Rowling ; illustrations by Mary GrandPré."),
		df("952", "aMAIN", "cFIC", "oFIC ROW", "p31234000000041", "14", "yBOOK", "g7.99"),
		df("952", "aMAIN", "cFIC", "oFIC ROW", "p31234000000058", "01", "11", "q2024-05-01", "yBOOK"),
		df("952", "aMAIN", "cFIC", "oFIC ROW", "p31234000000066", "41", "q2024-05-20", "yBOOK"),
		df("952", "aMAIN", "cFIC", "oFIC ROW", "p31234000000074", "41", "yBOOK"),
		df("952", "aEAST", "cREF", "oREF 823.914 ROW", "p31234000000082", "7-1", "yREF", "v$1,299.00"),
	}
	waldo = []mfield{
		ctl("001", "1003"),
		df("245", "aOù est Charlie? :", "bla grande exposition /", "cby Martin Handford."),
		df("952", "aMAIN", "cPIC", "oE HAN", "p t00042 ", "yPICTURE"),
	}
	noItems = []mfield{
		ctl("001", "1004"),
		df("245", "aAn e-book without items."),
	}
	destiny = []mfield{
		ctl("001", "D77"),
		df("100", "aSendak, Maurice."),
		df("245", "aWhere the wild things are /", "cstory and pictures by Maurice Sendak."),
		df("852", "aNHS", "bEasy", "hE", "iSEN", "p40001", "t1", "91599", "xFSC@aR", "xFSC@bPicture Books"),
		df("852", "aNHS", "bEasy", "hE", "iSEN", "p40002", "t2", "9$17.50", "xFSC@aRef@bReference"),
	}
	destinyRef = []mfield{
		ctl("001", "D78"),
		df("110", "aNational Geographic Society (U.S.)"),
		df("245", "aNational Geographic atlas of the world."),
		df("852", "aNHS", "bReference", "kREF", "h912", "iNAT", "mv.2", "p40003", "924.95", "xnote for staff"),
	}
	polaris = []mfield{
		ctl("001", "P1"),
		df("100", "aCleary, Beverly."),
		df("245", "aRamona the pest /", "cBeverly Cleary ; illustrated by Louis Darling."),
		df("852", "aCentral", "cJuvenile Fiction", "hJ FIC CLE", "p0001000012", "rIn"),
		df("852", "aCentral", "cJuvenile Fiction", "hJ FIC CLE", "p0001000013", "rOut", "u06/15/2024"),
		df("852", "aBranch", "cJuvenile Fiction", "hJ FIC CLE", "p0001000014", "rMissing"),
		df("852", "aBranch", "cJuvenile Fiction", "hJ FIC CLE", "p0001000015", "rIn-Transit"),
		df("852", "aBranch", "cJuvenile Fiction", "hJ FIC CLE", "p0001000016", "uhttp://example.org/ramona"),
	}
	// MARC-8: ANSEL acute (0xE2) before its letter, Ø (0xA2), non-sort marks.
	marc8 = []mfield{
		ctl("001", "M8"),
		df("100", "aGarc\xe2ia M\xe2arquez, Gabriel,"),
		df("245", "a\x88Les \x89mis\xe2erables /", "cVictor Hugo."),
		df("952", "aMAIN", "cFIC", "oFIC HUG", "pM8-1", "yBOOK"),
	}
	// Leader says MARC-8 but the text is UTF-8, as many exports get wrong.
	marc8Mislabelled = []mfield{
		ctl("001", "M9"),
		df("100", "aØstergaard, Åse."),
		df("245", "aSmørrebrød."),
		df("952", "aMAIN", "pM9-1"),
	}
)

func kohaFile() []byte {
	return concat(encodeMARC('a', hobbit...), encodeMARC('a', potter...), encodeMARC('a', waldo...), encodeMARC('a', noItems...))
}

func threeRecords() (a, b, c []byte) {
	return encodeMARC('a', hobbit...), encodeMARC('a', potter...), encodeMARC('a', waldo...)
}

// corrupt returns a copy of rec changed by fn.
func corrupt(rec []byte, fn func([]byte) []byte) []byte {
	return fn(append([]byte(nil), rec...))
}

// marcCase is one golden test: a generated input file, the substrings its
// errors must contain (so a careless -update cannot bless wrong output),
// and whether the whole file must fail.
type marcCase struct {
	name  string
	ext   string
	build func() []byte
	want  []string // substrings of the errors, in order
	fatal bool
}

func marcCases() []marcCase {
	return []marcCase{
		{name: "koha", ext: ".mrc", build: kohaFile},
		{name: "destiny", ext: ".mrc", build: func() []byte {
			return concat(encodeMARC('a', destiny...), encodeMARC('a', destinyRef...))
		}},
		{name: "polaris", ext: ".mrc", build: func() []byte { return encodeMARC('a', polaris...) }},
		{name: "marc8", ext: ".mrc", build: func() []byte {
			return concat(encodeMARC(' ', marc8...), encodeMARC(' ', marc8Mislabelled...))
		}},
		{name: "mrc-bom-newlines", ext: ".mrc", build: func() []byte {
			a, b, c := threeRecords()
			return concat([]byte("\xef\xbb\xbf"), a, []byte("\r\n"), b, []byte("\n"), c, []byte("\n\x1a"))
		}},
		{name: "xml-collection", ext: ".xml", build: func() []byte { return encodeXML("marc", hobbit, waldo, noItems) }},
		{name: "xml-default-namespace", ext: ".xml", build: func() []byte { return encodeXML("", potter, destiny) }},
		{name: "xml-single-no-namespace", ext: ".xml", build: func() []byte {
			return []byte(`<record>
  <leader>00000nam a2200000   4500</leader>
  <controlfield tag="001">S1</controlfield>
  <datafield tag="100" ind1="1" ind2=" "><subfield code="a">Silverstein, Shel.</subfield></datafield>
  <datafield tag="245" ind1="1" ind2="0">
    <subfield code="a">Where the sidewalk ends :</subfield>
    <subfield code="b">the poems &amp; drawings of Shel Silverstein.</subfield>
  </datafield>
  <datafield tag="852" ind1="1" ind2=" ">
    <subfield code="a">MAIN</subfield><subfield code="h">811</subfield><subfield code="i">SIL</subfield>
    <subfield code="p">50001</subfield><subfield code="9">12.95</subfield>
  </datafield>
</record>
`)
		}},
		{name: "xml-bom-wrapped", ext: ".xml", build: func() []byte {
			// BOM, Latin-1 declaration, and records inside an OAI-PMH envelope.
			return []byte("\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n" +
				`<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>
<record><header><identifier>oai:x:1</identifier></header><metadata>
<marc:record xmlns:marc="http://www.loc.gov/MARC21/slim">
  <marc:datafield tag="245" ind1="0" ind2="0"><marc:subfield code="a">Le petit prince /</marc:subfield></marc:datafield>
  <marc:datafield tag="100" ind1="1" ind2=" "><marc:subfield code="a">Saint-Exup` + "\xe9" + `ry, Antoine de,</marc:subfield></marc:datafield>
  <marc:datafield tag="952" ind1=" " ind2=" "><marc:subfield code="p">60001</marc:subfield><marc:subfield code="a">MAIN</marc:subfield></marc:datafield>
</marc:record>
</metadata></record>
</ListRecords></OAI-PMH>
`)
		}},

		// Real exports' shapes (see testdata/real/SOURCES.md).
		{name: "sirsi-949", ext: ".mrc", build: func() []byte {
			return encodeMARC(' ', df("100", "aLovano, Joe,", "d1952-"), df("245", "aFriendly fire /", "cJoe Lovano and Greg Osby"),
				df("949", "a5490", "wLC", "i30007007467409", "rY", "tSOUND", "lHUNT-AUDIO", "mHUNTINGTON", "xCOMPDISCS"),
				df("949", "a5490", "wLC", "i30007007467417", "kCHECKEDOUT", "tSOUND", "lHUNT-AUDIO", "mHUNTINGTON"))
		}},
		{name: "evergreen-852", ext: ".mrc", build: func() []byte {
			return encodeMARC('a', df("245", "aRamona the pest /"), df("852", "aConsortium", "bBR1", "bBR2", "cJuvenile Fiction", "kJ", "jFIC CLE", "gbook", "p39000000123456", "sOn holds shelf", "y$12.00"))
		}},
		{name: "lc-952-and-852", ext: ".mrc", build: func() []byte {
			return encodeMARC(' ', df("100", "aChabon, Michael."), df("245", "aSummerland /", "cMichael Chabon."), df("852", "aMAIN", "hFIC CHA", "p33330001"), df("952", "aII lb11 09-05-02"))
		}},
		{name: "duplicate-in-file", ext: ".mrc", build: func() []byte {
			return concat(encodeMARC('a', waldo...), encodeMARC('a', potter...), encodeMARC('a', waldo...))
		}, want: []string{"input.mrc:3 (byte 709): 952 #1 of 1 at byte 843 (barcode T00042): barcode T00042 is already on record 1 (byte 0) of this file"}},
		{name: "destiny-text-price", ext: ".mrc", build: func() []byte {
			return encodeMARC('a', df("245", "aCharlotte's web /", "cE.B. White."), df("852", "aNHS", "bFiction", "hFIC WHI", "p40009", "9P16.95usd"))
		}},
		{name: "xml-control-char", ext: ".xml", build: func() []byte {
			return encodeXML("", waldo, []mfield{df("245", "aDanish \x1fbtitle"), df("952", "pX2", "92")}, destiny)
		}},

		// Broken files: one per error kind.
		{name: "broken-leader-length", ext: ".mrc", build: func() []byte {
			a, b, c := threeRecords()
			return concat(a, corrupt(b, func(r []byte) []byte { copy(r, "0x1ab"); return r }), c)
		}, want: []string{"input.mrc:2 (byte 523): leader/00-04 record length \"0x1ab\" is not 5 digits; the file is damaged or not MARC 21 — export it again; this record is skipped and reading goes on after the record terminator at byte 1056"}},
		{name: "broken-first-record", ext: ".mrc", build: func() []byte {
			a, _, _ := threeRecords()
			return corrupt(a, func(r []byte) []byte { copy(r, "9x"); return r })
		}, want: []string{"input.mrc:1 (byte 0): leader/00-04 record length \"9x523\" is not 5 digits"}, fatal: true},
		{name: "broken-truncated", ext: ".mrc", build: func() []byte {
			a, b, _ := threeRecords()
			return concat(a, b[:len(b)/2])
		}, want: []string{"runs past the end of the file"}},
		{name: "broken-trailing-bytes", ext: ".mrc", build: func() []byte {
			a, _, _ := threeRecords()
			return concat(a, []byte("12"))
		}, want: []string{"input.mrc:2 (byte 523): file ends with 2 stray bytes \"12\" after the last record"}},
		{name: "broken-record-length", ext: ".mrc", build: func() []byte {
			// The length counts characters, not bytes: "é" and "ç" are two
			// bytes each, so the record is really two bytes longer.
			a, _, c := threeRecords()
			b := encodeMARC('a', ctl("001", "X"), df("245", "aLe café français."), df("952", "pX1"))
			n, _ := strconv.Atoi(string(b[:5]))
			b = corrupt(b, func(r []byte) []byte { copy(r, fmt.Sprintf("%05d", n-2)); return r })
			return concat(a, b, c)
		}, want: []string{"input.mrc:2 (byte 523): record length 93 says the record ends at byte 615, but there is no record terminator (0x1D) there; the next one is at byte 617, which makes the record 95 bytes long"}},
		{name: "broken-record-terminator", ext: ".mrc", build: func() []byte {
			a, b, c := threeRecords()
			return concat(a, corrupt(b, func(r []byte) []byte { r[len(r)-1] = 'X'; return r }), c)
		}, want: []string{"input.mrc:2 (byte 523): no record terminator (0x1D) at byte 1056 where the record length 534 says the record ends (found 0x58)"}},
		{name: "broken-field-terminator", ext: ".mrc", build: func() []byte {
			a, b, c := threeRecords()
			// The 245 is the third field of potter; its last byte is a 0x1E.
			return concat(a, corrupt(b, func(r []byte) []byte {
				end := fieldEnd(r, 2)
				r[end] = '.'
				return r
			}), c)
		}, want: []string{"input.mrc:2 (byte 523): field 245 (bytes 668-763) does not end with a field terminator (0x1E): byte 763 is 0x2E"}},
		{name: "broken-directory-range", ext: ".mrc", build: func() []byte {
			a, b, c := threeRecords()
			return concat(a, corrupt(b, func(r []byte) []byte {
				copy(r[marcLeaderLen+12*3+7:], "99999") // start of the 4th field
				return r
			}), c)
		}, want: []string{"input.mrc:2 (byte 523): directory entry 4 (tag 952) at byte 583 is out of range: its field (bytes 100643-100696) runs past the end of the record data at byte 1055"}},
		{name: "broken-directory-digits", ext: ".mrc", build: func() []byte {
			a, b, c := threeRecords()
			return concat(a, corrupt(b, func(r []byte) []byte { copy(r[marcLeaderLen+12+3:], "00x1"); return r }), c)
		}, want: []string{"input.mrc:2 (byte 523): directory entry 2 (tag 100) at byte 559: field length \"00x1\" or start \"00005\" is not digits"}},
		{name: "broken-base-address", ext: ".mrc", build: func() []byte {
			a, b, c := threeRecords()
			return concat(a, corrupt(b, func(r []byte) []byte { copy(r[12:], "00200"); return r }), c)
		}, want: []string{"input.mrc:2 (byte 523): leader/12-16 base address of data is 00200, but the directory ends at byte 643, so it should be 00121"}},
		{name: "broken-no-barcode", ext: ".mrc", build: func() []byte {
			return concat(
				encodeMARC('a', df("245", "aNo barcode here."), df("952", "aMAIN", "p31234000000090"), df("952", "aMAIN", "oFIC X"), df("952", "p   ")),
				encodeMARC('a', df("245", "aDestiny copy without barcode."), df("852", "aNHS", "t1")))
		}, want: []string{
			"input.mrc:1 (byte 0): 952 #2 of 3 at byte 119: no barcode ($p); give the item a barcode",
			"input.mrc:1 (byte 0): 952 #3 of 3 at byte 135: no barcode", "input.mrc:2 (byte 144): 852 #1 of 1 at byte 227: no barcode",
		}},
		{name: "broken-values", ext: ".mrc", build: func() []byte {
			return encodeMARC('a', df("245", "aBad values."),
				df("952", "p1", "r2024-13-45"),
				df("952", "p2", "qtomorrow", "1yes", "vabc"),
				df("952", "p3", "r2024-02-30"),
				df("852", "p4"))
		}, want: []string{
			`input.mrc:1 (byte 0): 952 #1 of 3 at byte 101 (barcode 1): $r: date "2024-13-45" is not YYYY-MM-DD; correct the item in the library system and export again`,
			`952 #2 of 3 at byte 119 (barcode 2): $q: date "tomorrow" is not YYYY-MM-DD; $1: itemlost "yes" is not a number (Koha writes 0 for none); correct the item`,
			`952 #3 of 3 at byte 145 (barcode 3): $r: date "2024-02-30" is not YYYY-MM-DD`,
		}},
		{name: "broken-utf8", ext: ".mrc", build: func() []byte {
			a, _, c := threeRecords()
			return concat(a, encodeMARC('a', df("245", "aLes mis\xe9rables"), df("952", "pU1")), c)
		}, want: []string{"input.mrc:2 (byte 523): 245 $a at byte 583: byte 0xE9 is not valid UTF-8 although leader/09 says UTF-8"}},
		{name: "broken-marc8-escape", ext: ".mrc", build: func() []byte {
			// ESC ( N switches G0 to Basic Cyrillic: not supported.
			return encodeMARC(' ', df("245", "a\x1b(NVojna i mir\x1bs"), df("952", "pC1"), df("952", "pC2"))
		}, want: []string{"input.mrc:1 (byte 0): 245 $a at byte 65: the record is MARC-8 (leader/09 is not 'a') and an escape to another MARC-8 character set"}},
		{name: "broken-xml-syntax", ext: ".xml", build: func() []byte {
			x := encodeXML("", hobbit, potter)
			return bytes.Replace(x, []byte("<subfield code=\"a\">Rowling"), []byte("<subfield code=\"a\">Rowling & Co"), 1)
		}, want: []string{"input.xml:61: XML is not well-formed: invalid character entity & (no semicolon); nothing after this point can be read"}},
		{name: "broken-xml-values", ext: ".xml", build: func() []byte {
			return encodeXML("", []mfield{df("245", "aXML with bad values"), df("952", "p7", "r2024-13-45"), df("952", "aMAIN", "98")})
		}, want: []string{`input.xml:8: 952 #1 of 2 (barcode 7): $r: date "2024-13-45" is not YYYY-MM-DD`, "input.xml:12: 952 #2 of 2: no barcode ($p)"}},
		{name: "broken-xml-first-record", ext: ".xml", build: func() []byte {
			return []byte("<collection xmlns=\"" + marcXMLNS + "\">\n<record>\n<datafield tag=\"245\">\n</record>\n</collection>\n")
		}, want: []string{"input.xml:4: XML is not well-formed: element <datafield> closed by </record>"}, fatal: true},
		{name: "not-marc", ext: ".mrc", build: func() []byte { return []byte("barcode,title\n123,Hobbit\n") },
			want: []string{"input.mrc: byte 0: byte 0x62 is neither the start of ISO 2709 MARC"}, fatal: true},
		{name: "empty", ext: ".mrc", build: func() []byte { return []byte("\xef\xbb\xbf \n") },
			want: []string{"input.mrc: file is empty"}, fatal: true},
		{name: "no-holdings", ext: ".mrc", build: func() []byte { return encodeMARC('a', noItems...) },
			want: []string{"input.mrc: 1 MARC records but no item holdings (Koha 952, 852, or Sirsi 949/999 with a $i barcode)"}, fatal: true},
		{name: "xml-no-records", ext: ".xml", build: func() []byte { return []byte("<?xml version=\"1.0\"?>\n<rss><channel/></rss>\n") },
			want: []string{"input.xml:1: no MARC <record> elements"}, fatal: true},
	}
}

// fieldEnd returns the index in rec of the field terminator of field i.
func fieldEnd(rec []byte, i int) int {
	base, _ := strconv.Atoi(string(rec[12:17]))
	e := rec[marcLeaderLen+12*i:]
	n, _ := strconv.Atoi(string(e[3:7]))
	s, _ := strconv.Atoi(string(e[7:12]))
	return base + s + n - 1
}

// --- golden files -------------------------------------------------------

type goldenItem struct {
	Barcode    string `json:"barcode"`
	Title      string `json:"title,omitempty"`
	Author     string `json:"author,omitempty"`
	CallNumber string `json:"call_number,omitempty"`
	Library    string `json:"library,omitempty"`
	Location   string `json:"location,omitempty"`
	Collection string `json:"collection,omitempty"`
	ItemType   string `json:"item_type,omitempty"`
	Status     string `json:"status"`
	DueDate    string `json:"due_date,omitempty"`
	LastSeen   string `json:"last_seen,omitempty"`
	Price      int64  `json:"price,omitempty"`
	Kind       string `json:"kind"`
}

type goldenRecord struct {
	Line   int        `json:"line"`
	RawLen int        `json:"raw_len"`
	Item   goldenItem `json:"item"`
}

type goldenFile struct {
	Records  []goldenRecord `json:"records"`
	Errors   []string       `json:"errors,omitempty"`
	Warnings []string       `json:"warnings,omitempty"`
	Unread   int            `json:"unread,omitempty"`
	Err      string         `json:"err,omitempty"`
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02")
}

func toGolden(res *Result, err error) goldenFile {
	g := goldenFile{Records: []goldenRecord{}}
	var recs []Record
	var rowErrs []RowError
	if res != nil {
		recs, rowErrs = res.Records, res.Errors
		for _, w := range res.Warnings {
			g.Warnings = append(g.Warnings, w.Error())
		}
		g.Unread = res.Unread
	}
	for _, r := range recs {
		it := r.Item
		g.Records = append(g.Records, goldenRecord{Line: r.Line, RawLen: len(r.Raw), Item: goldenItem{
			Barcode: it.Barcode, Title: it.Title, Author: it.Author, CallNumber: it.CallNumber,
			Library: it.Library, Location: it.Location, Collection: it.Collection, ItemType: it.ItemType,
			Status: string(it.Status), DueDate: day(it.DueDate), LastSeen: day(it.LastSeen), Price: it.Price,
			Kind: string(it.Kind),
		}})
	}
	for _, e := range rowErrs {
		g.Errors = append(g.Errors, e.Error())
	}
	if err != nil {
		g.Err = err.Error()
	}
	return g
}

func TestParseMARCGolden(t *testing.T) {
	for _, c := range marcCases() {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "marc", c.name)
			in := filepath.Join(dir, "input"+c.ext)
			data := c.build()
			if *updateMARC {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(in, data, 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				committed, err := os.ReadFile(in)
				if err != nil {
					t.Fatalf("%v (run go test -run TestParseMARCGolden -update)", err)
				}
				if !bytes.Equal(committed, data) {
					t.Errorf("%s differs from what the test generates; run with -update and review the diff", in)
				}
				data = committed
			}
			res, err := Read(bytes.NewReader(data), "input"+c.ext, FormatMARC)
			var recs []Record
			var rowErrs []RowError
			if res != nil {
				recs, rowErrs = res.Records, res.Errors
			}
			checkMARCResult(t, data, recs, rowErrs, err)

			var msgs []string
			for _, e := range rowErrs {
				msgs = append(msgs, e.Error())
			}
			if err != nil {
				msgs = append(msgs, err.Error())
			}
			all := strings.Join(msgs, "\n")
			if (err != nil) != c.fatal {
				t.Errorf("fatal error = %v, want fatal %v", err, c.fatal)
			}
			if len(c.want) == 0 && all != "" {
				t.Errorf("unexpected errors:\n%s", all)
			}
			rest := all
			for _, w := range c.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("errors do not contain (in order) %q; got:\n%s", w, all)
					break
				}
				rest = rest[i+len(w):]
			}
			if c.fatal && (recs != nil || rowErrs != nil) {
				t.Errorf("fatal error with %d records and %d row errors; want none", len(recs), len(rowErrs))
			}

			got, _ := json.MarshalIndent(toGolden(res, err), "", "  ")
			got = append(got, '\n')
			golden := filepath.Join(dir, "expected.json")
			if *updateMARC {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestParseMARCGolden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: output differs from golden file\ngot:\n%s\nwant:\n%s", c.name, got, want)
			}
		})
	}
}

// checkMARCResult asserts what must hold for any input: used by the golden
// tests and the fuzz tests.
func checkMARCResult(t *testing.T, data []byte, recs []Record, rowErrs []RowError, err error) {
	t.Helper()
	if err != nil {
		if recs != nil || rowErrs != nil {
			t.Fatalf("error %v returned with %d records and %d row errors", err, len(recs), len(rowErrs))
		}
		if err.Error() == "" {
			t.Fatal("empty error message")
		}
		return
	}
	// The BOM goes first: converted as Latin-1 it would no longer be one,
	// and the control characters of a Latin-1 file would stay.
	s := strings.TrimPrefix(string(data), "\xef\xbb\xbf")
	if enc, _, _ := marcXMLEncoding(s); marcIsLatin1(enc) {
		s = marcLatin1ToUTF8(s) // Raw is the record as UTF-8
	}
	if strings.HasPrefix(strings.TrimLeft(s, " \t\r\n"), "<") {
		s, _ = marcXMLControls(s, 0) // and with control characters as spaces
	}
	for i, r := range recs {
		it := r.Item
		if it.Barcode == "" || it.Barcode != NormalizeID(it.Barcode) {
			t.Fatalf("record %d: barcode %q is empty or not normalized", i, it.Barcode)
		}
		if r.Line < 1 {
			t.Fatalf("record %d: line %d", i, r.Line)
		}
		if r.Raw == "" || !strings.Contains(s, r.Raw) {
			t.Fatalf("record %d: Raw is not a slice of the input", i)
		}
		if r.Raw[len(r.Raw)-1] == marcRT {
			if n, ok := marcDigits(r.Raw[:5]); !ok || n != len(r.Raw) {
				t.Fatalf("record %d: binary Raw of %d bytes does not start with its length: %q", i, len(r.Raw), r.Raw[:5])
			}
		} else if !strings.HasPrefix(r.Raw, "<") || !strings.HasSuffix(r.Raw, ">") {
			t.Fatalf("record %d: XML Raw %q is not an element", i, r.Raw)
		} else if line := strings.Count(s[:strings.Index(s, r.Raw)], "\n") + 1; line != r.Line {
			t.Fatalf("record %d: Line %d, but its XML starts on line %d", i, r.Line, line)
		}
		for _, f := range []string{it.Title, it.Author, it.CallNumber, it.Library, it.Location, it.Collection, it.ItemType} {
			if !utf8.ValidString(f) {
				t.Fatalf("record %d: invalid UTF-8 %q", i, f)
			}
		}
		if _, err := ParseStatus(string(it.Status)); err != nil || it.Status == "" {
			t.Fatalf("record %d: status %q", i, it.Status)
		}
		if !it.DueDate.IsZero() && it.Status != StatusCheckedOut {
			t.Fatalf("record %d: due date with status %s", i, it.Status)
		}
	}
	for _, e := range rowErrs {
		if e.Msg == "" || e.Line < 0 || e.Offset < -1 || e.Offset > int64(len(data)) {
			t.Fatalf("bad row error %+v", e)
		}
	}
}

// --- focused tests ------------------------------------------------------

// TestParseMARCRawAndOffsets checks Raw and offsets byte for byte, and that
// a damaged record between two good ones costs only itself.
func TestParseMARCRawAndOffsets(t *testing.T) {
	a, b, c := threeRecords()
	bad := corrupt(b, func(r []byte) []byte { r[len(r)-2] = 'X'; return r }) // last field terminator
	data := concat(a, bad, c)
	recs, errs, err := ParseMARC(bytes.NewReader(data), "f.mrc")
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || errs[0].Line != 2 || errs[0].Offset != int64(len(a)) {
		t.Fatalf("errors = %v, want one for record 2 at byte %d", errs, len(a))
	}
	if len(recs) != 4 {
		t.Fatalf("%d records, want 3 from record 1 and 1 from record 3", len(recs))
	}
	for i, want := range []struct {
		line int
		raw  []byte
	}{{1, a}, {1, a}, {1, a}, {3, c}} {
		if recs[i].Line != want.line || recs[i].Raw != string(want.raw) {
			t.Errorf("record %d: line %d, raw %q; want line %d, raw of that record", i, recs[i].Line, recs[i].Raw[:24], want.line)
		}
	}
}

// TestParseMARCResync damages the middle of three records at random,
// leaving its length and terminator alone: whatever becomes of it, the
// records on either side are read in full.
func TestParseMARCResync(t *testing.T) {
	a, b, c := threeRecords()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		bad := corrupt(b, func(r []byte) []byte {
			for range 1 + rng.IntN(4) {
				r[5+rng.IntN(len(r)-6)] = byte(rng.IntN(256))
			}
			return r
		})
		data := concat(a, bad, c)
		recs, errs, err := ParseMARC(bytes.NewReader(data), "r.mrc")
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		checkMARCResult(t, data, recs, errs, err)
		lines := map[int]int{}
		for _, r := range recs {
			lines[r.Line]++
		}
		for _, e := range errs {
			if e.Line != 2 {
				t.Fatalf("case %d: error outside record 2: %v", i, e)
			}
		}
		if lines[1] != 3 || lines[3] != 1 {
			t.Fatalf("case %d: items per record %v; want 3 from record 1 and 1 from record 3", i, lines)
		}
	}
}

func TestParseMARCStatus(t *testing.T) {
	due := "q2024-05-01"
	for _, tc := range []struct {
		subs []string
		want Status
		due  bool
	}{
		{nil, StatusAvailable, false},
		{[]string{"00", "10", "40", "70"}, StatusAvailable, false},
		{[]string{due}, StatusCheckedOut, true},
		{[]string{"11"}, StatusLost, false},
		{[]string{"12"}, StatusLost, false},
		{[]string{"14"}, StatusMissing, false},
		{[]string{"01"}, StatusWithdrawn, false},
		{[]string{"41"}, StatusDamaged, false},
		{[]string{"71"}, StatusNotForLoan, false},
		{[]string{"7-1"}, StatusNotForLoan, false},
		{[]string{"01", "11", due}, StatusWithdrawn, false},
		{[]string{"14", due}, StatusMissing, false},
		{[]string{due, "41", "71"}, StatusCheckedOut, true},
		{[]string{"41", "71"}, StatusDamaged, false},
	} {
		f := df("952", append([]string{"pX"}, tc.subs...)...)
		recs, errs, err := ParseMARC(bytes.NewReader(encodeMARC('a', f)), "s.mrc")
		if err != nil || len(errs) > 0 || len(recs) != 1 {
			t.Fatalf("%v: %v %v %d records", tc.subs, err, errs, len(recs))
		}
		it := recs[0].Item
		if it.Status != tc.want || it.DueDate.IsZero() == tc.due {
			t.Errorf("%v: status %s due %v; want %s due %v", tc.subs, it.Status, day(it.DueDate), tc.want, tc.due)
		}
	}
}

func TestMARC8Decode(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      int
	}{
		{"plain ASCII", "plain ASCII", -1},
		{"caf\xe2e", "café", -1},
		{"\xe8uber \xf0cedille", "über çedille", -1},
		{"\xe2\xe8a", "á\u0308", -1},                         // two marks: the first composes
		{"\xe2q", "q\u0301", -1},                             // no precomposed form
		{"\xa2stergaard \xb1\xf3", "Østergaard ł\u0324", -1}, // a trailing mark stays
		{"\x88The \x89end", "The end", -1},
		{"Smørrebrød", "Smørrebrød", -1}, // mislabelled UTF-8 passes
		{"ab\x1b(Nc", "", 2},
		{"x\xcay", "", 1},
	} {
		got, bad := marc8Decode(tc.in)
		if got != tc.want || bad != tc.bad {
			t.Errorf("marc8Decode(%q) = %q, %d; want %q, %d", tc.in, got, bad, tc.want, tc.bad)
		}
	}
}

func TestTrimISBD(t *testing.T) {
	for in, want := range map[string]string{
		"The hobbit, or, There and back again /": "The hobbit, or, There and back again",
		"Tolkien, J. R. R.,":                     "Tolkien, J. R. R.",
		"Washington, D.C.":                       "Washington, D.C.",
		"Harry Potter and the sorcerer's stone.": "Harry Potter and the sorcerer's stone",
		"Wait for it...":                         "Wait for it...",
		"Title : ":                               "Title",
		"Atlas =":                                "Atlas",
		"X.":                                     "X.",
		" / ":                                    "",
	} {
		if got := trimISBD(in); got != want {
			t.Errorf("trimISBD(%q) = %q, want %q", in, got, want)
		}
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestParseMARCReadError(t *testing.T) {
	_, _, err := ParseMARC(failingReader{}, "x.mrc")
	if err == nil || !strings.Contains(err.Error(), "x.mrc: read: disk on fire") {
		t.Fatalf("err = %v", err)
	}
}

// TestParseMARCViaParse checks that the format sniffing in Parse sends
// both MARC forms here.
func TestParseMARCViaParse(t *testing.T) {
	for name, data := range map[string][]byte{"bin": kohaFile(), "xml": encodeXML("", hobbit)} {
		recs, errs, err := Parse(bytes.NewReader(data), name, FormatAuto)
		if err != nil || len(errs) > 0 || len(recs) < 3 || recs[0].Item.Barcode != "31234000000017" {
			t.Errorf("%s: %v %v %d records", name, err, errs, len(recs))
		}
	}
}

// --- benchmarks ---------------------------------------------------------

const benchRecords = 10000

func benchFields(i int) []mfield {
	id := fmt.Sprintf("%06d", i)
	return []mfield{
		ctl("001", id), ctl("008", "830101s1966    nyu           000 1 eng d"),
		df("020", "a97803950"+id[:4]),
		df("100", "aAuthor, Some "+id+","),
		df("245", "aA title for record "+id+" :", "ba subtitle /", "cby Some Author."),
		df("260", "aNew York :", "bPublisher,", "c2001."),
		df("300", "a200 p. :", "bill. ;", "c24 cm."),
		df("650", "aSubject", "xSubdivision."),
		df("952", "aMAIN", "bMAIN", "cFIC", "oFIC AUT", "p3123400"+id, "r2024-03-18", "v18.99", "yBOOK", "8FICTION"),
	}
}

func benchMARC(xmlForm bool) []byte {
	if xmlForm {
		recs := make([][]mfield, benchRecords)
		for i := range recs {
			recs[i] = benchFields(i)
		}
		return encodeXML("marc", recs...)
	}
	var b bytes.Buffer
	for i := range benchRecords {
		b.Write(encodeMARC('a', benchFields(i)...))
	}
	return b.Bytes()
}

func benchParse(b *testing.B, data []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		recs, errs, err := ParseMARC(bytes.NewReader(data), "bench")
		if err != nil || len(errs) > 0 || len(recs) != benchRecords {
			b.Fatalf("%v %v %d", err, errs, len(recs))
		}
	}
	perRecord := float64(b.Elapsed().Nanoseconds()) / float64(b.N*benchRecords)
	b.ReportMetric(perRecord, "ns/record")
	b.ReportMetric(1e9/perRecord, "records/s")
}

// BenchmarkParseMARC parses 10,000 ISO 2709 records of about 400 bytes
// with one 952 each.
func BenchmarkParseMARC(b *testing.B) { benchParse(b, benchMARC(false)) }

// BenchmarkParseMARCXML parses the same records as MARCXML, for comparison.
func BenchmarkParseMARCXML(b *testing.B) { benchParse(b, benchMARC(true)) }
