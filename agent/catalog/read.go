package catalog

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/unicode/norm"
)

// Format names an import format.
type Format string

const (
	FormatAuto    Format = "auto"
	FormatCSV     Format = "csv"     // tally CSV, Koha column names accepted
	FormatSnipeIT Format = "snipeit" // Snipe-IT asset export or custom asset report
	FormatMARC    Format = "marc"    // ISO 2709 or MARCXML
)

// Result is everything one input file gave: the good records, the rejected
// ones, what was accepted with a caveat, and how many records the file holds
// that could not be read at all.
type Result struct {
	File     string
	Format   Format // the format read: FormatCSV, FormatSnipeIT or FormatMARC
	Records  []Record
	Errors   []RowError // rejected rows or records, in file order
	Warnings []RowError // accepted, but a value was dropped or a column chosen
	// Unread counts records that are in the file but were never read because
	// of an error nothing after which could be parsed (at least this many;
	// each is a problem on top of Errors).
	Unread int
	// CSV only: the header and delimiter, so rejected rows can be written
	// back as a file of the same shape.
	Header []string
	Comma  rune
	// MARC only: true for MARCXML.
	XML bool
}

// Problems is the number of rows or records that were not imported: a
// summary line must never report fewer.
func (r *Result) Problems() int { return len(r.Errors) + r.Unread }

// Read reads one catalog file of any supported format. The error is non-nil
// only when the file as a whole cannot be read (I/O, empty, not a catalog,
// a header without a barcode column); bad rows are in Result.Errors.
func Read(r io.Reader, file string, f Format) (*Result, error) {
	text, err := marcReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: read: %w", file, err)
	}
	if u, ok := utf16Text(text); ok && f != FormatMARC {
		// Excel's "Unicode Text" is UTF-16 with a byte order mark, tab
		// separated. (UTF-16 MARC is refused with advice below.)
		if g, _ := sniff(u); g == FormatCSV {
			text = u
		}
	}
	if f == "" || f == FormatAuto {
		if f, err = sniff(text); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	var res *Result
	switch f {
	case FormatMARC:
		res, err = parseMARC(text, file)
	case FormatCSV, FormatSnipeIT:
		res, err = parseCSV(text, file)
	default:
		return nil, fmt.Errorf("%s: unknown format %q (want csv, snipeit, marc or auto)", file, f)
	}
	if err != nil {
		return nil, err
	}
	res.File = file
	for i := range res.Records {
		cleanItem(&res.Records[i].Item)
	}
	return res, nil
}

// Parse reads a catalog file. It returns the good records, every bad row as
// a RowError, and a non-nil error only when the file as a whole cannot be
// read. The caller decides whether bad rows reject the whole import.
// Warnings are dropped: use Read to see them.
func Parse(r io.Reader, file string, f Format) ([]Record, []RowError, error) {
	res, err := Read(r, file, f)
	if err != nil {
		return nil, nil, err
	}
	return res.Records, res.Errors, nil
}

// utf16Text decodes text that starts with a UTF-16 byte order mark.
func utf16Text(text string) (string, bool) {
	if !strings.HasPrefix(text, "\xff\xfe") && !strings.HasPrefix(text, "\xfe\xff") {
		return "", false
	}
	u, err := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().String(text)
	return u, err == nil
}

// sniff tells MARCXML ('<'), ISO 2709 (a plausible leader) and CSV apart.
func sniff(text string) (Format, error) {
	if text == "" {
		return "", errors.New("file is empty: export the catalog again")
	}
	h := strings.TrimPrefix(text, "\xef\xbb\xbf")
	h = strings.TrimLeft(h, " \t\r\n")
	switch {
	case h == "":
		return "", errors.New("file is empty: export the catalog again")
	case h[0] == '<':
		return FormatMARC, nil
	case marcPlausibleLeader(h):
		return FormatMARC, nil
	}
	return FormatCSV, nil
}

// marcPlausibleLeader reports whether s starts like an ISO 2709 record: a
// 5-digit record length, a 5-digit base address at leader/12-16, and a
// field terminator (0x1E) ending the directory before the record's end. A
// barcode list or a CSV whose first column is numeric has none of these.
func marcPlausibleLeader(s string) bool {
	if len(s) < marcMinRecord {
		return false
	}
	n, ok1 := marcDigits(s[:5])
	_, ok2 := marcDigits(s[12:17])
	if !ok1 || !ok2 || strings.ContainsAny(s[:marcLeaderLen], "\r\n") {
		return false
	}
	end := min(len(s), max(n, marcMinRecord))
	return strings.IndexByte(s[marcLeaderLen:end], marcFT) >= 0
}

// cleanItem is the last step for every record of every format, so that one
// catalog imported as MARC, MARCXML or CSV gives the same items: text in
// Unicode NFC (MARC-8 conversion composes, while UTF-8 exports often carry
// decomposed letters), ISBD punctuation trimmed from title and author.
func cleanItem(it *Item) {
	for _, p := range []*string{&it.Title, &it.Author, &it.CallNumber, &it.Library, &it.Location,
		&it.Collection, &it.ItemType, &it.Container, &it.AssetTag, &it.Serial, &it.RFID} {
		*p = nfc(strings.TrimSpace(*p))
	}
	it.Title = trimISBD(it.Title)
	it.Author = trimISBD(it.Author)
}

// nfc normalizes to NFC, skipping the pure ASCII strings most fields are.
func nfc(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return norm.NFC.String(s)
		}
	}
	return s
}

// trimISBD drops the ISBD punctuation that ends a title or a name
// (" /", " :", ";", ",", "=", "."), keeping the period of an initial
// ("Tolkien, J. R. R.", "Washington, D.C.") and of an ellipsis.
func trimISBD(s string) string {
	s = strings.TrimSpace(s)
	for n := len(s); n > 0; n = len(s) {
		switch s[n-1] {
		case ' ', '/', ':', ';', ',', '=':
		case '.':
			if n >= 2 && (s[n-2] == '.' || marcIsLetter(s[n-2]) && (n == 2 || s[n-3] == ' ' || s[n-3] == '.')) {
				return s
			}
		default:
			return s
		}
		s = s[:n-1]
	}
	return s
}

func marcIsLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
