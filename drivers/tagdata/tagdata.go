// Package tagdata decodes the data that libraries write on RFID tags into
// the identifier tally looks up (a barcode, an asset reference) plus every
// other field the data model carries.
//
// Data models: ISO 28560-3 (the Danish fixed 32-byte basic block, HF),
// ISO 28560-2 (object identifiers with compaction, HF memory and UHF user
// memory), ISO/TS 28560-4 (UHF: PC word, AFI, UII in the EPC bank), GS1 EPC
// SGTIN-96 and GIAI-96 (UHF, items and equipment numbered with GS1 keys)
// and 3M's proprietary RFID 501 format (HF). Readers hand over bytes; a
// profile says which model to expect, and Detect guesses when it does not.
//
// Every decoder is total: any input yields a Tag or a *DecodeError that
// says what is wrong at which byte and what to try next. Nothing panics and
// nothing allocates more than a small multiple of the input.
//
// The Encode… functions write the same models, so tests and the RFID
// simulator can make tags.
package tagdata

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tally-inventory/tally/drivers"
)

// Model names a tag data model. The strings are stable: they are written
// to the journal (drivers.Read.TagModel) and accepted by `tally decode
// --format`.
type Model string

const (
	ModelISO28560_3 Model = "iso28560-3" // Danish data model, fixed basic block with CRC (HF)
	ModelISO28560_2 Model = "iso28560-2" // object identifiers with compaction (HF, UHF user memory)
	ModelISO28560_4 Model = "iso28560-4" // UHF: UII in the EPC bank, AFI in the PC word
	ModelSGTIN96    Model = "sgtin-96"   // GS1 EPC serialized GTIN
	ModelGIAI96     Model = "giai-96"    // GS1 EPC global individual asset identifier
	Model3M         Model = "3m-rfid501" // 3M proprietary "RFID 501" format (HF)
	ModelRaw        Model = "raw"        // no data model: the bytes themselves (as hex) are the identifier
)

// Models lists every model Decode accepts, in the order Detect tries them.
func Models() []Model {
	return []Model{ModelISO28560_3, ModelSGTIN96, ModelGIAI96, ModelISO28560_4, Model3M, ModelISO28560_2, ModelRaw}
}

// describe is the one-line human name of a model, for Format.
func (m Model) describe() string {
	switch m {
	case ModelISO28560_3:
		return "ISO 28560-3, Danish data model"
	case ModelISO28560_2:
		return "ISO 28560-2, compacted object identifiers"
	case ModelISO28560_4:
		return "ISO/TS 28560-4, UHF library UII"
	case ModelSGTIN96:
		return "GS1 EPC SGTIN-96"
	case ModelGIAI96:
		return "GS1 EPC GIAI-96"
	case Model3M:
		return "3M RFID 501"
	case ModelRaw:
		return "raw bytes"
	}
	return string(m)
}

// Tag is a decoded tag.
type Tag struct {
	Model Model
	// ID is the item identifier to look up: the primary item identifier
	// (barcode) for library models, the EPC pure-identity URI for SGTIN-96,
	// the asset reference for GIAI-96, the hex bytes for raw.
	ID string
	// Fields lists every decoded field in tag order. Offset is the byte the
	// field starts at in the data handed to the decoder; -1 for values
	// derived from several fields (a GTIN with its check digit, a URI).
	Fields []Field

	ISIL        string // owner institution (ISIL), "" when the tag carries none
	Country     string // owner country, ISO 3166 alpha-2, when the model has one
	PartsInSet  int    // number of parts of the item (a book with a CD: 2); 0 when unknown
	PartNumber  int    // which part this tag is on, 1-based; 0 when unknown
	TypeOfUsage string // e.g. "circulating", "not for loan", "equipment"; "" when unknown
	AFI         int    // application family identifier, -1 when unknown
	Reversed    bool   // ISO 28560-3: the reader returned every 4-byte block byte-reversed
	EPC         string // UHF: the EPC (UII) as upper-case hex
	URI         string // GS1: EPC tag URI, e.g. urn:epc:tag:sgtin-96:3.0614141.812345.6789
	GTIN        string // SGTIN-96: GTIN-14 with check digit
	Serial      string // SGTIN-96: serial number
	Warnings    []string
}

// Field is one decoded field.
type Field struct {
	Name, Value string
	Offset      int
}

// Get returns the value of the first field called name.
func (t *Tag) Get(name string) (string, bool) {
	for _, f := range t.Fields {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

func newTag(m Model, nfields int) *Tag {
	return &Tag{Model: m, AFI: -1, Fields: make([]Field, 0, nfields)}
}

func (t *Tag) add(name, value string, off int) {
	t.Fields = append(t.Fields, Field{Name: name, Value: value, Offset: off})
}

func (t *Tag) warn(format string, args ...any) {
	t.Warnings = append(t.Warnings, fmt.Sprintf(format, args...))
}

// DecodeError says why bytes are not a valid tag of a model, and where.
type DecodeError struct {
	Model  Model
	Offset int // byte offset of the problem, -1 when it concerns the whole input
	Msg    string
}

func (e *DecodeError) Error() string {
	m := string(e.Model)
	if m == "" {
		m = "tagdata"
	}
	if e.Offset < 0 {
		return m + ": " + e.Msg
	}
	return m + ": byte " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

func errAt(m Model, off int, format string, args ...any) *DecodeError {
	return &DecodeError{Model: m, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// DetectError is what Detect returns when no model fits: one error per
// model tried, in the order tried.
type DetectError struct {
	Errs []error
}

func (e *DetectError) Error() string {
	var b strings.Builder
	b.WriteString("no tag data model fits these bytes (use --format to force one):")
	for _, err := range e.Errs {
		b.WriteString("\n  ")
		b.WriteString(err.Error())
	}
	return b.String()
}

// Unwrap gives errors.As access to each model's *DecodeError.
func (e *DetectError) Unwrap() []error { return e.Errs }

// Decode decodes data as model m. For the UHF models, data is the EPC bank
// as readers report it: the PC word followed by the EPC, optionally preceded
// by the StoredCRC word; use DecodeUHF when you also have user memory.
func Decode(m Model, data []byte) (*Tag, error) {
	switch m {
	case ModelISO28560_3:
		return decode28560_3(data)
	case ModelISO28560_2:
		return decode28560_2(data)
	case ModelISO28560_4:
		return decodeEPCBank(m, data, nil, false)
	case ModelSGTIN96, ModelGIAI96:
		return decodeGS1Bytes(m, data)
	case Model3M:
		return decode3M(data)
	case ModelRaw:
		return decodeRaw(data), nil
	}
	return nil, &DecodeError{Model: m, Offset: -1, Msg: "unknown tag data model; use one of " + modelList()}
}

// Detect tries the plausible models, most specific first (a matching CRC, a
// 12-byte GS1 EPC, an exact PC length, then structures that merely parse:
// 3M, ISO 28560-2), and returns the
// first that decodes. When none does, the *DetectError lists what each
// model said. Blank tags are reported as such rather than as five failures.
func Detect(data []byte) (*Tag, error) {
	if err := blank(data); err != nil {
		return nil, err
	}
	var errs []error
	for _, m := range Models() {
		if m == ModelRaw {
			continue
		}
		var t *Tag
		var err error
		switch m {
		case ModelISO28560_4:
			t, err = decodeEPCBank("", data, nil, true) // follows the PC word's toggle bit to GS1 or ISO
		case ModelSGTIN96, ModelGIAI96:
			if len(data) != 12 {
				// with a PC word it is the EPC bank path's to judge
				err = errAt(m, -1, "not a bare 12-byte EPC (%d bytes)", len(data))
				break
			}
			t, err = Decode(m, data)
		default:
			t, err = Decode(m, data)
		}
		if err == nil {
			return t, nil
		}
		errs = append(errs, err)
	}
	return nil, &DetectError{Errs: errs}
}

// blank recognises unwritten tags: all 0x00, all 0xFF, or the 3M
// manufacturing blank (24 × 0x55 then zeros).
func blank(data []byte) error {
	if len(data) == 0 {
		return &DecodeError{Offset: -1, Msg: "no data: the reader returned no bytes"}
	}
	all := func(p []byte, v byte) bool {
		for _, b := range p {
			if b != v {
				return false
			}
		}
		return true
	}
	switch {
	case all(data, 0x00):
		return &DecodeError{Offset: -1, Msg: "blank tag (every byte 0x00): nothing has been written to it; program it or scan the barcode"}
	case all(data, 0xFF):
		return &DecodeError{Offset: -1, Msg: "blank tag (every byte 0xFF): nothing has been written to it; program it or scan the barcode"}
	case len(data) >= 24 && all(data[:24], 0x55) && all(data[24:], 0x00):
		return &DecodeError{Model: Model3M, Offset: -1, Msg: "3M manufacturing blank: nothing has been written to it; program it or scan the barcode"}
	}
	return nil
}

// ParseModel turns a --format value into a Model. "" and "auto" give "";
// "uhf" also gives "" because the UHF entry point chooses between GS1 and
// ISO by the PC word. Common aliases are accepted.
func ParseModel(s string) (Model, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto", "uhf", "epc":
		return "", nil
	case "iso28560-3", "28560-3", "danish", "ddm":
		return ModelISO28560_3, nil
	case "iso28560-2", "28560-2":
		return ModelISO28560_2, nil
	case "iso28560-4", "28560-4":
		return ModelISO28560_4, nil
	case "sgtin-96", "sgtin96", "sgtin":
		return ModelSGTIN96, nil
	case "giai-96", "giai96", "giai":
		return ModelGIAI96, nil
	case "3m-rfid501", "3m", "rfid501":
		return Model3M, nil
	case "raw", "hex":
		return ModelRaw, nil
	}
	return "", fmt.Errorf("unknown tag data format %q: use auto or one of %s", s, modelList())
}

func modelList() string {
	var b strings.Builder
	for i, m := range Models() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(m))
	}
	return b.String()
}

// DecodeHex decodes tag data given as hex, as typed into `tally decode`.
// Spaces, tabs, newlines, colons, dashes and a leading 0x are ignored. For
// UHF tags, a '/' separates the EPC bank from user memory
// ("45C2 141C… / 06 02 01 D0…"). format "" or "auto" detects the model.
func DecodeHex(format, hex string) (*Tag, error) {
	m, err := ParseModel(format)
	if err != nil {
		return nil, err
	}
	epcPart, userPart, split := strings.Cut(hex, "/")
	data, err := ParseHex(epcPart)
	if err != nil {
		return nil, err
	}
	if split {
		user, err := ParseHex(userPart)
		if err != nil {
			return nil, fmt.Errorf("user memory: %w", err)
		}
		switch m {
		case "", ModelISO28560_4:
			return decodeEPCBank(m, data, user, false)
		}
		return nil, fmt.Errorf("a '/' (EPC bank / user memory) only makes sense for UHF tags, not --format %s", m)
	}
	if m == "" {
		if strings.EqualFold(strings.TrimSpace(format), "uhf") || strings.EqualFold(strings.TrimSpace(format), "epc") {
			return decodeEPCBank("", data, nil, false)
		}
		return Detect(data)
	}
	return Decode(m, data)
}

// ParseHex parses hex digits, ignoring separators (space, tab, newline,
// ':', '-', ',', '_') and 0x prefixes.
func ParseHex(s string) ([]byte, error) {
	out := make([]byte, 0, len(s)/2)
	var hi byte
	half := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		var v byte
		switch {
		case c >= '0' && c <= '9':
			if c == '0' && i+1 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X') && !half {
				i++
				continue
			}
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':' || c == '-' || c == ',' || c == '_':
			continue
		default:
			return nil, fmt.Errorf("hex: character %q at position %d is not a hex digit", rune(c), i)
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		return nil, errors.New("hex: odd number of hex digits: a byte is missing a digit")
	}
	if len(out) == 0 {
		return nil, errors.New("hex: no hex digits given")
	}
	return out, nil
}

const hexDigits = "0123456789ABCDEF"

func hex8(v byte) string { return string([]byte{'0', 'x', hexDigits[v>>4], hexDigits[v&15]}) }

func hex16(v uint16) string {
	return string([]byte{'0', 'x', hexDigits[v>>12], hexDigits[v>>8&15], hexDigits[v>>4&15], hexDigits[v&15]})
}

func decodeRaw(data []byte) *Tag {
	t := newTag(ModelRaw, 1)
	t.ID = drivers.HexUpper(data)
	t.add("bytes", t.ID, 0)
	return t
}

// Format writes the tag as a human-readable field listing, one field per
// line with its byte offset, for `tally decode`.
func (t *Tag) Format(w io.Writer) error {
	var b strings.Builder
	b.WriteString("model  ")
	b.WriteString(string(t.Model))
	if d := t.Model.describe(); d != string(t.Model) {
		b.WriteString("  (" + d + ")")
	}
	b.WriteString("\nid     ")
	b.WriteString(strconv.Quote(t.ID))
	b.WriteByte('\n')
	width := 0
	for _, f := range t.Fields {
		width = max(width, len(f.Name))
	}
	for _, f := range t.Fields {
		if f.Offset >= 0 {
			fmt.Fprintf(&b, "  byte %3d  ", f.Offset)
		} else {
			b.WriteString("            ")
		}
		b.WriteString(f.Name)
		b.WriteString(strings.Repeat(" ", width-len(f.Name)+2))
		b.WriteString(f.Value)
		b.WriteByte('\n')
	}
	for _, wn := range t.Warnings {
		b.WriteString("warning: ")
		b.WriteString(wn)
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// printableASCII reports whether p is non-empty printable ASCII.
func printableASCII(p []byte) bool {
	if len(p) == 0 {
		return false
	}
	for _, c := range p {
		if c < 0x20 || c > 0x7E {
			return false
		}
	}
	return true
}

// cstring returns p up to its first NUL.
func cstring(p []byte) []byte {
	for i, c := range p {
		if c == 0 {
			return p[:i]
		}
	}
	return p
}

// textOf renders bytes as text, quoting with Go escapes when they are
// not printable ASCII so that a control byte never reaches a terminal.
func textOf(p []byte) string {
	if printableASCII(p) {
		return string(p)
	}
	return strconv.QuoteToASCII(string(p))
}

// DecodeHF decodes the memory of an HF (ISO 15693) tag with what the
// reader's inventory reports besides it: the DSFID (0x06 says ISO 28560-2)
// and the AFI. Pass -1 for either when unknown. Without a telling DSFID the
// model is detected.
func DecodeHF(afi, dsfid int, mem []byte) (*Tag, error) {
	var t *Tag
	var err error
	if dsfid == DSFID28560_2 {
		t, err = decode28560_2(mem)
		if err != nil {
			if t2, err2 := Detect(mem); err2 == nil {
				t, err = t2, nil
				t.warn("the DSFID says ISO 28560-2 but the data is %s", t.Model)
			}
		}
	} else {
		t, err = Detect(mem)
	}
	if err != nil {
		return nil, err
	}
	if dsfid >= 0 {
		t.add("DSFID", hex8(byte(dsfid)), -1)
	}
	if afi >= 0 {
		t.AFI = afi
		t.add("AFI", hex8(byte(afi))+" ("+afiMeaning(afi)+")", -1)
	}
	return t, nil
}
