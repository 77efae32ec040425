package catalog

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"
)

// MARC 21 import: ISO 2709 binary and MARCXML, holdings in Koha 952 or
// standard / Follett Destiny / Polaris 852 fields.
//
// The parser is hand-written rather than a MARC library so that every error
// can name the record number and byte offset, and so that a damaged record
// does not cost the records after it: ISO 2709 frames records by the length
// in their leader, and as long as that length lands on a record terminator
// the next record is still found.

const (
	marcFT        = 0x1E // field terminator
	marcRT        = 0x1D // record terminator
	marcSF        = 0x1F // subfield delimiter
	marcLeaderLen = 24
	marcMinRecord = marcLeaderLen + 2 // leader, directory terminator, record terminator
	marcXMLNS     = "http://www.loc.gov/MARC21/slim"
)

// ParseMARC reads ISO 2709 binary MARC (one or many records) or MARCXML (a
// <collection>, a single <record>, or records inside any wrapper such as an
// OAI-PMH response; namespace http://www.loc.gov/MARC21/slim or none). The
// format is detected from the first byte after an optional UTF-8 BOM and
// white space: a digit starts ISO 2709, '<' starts XML.
//
// It returns one Record per item holding: each 952 (Koha), or each 852 when
// the record has no 952. Records without holdings yield nothing. Every
// holding of one MARC record shares its Line and Raw; write each Raw once
// per Line when making a rejects file.
//
// Binary: Record.Line is the 1-based record number, RowError.Offset the
// record's byte offset in the file, and Raw the record's bytes. MARCXML:
// Line is the line of the <record> start tag (of the <datafield> for an
// error in one holding), Offset is -1, and Raw is the record's XML text.
//
// Status precedence when a 952 sets several flags (the same as the CSV
// importer's Koha columns): withdrawn ($0) > lost ($1; 4 = missing) >
// checked out ($q due date) > damaged ($4) > not for loan ($7) > available.
// DueDate is kept only when the resulting status is checked out.
//
// Text: leader/09 'a' means UTF-8 and is validated. Anything else means
// MARC-8: ASCII passes through, ANSEL (Extended Latin: diacritics and
// special letters) is converted to UTF-8, and other MARC-8 character sets
// (escape sequences to Greek, Cyrillic, CJK, …) are reported as errors
// asking for a UTF-8 export. A field labelled MARC-8 whose bytes are valid
// multi-byte UTF-8 is taken as UTF-8: exporters that forget to set leader/09
// are common, and ANSEL text is practically never valid UTF-8.
//
// The error result is non-nil only when the file cannot be read at all (an
// I/O error, an empty file, not MARC, the first record unreadable, no
// holdings in any record); it is then a RowError when it has a location.
func ParseMARC(r io.Reader, file string) ([]Record, []RowError, error) {
	return Parse(r, file, FormatMARC)
}

func parseMARC(text, file string) (*Result, error) {
	p := &marcParser{file: file, s: text, seen: map[string]marcSeen{}}
	start := 0
	if strings.HasPrefix(text, "\xef\xbb\xbf") {
		start = 3
	} else if strings.HasPrefix(text, "\xff\xfe") || strings.HasPrefix(text, "\xfe\xff") {
		return nil, fmt.Errorf("%s: file is UTF-16 (it starts with a UTF-16 byte order mark); save or export it as UTF-8", file)
	}
	first := start
	for first < len(text) && marcIsSpace(text[first]) {
		first++
	}
	res := &Result{Format: FormatMARC}
	switch {
	case first == len(text):
		return nil, fmt.Errorf("%s: file is empty: export the catalog as MARC 21 (.mrc) or MARCXML (.xml)", file)
	case text[first] >= '0' && text[first] <= '9':
		// Most records hold one item: size the result once rather than by
		// doubling a slice of 300-byte Records. Real records are longer than
		// 128 bytes, which bounds the guess for a file of stray terminators.
		p.recs = make([]Record, 0, min(strings.Count(text, "\x1d"), len(text)/128)+1)
		p.parseBinary(first)
	case text[first] == '<':
		res.XML = true
		p.parseXML(start)
	default:
		return nil, RowError{File: file, Offset: int64(first), Msg: fmt.Sprintf(
			"byte 0x%02X is neither the start of ISO 2709 MARC (a 5-digit record length) nor of MARCXML ('<'); export the catalog as MARC 21 or MARCXML", text[first])}
	}
	if p.fatal != nil {
		return nil, *p.fatal
	}
	if p.nrec > 0 && p.nhold == 0 && len(p.errs) == 0 {
		return nil, fmt.Errorf("%s: %d MARC records but no item holdings (Koha 952, 852, or Sirsi 949/999 with a $i barcode) in any of them; export the catalog with its items (Koha: Tools > Export data, leave \"Don't export items\" unchecked)", file, p.nrec)
	}
	res.Records, res.Errors, res.Warnings, res.Unread = p.recs, p.errs, p.warns, p.unread
	return res, nil
}

// marcReadAll reads the whole input into one string, sized up front when
// the reader knows its length, so that Raw values can be slices of it.
func marcReadAll(r io.Reader) (string, error) {
	var b strings.Builder
	switch v := r.(type) {
	case interface{ Len() int }: // bytes.Reader, strings.Reader, bytes.Buffer
		b.Grow(v.Len() + 1)
	case interface{ Stat() (os.FileInfo, error) }:
		if fi, err := v.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() < 1<<31 {
			b.Grow(int(fi.Size()) + 1)
		}
	}
	_, err := io.Copy(&b, r)
	return b.String(), err
}

type marcParser struct {
	file   string
	s      string // the whole input; Raw values are slices of it
	recs   []Record
	errs   []RowError
	warns  []RowError
	fatal  *RowError
	unread int                 // records known to be in the file but never read
	seen   map[string]marcSeen // barcode -> where it was first accepted
	nrec   int                 // MARC records found
	nhold  int                 // holdings found, good or bad
	framed int                 // binary records framed so far

	// Scratch reused from one binary record to the next: nothing of a
	// marcRecord outlives p.record.
	fieldBuf []marcField
	subBuf   []marcSubfield
}

// marcSeen is where a barcode was first accepted.
type marcSeen struct{ line, off int }

// marcRecord is the part of one MARC record the importer uses.
type marcRecord struct {
	line   int    // record number (binary) or line of <record> (XML)
	off    int    // byte offset (binary); -1 for XML
	raw    string // slice of the input
	marc8  bool   // binary with leader/09 other than 'a'
	f008   string // the 008 control field, "" when absent
	fields []marcField
}

type marcField struct {
	tag  string
	ind2 byte
	pos  int // absolute byte offset (binary) or line (XML)
	subs []marcSubfield
}

type marcSubfield struct {
	code  byte
	value string
	pos   int // absolute byte offset of the value (binary) or line (XML)
}

// marcWanted reports whether the importer reads the field with this tag.
func marcWanted(tag string) bool {
	switch tag {
	case "245", "100", "110", "111", "260", "264", "952", "852", "949", "999":
		return true
	}
	return false
}

func marcIsSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// marcIsPad reports bytes tolerated between and after binary records: line
// breaks some tools add after each record, DOS end-of-file, NUL padding.
func marcIsPad(c byte) bool { return marcIsSpace(c) || c == 0x1A || c == 0 }

func marcDigits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// marcShow prints a tag plainly, or quoted when it holds odd bytes.
func marcShow(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7F {
			return fmt.Sprintf("%q", s)
		}
	}
	return s
}

// --- ISO 2709 -----------------------------------------------------------

func (p *marcParser) parseBinary(off int) {
	s := p.s
	for recno := 1; ; recno++ {
		for off < len(s) && marcIsPad(s[off]) {
			off++
		}
		if off >= len(s) {
			break
		}
		p.nrec++
		n, trusted, msg := marcFrame(s, off)
		switch {
		case msg == "":
			p.framed++
			p.binaryRecord(recno, off, s[off:off+n])
			off += n
			continue
		case trusted:
			p.framed++
			p.errs = append(p.errs, RowError{File: p.file, Line: recno, Offset: int64(off), Msg: msg, Raw: s[off : off+n]})
			off += n
			continue
		}
		// The length cannot be trusted: resynchronise at the next record
		// terminator, as yaz-marcdump, pymarc and marc4j do, so that one
		// mis-framed record costs only itself.
		i := strings.IndexByte(s[off:], marcRT)
		if i < 0 {
			p.errs = append(p.errs, RowError{File: p.file, Line: recno, Offset: int64(off), Msg: msg, Raw: s[off:]})
			break
		}
		next := off + i + 1
		if strings.TrimLeft(s[next:], " \t\r\n\x1a\x00") != "" {
			msg += fmt.Sprintf("; this record is skipped and reading goes on after the record terminator at byte %d", off+i)
		}
		p.errs = append(p.errs, RowError{File: p.file, Line: recno, Offset: int64(off), Msg: msg, Raw: s[off:next]})
		off = next
	}
	if p.framed == 0 && len(p.errs) > 0 {
		// Not one record could be framed: the file is not readable MARC.
		e := p.errs[0]
		e.Raw = ""
		p.fatal, p.errs = &e, nil
	}
}

// marcFrame finds the extent of the record at off from its leader length.
// trusted says whether the next record can be found at off+n even though
// msg reports a problem.
func marcFrame(s string, off int) (n int, trusted bool, msg string) {
	left := len(s) - off
	if left < 5 {
		return 0, false, fmt.Sprintf("file ends with %d stray bytes %q after the last record; the file is truncated or padded — export it again", left, s[off:])
	}
	n, ok := marcDigits(s[off : off+5])
	if !ok {
		return 0, false, fmt.Sprintf("leader/00-04 record length %q is not 5 digits; the file is damaged or not MARC 21 — export it again", s[off:off+5])
	}
	if n < marcMinRecord {
		return 0, false, fmt.Sprintf("record length %d is shorter than the smallest possible record (%d bytes); the file is damaged — export it again", n, marcMinRecord)
	}
	if n > left {
		return 0, false, fmt.Sprintf("record length %d runs past the end of the file (%d bytes left); the file is truncated — export it again", n, left)
	}
	if s[off+n-1] == marcRT {
		return n, true, ""
	}
	end := off + n - 1
	if marcRecordAt(s, off+n) {
		return n, true, fmt.Sprintf("no record terminator (0x1D) at byte %d where the record length %d says the record ends (found 0x%02X); the record is damaged — export it again", end, n, s[end])
	}
	msg = fmt.Sprintf("record length %d says the record ends at byte %d, but there is no record terminator (0x1D) there", n, end)
	if i := strings.IndexByte(s[off:], marcRT); i >= 0 {
		return 0, false, msg + fmt.Sprintf("; the next one is at byte %d, which makes the record %d bytes long. The exporter miscounted (often characters instead of bytes in UTF-8 text) — export again with a tool that writes correct lengths, or as MARCXML", off+i, i+1)
	}
	return 0, false, msg + " nor anywhere after it; the file is truncated or not MARC 21 — export it again"
}

// marcRecordAt reports whether a well-framed record (or the end of the
// file) follows at off: evidence that the previous record's length was right.
func marcRecordAt(s string, off int) bool {
	for off < len(s) && marcIsPad(s[off]) {
		off++
	}
	if off == len(s) {
		return true
	}
	if len(s)-off < marcMinRecord {
		return false
	}
	n, ok := marcDigits(s[off : off+5])
	return ok && n >= marcMinRecord && n <= len(s)-off && s[off+n-1] == marcRT
}

// binaryRecord checks the leader and directory of one framed record and
// collects the fields the importer uses.
func (p *marcParser) binaryRecord(recno, off int, rec string) {
	fail := func(format string, args ...any) {
		p.errs = append(p.errs, RowError{File: p.file, Line: recno, Offset: int64(off), Msg: fmt.Sprintf(format, args...) + "; the record is damaged — fix it in the library system or export it again", Raw: rec})
	}
	leader := rec[:marcLeaderLen]
	base, ok := marcDigits(leader[12:17])
	if !ok {
		fail("leader/12-16 base address of data %q is not 5 digits", leader[12:17])
		return
	}
	dirEnd := strings.IndexByte(rec[marcLeaderLen:], marcFT)
	if dirEnd < 0 {
		fail("the directory has no field terminator (0x1E)")
		return
	}
	dirEnd += marcLeaderLen
	if base != dirEnd+1 {
		fail("leader/12-16 base address of data is %05d, but the directory ends at byte %d, so it should be %05d", base, off+dirEnd, dirEnd+1)
		return
	}
	if (dirEnd-marcLeaderLen)%12 != 0 {
		fail("the directory (bytes %d-%d) is %d bytes long, not a multiple of 12", off+marcLeaderLen, off+dirEnd-1, dirEnd-marcLeaderLen)
		return
	}
	r := marcRecord{line: recno, off: off, raw: rec, marc8: leader[9] != 'a', fields: p.fieldBuf[:0]}
	p.subBuf = p.subBuf[:0]
	for e := 0; e < (dirEnd-marcLeaderLen)/12; e++ {
		ep := marcLeaderLen + 12*e
		ent := rec[ep : ep+12]
		tag := ent[:3]
		flen, ok1 := marcDigits(ent[3:7])
		start, ok2 := marcDigits(ent[7:12])
		if !ok1 || !ok2 {
			fail("directory entry %d (tag %s) at byte %d: field length %q or start %q is not digits", e+1, marcShow(tag), off+ep, ent[3:7], ent[7:12])
			return
		}
		fs, fe := base+start, base+start+flen
		if flen == 0 || fe > len(rec)-1 {
			fail("directory entry %d (tag %s) at byte %d is out of range: its field (bytes %d-%d) runs past the end of the record data at byte %d", e+1, marcShow(tag), off+ep, off+fs, off+fe-1, off+len(rec)-2)
			return
		}
		if rec[fe-1] != marcFT {
			fail("field %s (bytes %d-%d) does not end with a field terminator (0x1E): byte %d is 0x%02X", marcShow(tag), off+fs, off+fe-1, off+fe-1, rec[fe-1])
			return
		}
		if tag == "008" && r.f008 == "" {
			r.f008 = rec[fs : fe-1]
		}
		if marcWanted(tag) {
			n := len(p.subBuf)
			p.subBuf = marcSubfields(p.subBuf, rec[fs:fe-1], off+fs)
			var ind2 byte
			if flen > 2 {
				ind2 = rec[fs+1]
			}
			r.fields = append(r.fields, marcField{tag: tag, ind2: ind2, pos: off + fs, subs: p.subBuf[n:len(p.subBuf):len(p.subBuf)]})
		}
	}
	p.record(&r)
	p.fieldBuf = r.fields[:0]
}

// marcSubfields appends the subfields of a data field (indicators, then
// 0x1F-delimited subfields) whose first byte is at absolute offset pos.
func marcSubfields(subs []marcSubfield, data string, pos int) []marcSubfield {
	i := strings.IndexByte(data, marcSF)
	if i < 0 {
		return subs
	}
	for i < len(data) {
		end := len(data)
		if j := strings.IndexByte(data[i+1:], marcSF); j >= 0 {
			end = i + 1 + j
		}
		if chunk := data[i+1 : end]; chunk != "" {
			subs = append(subs, marcSubfield{code: chunk[0], value: chunk[1:], pos: pos + i + 2})
		}
		i = end
	}
	return subs
}

// --- MARCXML --------------------------------------------------------------

func (p *marcParser) parseXML(start int) {
	if enc, i, j := marcXMLEncoding(p.s[start:]); marcIsLatin1(enc) {
		// Convert up front rather than through CharsetReader so that decoder
		// offsets stay offsets into p.s, from which Raw is sliced.
		i, j = start+i, start+j
		p.s = p.s[start:i] + "UTF-8" + marcLatin1ToUTF8(p.s[j:])
		start = 0
	}
	// Control characters other than tab and line breaks are not allowed in
	// XML 1.0, yet MARC::File::XML (Koha's MARCXML writer) escapes only
	// & < > and ", so a stray subfield delimiter (U+001F) in a record's
	// text ends the whole file for a conforming parser. Replace each by a
	// space, which keeps every offset and line, and say where.
	var ctl []int
	p.s, ctl = marcXMLControls(p.s, start)
	var spans []marcSpan
	p.xmlRecords(start, &spans)
	p.xmlControlWarnings(ctl, spans)
	if p.nrec == 0 && p.fatal == nil {
		e := RowError{File: p.file, Line: 1, Offset: -1, Msg: "no MARC <record> elements (namespace " + marcXMLNS + " or none) in this XML; export the catalog as MARCXML or MARC 21"}
		p.fatal = &e
	}
}

// marcSpan is where one MARCXML record is in the text.
type marcSpan struct{ from, to, line int }

func (p *marcParser) xmlRecords(start int, spans *[]marcSpan) {
	d := xml.NewDecoder(strings.NewReader(p.s[start:]))
	d.CharsetReader = marcCharsetReader
	for {
		line, _ := d.InputPos()
		at := int(d.InputOffset())
		tok, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			p.xmlError(d, start, err)
			return
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "record" || !marcIsXMLNS(se.Name.Space) {
			continue // descend into <collection> and any wrapper
		}
		p.nrec++
		r, err := p.xmlRecord(d, line)
		if err != nil {
			p.xmlError(d, start, err)
			return
		}
		r.raw = p.s[start+at : start+int(d.InputOffset())]
		*spans = append(*spans, marcSpan{from: start + at, to: start + int(d.InputOffset()), line: line})
		p.record(r)
	}
}

// marcXMLControls replaces the C0 control characters XML 1.0 forbids
// (all below U+0020 but tab, LF and CR) by spaces, returning the text and
// their offsets.
func marcXMLControls(s string, start int) (string, []int) {
	var at []int
	for i := start; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			at = append(at, i)
		}
	}
	if len(at) == 0 {
		return s, nil
	}
	b := []byte(s)
	for _, i := range at {
		b[i] = ' '
	}
	return string(b), at
}

// xmlControlWarnings says, once per record, which control characters were
// replaced.
func (p *marcParser) xmlControlWarnings(at []int, spans []marcSpan) {
	k, pos, nl := 0, 0, 1 // nl is the line of byte pos, counted forward once
	for i := 0; i < len(at); {
		for k < len(spans) && spans[k].to <= at[i] {
			k++
		}
		nl += strings.Count(p.s[pos:at[i]], "\n")
		pos = at[i]
		j := i + 1
		line, where := nl, fmt.Sprintf("line %d", nl)
		if k < len(spans) && spans[k].from <= at[i] {
			for j < len(at) && at[j] < spans[k].to {
				j++
			}
			line = spans[k].line
			where = fmt.Sprintf("the record starting on line %d (first at line %d)", line, nl)
		}
		p.warns = append(p.warns, RowError{File: p.file, Line: line, Offset: -1, Msg: fmt.Sprintf(
			"%d control character(s) not allowed in XML 1.0 in %s were replaced by spaces (the exporter did not escape them); check that record's text in the library system", j-i, where)})
		i = j
	}
}

// marcCountRecords counts the MARCXML records that start in s, by their
// <leader> (one per record), else by <record> start tags.
func marcCountRecords(s string) int {
	count := func(name string) int {
		n := 0
		for i := 0; ; {
			j := strings.Index(s[i:], name)
			if j < 0 {
				return n
			}
			j += i
			k := j - 1 // back over a namespace prefix to the '<'
			for k >= 0 && s[k] != '<' && s[k] != '>' && s[k] != ' ' && s[k] != '/' {
				k--
			}
			end := j + len(name)
			if k >= 0 && s[k] == '<' && (k == j-1 || s[j-1] == ':') && end < len(s) && (s[end] == '>' || s[end] == ' ' || s[end] == '\t' || s[end] == '\n' || s[end] == '\r') {
				n++
			}
			i = end
		}
	}
	if n := count("leader"); n > 0 {
		return n
	}
	return count("record")
}

// marcIsXMLNS accepts the MARC 21 slim namespace, none, and the common
// prefix "marc" left undeclared.
func marcIsXMLNS(space string) bool {
	return space == marcXMLNS || space == "" || space == "marc"
}

func (p *marcParser) xmlError(d *xml.Decoder, start int, err error) {
	line, _ := d.InputPos()
	msg := err.Error()
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		line, msg = se.Line, se.Msg
	}
	at := min(start+int(d.InputOffset()), len(p.s))
	unread := marcCountRecords(p.s[at:])
	e := RowError{File: p.file, Line: line, Offset: -1, Msg: "XML is not well-formed: " + msg}
	if unread > 0 {
		e.Msg += fmt.Sprintf("; the %d record(s) after this point were not read — fix the file or export it again", unread)
	} else {
		e.Msg += "; nothing after this point can be read — fix the file or export it again"
	}
	if p.nrec <= 1 && len(p.recs) == 0 && len(p.errs) == 0 && unread == 0 {
		p.fatal = &e
		return
	}
	p.unread += unread
	p.errs = append(p.errs, e)
}

// xmlRecord reads one <record> after its start tag, through its end tag.
func (p *marcParser) xmlRecord(d *xml.Decoder, line int) (*marcRecord, error) {
	r := &marcRecord{line: line, off: -1}
	depth := 1
	field, sub, ctl := -1, false, false
	var code byte
	var text strings.Builder
	var subLine int
	for depth > 0 {
		tokLine, _ := d.InputPos()
		tok, err := d.Token()
		if err == io.EOF {
			return nil, &xml.SyntaxError{Msg: fmt.Sprintf("file ends inside the <record> that starts on line %d", line), Line: tokLine}
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 2 && t.Name.Local == "datafield":
				tag := marcAttr(t, "tag")
				if marcWanted(tag) {
					var ind2 byte
					if v := marcAttr(t, "ind2"); v != "" {
						ind2 = v[0]
					}
					r.fields = append(r.fields, marcField{tag: tag, ind2: ind2, pos: tokLine})
					field = len(r.fields) - 1
				}
			case depth == 2 && t.Name.Local == "controlfield":
				if ctl = marcAttr(t, "tag") == "008" && r.f008 == ""; ctl {
					text.Reset()
				}
			case depth == 3 && field >= 0 && t.Name.Local == "subfield":
				c := marcAttr(t, "code")
				sub, code, subLine = c != "", 0, tokLine
				if sub {
					code = c[0]
				}
				text.Reset()
			}
		case xml.CharData:
			if sub || ctl {
				text.Write(t)
			}
		case xml.EndElement:
			depth--
			switch {
			case depth == 2 && sub:
				f := &r.fields[field]
				f.subs = append(f.subs, marcSubfield{code: code, value: text.String(), pos: subLine})
				sub = false
			case depth == 1 && ctl:
				r.f008, ctl = text.String(), false
			case depth == 1:
				field = -1
			}
		}
	}
	return r, nil
}

func marcAttr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return strings.TrimSpace(a.Value)
		}
	}
	return ""
}

// marcXMLEncoding finds the encoding named in the XML declaration and
// where its value is.
func marcXMLEncoding(s string) (enc string, i, j int) {
	if !strings.HasPrefix(s, "<?xml") {
		return "", 0, 0
	}
	end := strings.Index(s, "?>")
	if end < 0 {
		return "", 0, 0
	}
	k := strings.Index(s[:end], "encoding")
	if k < 0 {
		return "", 0, 0
	}
	rest := strings.TrimLeft(s[k+len("encoding"):end], " \t\r\n=")
	i = end - len(rest)
	if rest == "" || (rest[0] != '"' && rest[0] != '\'') {
		return "", 0, 0
	}
	q := strings.IndexByte(rest[1:], rest[0])
	if q < 0 {
		return "", 0, 0
	}
	return rest[1 : 1+q], i + 1, i + 1 + q
}

func marcIsLatin1(enc string) bool {
	switch strings.ToLower(enc) {
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii", "windows-1252", "cp1252":
		return true
	}
	return false
}

// marcLatin1ToUTF8 converts Latin-1, reading 0x80-0x9F as Windows-1252
// (those are C1 controls in Latin-1 and never meant as such in a catalog).
func marcLatin1ToUTF8(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	for i := 0; i < len(s); i++ {
		r := rune(s[i])
		if r >= 0x80 && r <= 0x9F && marcCP1252[r-0x80] != 0 {
			r = marcCP1252[r-0x80]
		}
		b.WriteRune(r)
	}
	return b.String()
}

var marcCP1252 = [32]rune{
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
}

// marcCharsetReader refuses the encodings not converted up front, with
// advice; encoding/xml itself reads only UTF-8.
func marcCharsetReader(charset string, in io.Reader) (io.Reader, error) {
	return nil, fmt.Errorf("XML encoding %q is not supported; export the file as UTF-8", charset)
}

// --- records to items -------------------------------------------------

// record turns one parsed MARC record into a Record per holding.
func (p *marcParser) record(r *marcRecord) {
	holdTag, n := marcHoldings(r)
	if n == 0 {
		return // a bibliographic record without items: nothing to import
	}
	p.nhold += n

	var bad []string
	text := func(f *marcField, sf *marcSubfield) string {
		v, problem := p.decode(r, f, sf)
		if problem != "" {
			bad = append(bad, problem)
		}
		return v
	}
	var tb strings.Builder
	var author string
	seen245 := false
	for i := range r.fields {
		f := &r.fields[i]
		switch f.tag {
		case "245":
			if seen245 {
				continue
			}
			seen245 = true
			for j := range f.subs {
				switch sf := &f.subs[j]; sf.code {
				case 'a', 'b':
					if v := text(f, sf); v != "" {
						tb.WriteString(" ")
						tb.WriteString(v)
					}
				}
			}
		case "100", "110", "111":
			if author == "" {
				if sf := marcSub(f, 'a'); sf != nil {
					author = text(f, sf)
				}
			}
		}
	}
	// With no 1XX there is no author: 245 $c is a statement of
	// responsibility ("edited with an introduction by …"), not a name.
	if len(bad) > 0 {
		p.errs = append(p.errs, p.rowError(r, r.line, strings.Join(bad, "; ")))
		return
	}
	// cleanItem trims the ISBD punctuation, as for every format.
	title := tb.String()
	if r.off >= 0 { // binary: do not let the catalog pin the whole file
		author = strings.Clone(author)
	}
	year := marcYear(r)
	k := 0
	for i := range r.fields {
		f := &r.fields[i]
		if f.tag != holdTag || !marcIsHolding(f) {
			continue
		}
		k++
		it := Item{Title: title, Author: author, Kind: KindBook, Year: year}
		h := &holdingText{p: p, r: r, f: f}
		switch holdTag {
		case "952":
			h.koha(&it)
		case "852":
			h.holding852(&it)
		default:
			h.sirsi(&it)
		}
		problems := h.problems
		if h.fixable {
			problems[len(problems)-1] += "; correct the item in the library system and export again"
		}
		bcCode := 'p'
		if holdTag == "949" || holdTag == "999" {
			bcCode = 'i'
		}
		if it.Barcode == "" {
			problems = append(problems, fmt.Sprintf("no barcode ($%c); give the item a barcode in the library system and export again (tally finds items by barcode)", bcCode))
		} else if prev, dup := p.seen[it.Barcode]; dup && len(problems) == 0 {
			at := fmt.Sprintf("record %d", prev.line)
			if r.off < 0 {
				at = fmt.Sprintf("the record on line %d", prev.line)
			} else {
				at += fmt.Sprintf(" (byte %d)", prev.off)
			}
			problems = append(problems, fmt.Sprintf("barcode %s is already on %s of this file: two holdings cannot share a barcode — fix one in the library system (a union file may list one copy twice)", it.Barcode, at))
		}
		line := r.line
		if r.off < 0 {
			line = f.pos
		}
		where := func() string { // only built for a message
			w := fmt.Sprintf("%s #%d of %d", holdTag, k, n)
			if r.off >= 0 {
				w += fmt.Sprintf(" at byte %d", f.pos)
			}
			if it.Barcode != "" {
				w += fmt.Sprintf(" (barcode %s)", it.Barcode)
			}
			return w
		}
		if len(problems) > 0 {
			p.errs = append(p.errs, p.rowError(r, line, where()+": "+strings.Join(problems, "; ")))
			continue
		}
		for _, w := range h.warns {
			p.warns = append(p.warns, RowError{File: p.file, Line: line, Offset: int64(r.off), Msg: where() + ": " + w})
		}
		p.seen[it.Barcode] = marcSeen{line: r.line, off: r.off}
		p.recs = append(p.recs, Record{Item: it, Line: r.line, Raw: r.raw})
	}
}

// marcYear is the record's publication year: 008/07-10 when 008/06 says
// it holds a year (see year008); else the first year in 260 $c or in a 264
// $c of production or publication (second indicator 0 or 1), "c1998.",
// "[2004]", "1890?."; else a 264 copyright date (second indicator 4,
// "©2011") or the other 264s; else the middle of the decade 008 gives
// ("199u"); else 0. Only the digits of $c are read, which MARC-8 and UTF-8
// encode alike.
func marcYear(r *marcRecord) int {
	y, exact := year008(r.f008)
	if exact {
		return y
	}
	for pass := 0; pass < 2; pass++ {
		for i := range r.fields {
			f := &r.fields[i]
			if f.tag != "260" && f.tag != "264" {
				continue
			}
			pub := f.tag == "260" || f.ind2 == '0' || f.ind2 == '1'
			if pub != (pass == 0) {
				continue
			}
			for j := range f.subs {
				if f.subs[j].code == 'c' {
					if v := FirstYear(f.subs[j].value); v != 0 {
						return v
					}
				}
			}
		}
	}
	return y
}

// marcHoldings picks the field that holds a record's items and counts
// them: Koha 952 (only with Koha item subfields: the Library of Congress
// uses 952 for a cataloguer's note), else 852 (MARC 21, Destiny, Polaris,
// Evergreen), else Sirsi/Unicorn 949 or 999 with a $i barcode (Koha's own
// 999 carries the biblionumber in $c and $d, never $i).
func marcHoldings(r *marcRecord) (string, int) {
	var n952, n852, n949, n999 int
	for i := range r.fields {
		f := &r.fields[i]
		if !marcIsHolding(f) {
			continue
		}
		switch f.tag {
		case "952":
			n952++
		case "852":
			n852++
		case "949":
			n949++
		case "999":
			n999++
		}
	}
	switch {
	case n952 > 0:
		return "952", n952
	case n852 > 0:
		return "852", n852
	case n949 > 0:
		return "949", n949
	}
	return "999", n999
}

// marcIsHolding reports whether f is an item holding of its tag's kind, the
// one rule both the count and the import use.
func marcIsHolding(f *marcField) bool {
	switch f.tag {
	case "952":
		return marcKohaItem(f)
	case "852":
		return true
	case "949", "999":
		return marcSub(f, 'i') != nil
	}
	return false
}

// marcKohaItem reports whether a 952 is a Koha item. Koha writes many
// item subfields ($9 itemnumber always, with $p barcode, $o call number, $y
// item type …); the Library of Congress's local 952 is a cataloguer's note
// in $a alone.
func marcKohaItem(f *marcField) bool {
	for i := range f.subs {
		if f.subs[i].code != 'a' {
			return true
		}
	}
	return false
}

func (p *marcParser) rowError(r *marcRecord, line int, msg string) RowError {
	return RowError{File: p.file, Line: line, Offset: int64(r.off), Msg: msg, Raw: r.raw}
}

func marcSub(f *marcField, code byte) *marcSubfield {
	for i := range f.subs {
		if f.subs[i].code == code {
			return &f.subs[i]
		}
	}
	return nil
}

// holdingText reads subfields of one holding field, decoding their text and
// collecting problems.
type holdingText struct {
	p        *marcParser
	r        *marcRecord
	f        *marcField
	problems []string
	warns    []string // accepted with a value dropped
	fixable  bool     // a value is wrong (rather than the encoding)
}

// price reads a price subfield as the CSV importer reads a price column
// (lenientPrice, or Destiny's rule): an unreadable one is dropped with a
// warning, never the item: an inventory does not need the price.
func (h *holdingText) price(code byte, v string, read func(string) (int64, string)) int64 {
	c, w := read(v)
	if w != "" {
		h.warns = append(h.warns, fmt.Sprintf("$%c: %s", code, w))
	}
	return c
}

// get returns the first subfield with this code, decoded and trimmed.
func (h *holdingText) get(code byte) string {
	sf := marcSub(h.f, code)
	if sf == nil {
		return ""
	}
	return h.text(sf)
}

func (h *holdingText) text(sf *marcSubfield) string {
	v, problem := h.p.decode(h.r, h.f, sf)
	if problem != "" {
		h.problems = append(h.problems, problem)
		return ""
	}
	v = strings.TrimSpace(v)
	if h.r.off >= 0 {
		v = strings.Clone(v)
	}
	return v
}

func (h *holdingText) fail(code byte, format string, args ...any) {
	h.problems = append(h.problems, fmt.Sprintf("$%c: ", code)+fmt.Sprintf(format, args...))
	h.fixable = true
}

func (h *holdingText) flag(code byte, name string) int {
	n, err := kohaInt(h.get(code))
	if err != nil {
		h.fail(code, "%s %v", name, err)
	}
	return n
}

// marcCodes names the subfield that holds each text field in one item
// field layout.
type marcCodes struct{ barcode, library, location, call, itemType, collection byte }

func (h *holdingText) read(it *Item, c marcCodes) {
	it.Barcode = NormalizeID(h.get(c.barcode))
	it.Library = h.get(c.library)
	it.Location = h.get(c.location)
	it.CallNumber = h.get(c.call)
	it.ItemType = h.get(c.itemType)
	it.Collection = h.get(c.collection)
}

// koha maps a Koha 952 item field.
func (h *holdingText) koha(it *Item) {
	h.read(it, marcCodes{barcode: 'p', library: 'a', location: 'c', call: 'o', itemType: 'y', collection: '8'})
	if v := h.get('r'); v != "" {
		t, err := ParseDate(v)
		if err != nil {
			h.fail('r', "%v", err)
		}
		it.LastSeen = t
	}
	if v := h.get('q'); v != "" {
		t, err := ParseDate(v)
		if err != nil {
			h.fail('q', "%v", err)
		}
		it.DueDate = t
	}
	price := h.get('v') // replacement price, else purchase price
	code := byte('v')
	if price == "" {
		price, code = h.get('g'), 'g'
	}
	it.Price = h.price(code, price, lenientPrice)
	fl := kohaFlags{
		withdrawn:  h.flag('0', "withdrawn"),
		lost:       h.flag('1', "itemlost"),
		damaged:    h.flag('4', "damaged"),
		notforloan: h.flag('7', "notforloan"),
		onloan:     !it.DueDate.IsZero(),
	}
	it.Status = StatusAvailable
	if st, ok := fl.status(); ok {
		it.Status = st
	}
	if it.Status != StatusCheckedOut {
		it.DueDate = time.Time{}
	}
}

// evergreen maps the 852 that Evergreen's marc_export --items writes
// (Open-ILS/src/support-scripts/marc_export.in): $b owning library (then
// circulating library), $c shelving location, $k $j $m call number prefix,
// label and suffix, $g circulation modifier, $p barcode, $s copy status,
// $y price ("$12.00"). Standard MARC 21 852 puts the classification in $h,
// which Evergreen never writes.
func (h *holdingText) evergreen(it *Item) {
	it.Library = h.get('b')
	it.Location = h.get('c')
	var cn []string
	for _, code := range []byte("kjm") {
		if v := h.get(code); v != "" {
			cn = append(cn, v)
		}
	}
	it.CallNumber = strings.Join(cn, " ")
	it.ItemType = h.get('g')
	it.Price = h.price('y', h.get('y'), lenientPrice)
	it.Status = StatusAvailable
	if v := h.get('s'); v != "" {
		st, ok := evergreenStatus(v)
		if !ok {
			h.warns = append(h.warns, fmt.Sprintf("$s: copy status %q is not one of Evergreen's stock statuses: imported as available", v))
		}
		it.Status = st
	}
}

// evergreenStatus maps Evergreen's stock copy statuses (config.copy_status
// in Open-ILS/src/sql/Pg/950.data.seed-values.sql).
func evergreenStatus(v string) (Status, bool) {
	switch marcLetters(v) {
	case "available", "reshelving", "reserves":
		return StatusAvailable, true
	case "checkedout", "ill":
		return StatusCheckedOut, true
	case "lost", "longoverdue", "lostandpaid":
		return StatusLost, true
	case "missing":
		return StatusMissing, true
	case "bindery":
		return StatusInRepair, true
	case "inprocess", "onorder", "cataloging":
		return StatusNotForLoan, true
	case "intransit", "canceledtransit":
		return StatusInTransit, true
	case "onholdsshelf", "onreservationshelf":
		return StatusOnHold, true
	case "discardweed":
		return StatusWithdrawn, true
	case "damaged":
		return StatusDamaged, true
	}
	return StatusAvailable, false
}

// sirsi maps a SirsiDynix Unicorn/Symphony item field, 949 or 999 (as in
// Evergreen's test datasets Open-ILS/tests/datasets/jazz_1k.mrc and
// lul_fre_100.mrc): $i barcode, $a call number, $m library, $l home
// location, $t item type, $x item category, and $k current location,
// which Sirsi sets to a status such as CHECKEDOUT, LOST or MISSING.
func (h *holdingText) sirsi(it *Item) {
	h.read(it, marcCodes{barcode: 'i', library: 'm', location: 'l', call: 'a', itemType: 't', collection: 'x'})
	it.Status = StatusAvailable
	k := marcLetters(h.get('k'))
	switch {
	case k == "" || k == marcLetters(it.Location):
	case k == "checkedout" || k == "ill":
		it.Status = StatusCheckedOut
	case strings.HasPrefix(k, "lost"):
		it.Status = StatusLost
	case k == "missing":
		it.Status = StatusMissing
	case k == "discard" || k == "withdrawn" || k == "weeded":
		it.Status = StatusWithdrawn
	case k == "intransit" || k == "transit":
		it.Status = StatusInTransit
	case k == "holds" || k == "onhold" || k == "holdshelf":
		it.Status = StatusOnHold
	case k == "repair" || k == "bindery":
		it.Status = StatusInRepair
	case strings.HasPrefix(k, "damage"):
		it.Status = StatusDamaged
	case k == "onorder" || k == "inprocess":
		it.Status = StatusNotForLoan
	}
}

// marcLetters lower-cases v and keeps only its ASCII letters.
func marcLetters(v string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(v) {
		if c >= 'a' && c <= 'z' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// holding852 maps an 852 location field as standard MARC 21, Follett
// Destiny and Polaris write it: $p barcode, $a library or site, $b (else
// $c) location, $k $h $i $m call number (prefix, classification, item
// part, suffix), Destiny $9 price and $x "FSC@a…" circulation type /
// "FSC@b…" category, Polaris $r status and $u due date.
func (h *holdingText) holding852(it *Item) {
	f := h.f
	it.Barcode = NormalizeID(h.get('p'))
	if marcSub(f, 'j') != nil && marcSub(f, 'h') == nil {
		h.evergreen(it)
		return
	}
	it.Library = h.get('a')
	if it.Location = h.get('b'); it.Location == "" {
		it.Location = h.get('c')
	}
	var cn []string
	for _, code := range []byte("khim") {
		for i := range f.subs {
			if f.subs[i].code == code {
				if v := h.text(&f.subs[i]); v != "" {
					cn = append(cn, v)
				}
			}
		}
	}
	it.CallNumber = strings.Join(cn, " ")
	it.Price = h.price('9', h.get('9'), marcDestinyPrice)
	for i := range f.subs {
		if f.subs[i].code != 'x' {
			continue
		}
		circ, cat := marcDestinyFSC(h.text(&f.subs[i]))
		if circ != "" && it.ItemType == "" {
			it.ItemType = circ
		}
		if cat != "" && it.Collection == "" {
			it.Collection = cat
		}
	}
	it.Status = StatusAvailable
	if v := h.get('r'); v != "" {
		st, err := marcPolarisStatus(v)
		if err != nil {
			h.fail('r', "%v", err)
		}
		it.Status = st
	}
	// $u is a URI in standard MARC 21 and the due date in Polaris exports.
	if v := h.get('u'); v != "" && !strings.Contains(v, ":/") {
		t, err := ParseDate(v)
		if err != nil {
			h.fail('u', "due %v", err)
		}
		it.DueDate = t
		if it.Status == StatusAvailable && !t.IsZero() {
			it.Status = StatusCheckedOut
		}
	}
	if it.Status != StatusCheckedOut {
		it.DueDate = time.Time{}
	}
}

// marcDestinyPrice reads 852 $9. Destiny documents that a price without a
// decimal point has two implied decimals ("1599" is 15.99).
func marcDestinyPrice(v string) (int64, string) {
	if n, ok := marcDigits(v); ok && len(v) <= 8 {
		return int64(n), ""
	}
	return lenientPrice(v)
}

// marcDestinyFSC reads Destiny's "FSC@a<circulation type>" and
// "FSC@b<category>" in 852 $x (both may share one subfield). Other $x
// text is a nonpublic note and is ignored.
func marcDestinyFSC(v string) (circ, cat string) {
	rest, ok := strings.CutPrefix(v, "FSC")
	if !ok {
		return "", ""
	}
	for _, part := range strings.Split(rest, "@") {
		if len(part) < 2 {
			continue
		}
		switch val := strings.TrimSpace(part[1:]); part[0] {
		case 'a':
			circ = val
		case 'b':
			cat = val
		}
	}
	return circ, cat
}

// marcPolarisStatus maps Polaris item statuses (852 $r) and tally's own
// status names.
func marcPolarisStatus(v string) (Status, error) {
	switch marcLetters(v) {
	case "in", "available", "shelving", "returnedill":
		return StatusAvailable, nil
	case "out", "outill", "checkedout":
		return StatusCheckedOut, nil
	case "lost", "claimreturned", "claimnevertaken":
		return StatusLost, nil
	case "missing", "claimmissingparts":
		return StatusMissing, nil
	case "withdrawn", "discard", "discarded", "deleted", "weeded":
		return StatusWithdrawn, nil
	case "damaged":
		return StatusDamaged, nil
	case "noncirculating", "unavailable", "onorder", "inprocess", "processing":
		return StatusNotForLoan, nil
	case "intransit", "transferred", "transit":
		return StatusInTransit, nil
	case "held", "onhold", "holdshelf":
		return StatusOnHold, nil
	case "inrepair", "bindery", "repair":
		return StatusInRepair, nil
	}
	if st, err := ParseStatus(v); err == nil {
		return st, nil
	}
	return "", fmt.Errorf("item status %q is not one tally knows (Polaris: In, Out, Lost, Missing, Withdrawn, Damaged, Non-circulating, In-Transit, Held, In-Repair; or %s)", v, statusNames())
}

// --- character sets -------------------------------------------------------

// decode returns a subfield's text as UTF-8, or a problem saying why not.
func (p *marcParser) decode(r *marcRecord, f *marcField, sf *marcSubfield) (string, string) {
	v := sf.value
	if r.off < 0 {
		return v, "" // encoding/xml has decoded and validated it
	}
	if !r.marc8 {
		if utf8.ValidString(v) {
			return v, ""
		}
		i := marcBadUTF8(v)
		return "", fmt.Sprintf("%s $%c at byte %d: byte 0x%02X is not valid UTF-8 although leader/09 says UTF-8 (the text is probably MARC-8 or Latin-1); export the catalog again as UTF-8", f.tag, sf.code, sf.pos+i, v[i])
	}
	out, bad := marc8Decode(v)
	if bad < 0 {
		return out, ""
	}
	what := fmt.Sprintf("byte 0x%02X", v[bad])
	if v[bad] == 0x1B {
		what = "an escape to another MARC-8 character set (Greek, Cyrillic, Hebrew, Arabic, CJK …)"
	}
	return "", fmt.Sprintf("%s $%c at byte %d: the record is MARC-8 (leader/09 is not 'a') and %s cannot be converted; export the catalog as UTF-8 (MARC 21 leader/09 = 'a')", f.tag, sf.code, sf.pos+bad, what)
}

func marcBadUTF8(s string) int {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return 0
}

// marc8Decode converts MARC-8 limited to ASCII and ANSEL (Extended Latin,
// the default G1 set) to UTF-8. ANSEL writes combining marks before their
// base letter, Unicode after it; common Latin letters are composed to
// their precomposed form (é rather than e + U+0301). It returns the index
// of the first byte it cannot convert, or -1.
func marc8Decode(s string) (string, int) {
	plain := true
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1B {
			return "", i
		}
		if s[i] >= 0x80 {
			plain = false
		}
	}
	if plain || utf8.ValidString(s) {
		return s, -1 // ASCII, or UTF-8 in a record mislabelled MARC-8
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	var marks [8]rune
	nm := 0
	emit := func(base rune) {
		m := marks[:nm]
		if len(m) > 0 {
			if c, ok := marcCompose[[2]rune{base, m[0]}]; ok {
				base, m = c, m[1:]
			}
		}
		b.WriteRune(base)
		for _, c := range m {
			b.WriteRune(c)
		}
		nm = 0
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x80:
			emit(rune(c))
		case c == 0x88 || c == 0x89:
			// non-sort begin / end: markup for filing, not text
		case c == 0x8D:
			emit(0x200D)
		case c == 0x8E:
			emit(0x200C)
		case c >= 0xE0 && marcAnselMark[c-0xE0] != 0:
			if nm == len(marks) {
				return "", i
			}
			marks[nm] = marcAnselMark[c-0xE0]
			nm++
		case c >= 0xA1 && c <= 0xC8 && marcAnselSpecial[c-0xA1] != 0:
			emit(marcAnselSpecial[c-0xA1])
		default:
			return "", i
		}
	}
	for _, c := range marks[:nm] {
		b.WriteRune(c)
	}
	return b.String(), -1
}

// marcAnselSpecial maps ANSEL 0xA1-0xC8 (spacing characters).
var marcAnselSpecial = [...]rune{
	0x0141, 0x00D8, 0x0110, 0x00DE, 0x00C6, 0x0152, 0x02B9, 0x00B7, // A1-A8
	0x266D, 0x00AE, 0x00B1, 0x01A0, 0x01AF, 0x02BC, 0, 0x02BB, // A9-B0
	0x0142, 0x00F8, 0x0111, 0x00FE, 0x00E6, 0x0153, 0x02BA, 0x0131, // B1-B8
	0x00A3, 0x00F0, 0, 0x01A1, 0x01B0, 0, 0, 0x00B0, // B9-C0
	0x2113, 0x2117, 0x00A9, 0x266F, 0x00BF, 0x00A1, 0x00DF, 0x20AC, // C1-C8
}

// marcAnselMark maps ANSEL 0xE0-0xFE (combining marks).
var marcAnselMark = [...]rune{
	0x0309, 0x0300, 0x0301, 0x0302, 0x0303, 0x0304, 0x0306, 0x0307, // E0-E7
	0x0308, 0x030C, 0x030A, 0xFE20, 0xFE21, 0x0315, 0x030B, 0x0310, // E8-EF
	0x0327, 0x0328, 0x0323, 0x0324, 0x0325, 0x0333, 0x0332, 0x0326, // F0-F7
	0x031C, 0x032E, 0xFE22, 0xFE23, 0, 0, 0x0313, 0, // F8-FF
}

// marcCompose maps base letter + combining mark to the precomposed letter
// for the Latin letters school catalogs meet (Latin-1 and Latin Extended-A).
var marcCompose = func() map[[2]rune]rune {
	pairs := map[rune]string{
		0x0300: "AÀEÈIÌOÒUÙaàeèiìoòuù",
		0x0301: "AÁEÉIÍOÓUÚYÝaáeéiíoóuúyýCĆcćNŃnńSŚsśZŹzźLĹlĺRŔrŕ",
		0x0302: "AÂEÊIÎOÔUÛaâeêiîoôuûCĈcĉGĜgĝHĤhĥJĴjĵSŜsŝWŴwŵYŶyŷ",
		0x0303: "AÃNÑOÕaãnñoõIĨiĩUŨuũ",
		0x0304: "AĀaāEĒeēIĪiīOŌoōUŪuū",
		0x0306: "AĂaăGĞgğUŬuŭ",
		0x0307: "ZŻzżCĊcċEĖeėGĠgġIİ",
		0x0308: "AÄEËIÏOÖUÜaäeëiïoöuüyÿYŸ",
		0x030A: "AÅaåUŮuů",
		0x030B: "OŐoőUŰuű",
		0x030C: "CČcčDĎdďEĚeěNŇnňRŘrřSŠsšTŤtťZŽzžLĽlľ",
		0x0327: "CÇcçSŞsşTŢtţGĢgģKĶkķLĻlļNŅnņRŖrŗ",
		0x0328: "AĄaąEĘeęIĮiįUŲuų",
	}
	m := make(map[[2]rune]rune)
	for mark, s := range pairs {
		r := []rune(s)
		for i := 0; i+1 < len(r); i += 2 {
			m[[2]rune{r[i], mark}] = r[i+1]
		}
	}
	return m
}()
