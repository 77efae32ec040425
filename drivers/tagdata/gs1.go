package tagdata

import (
	"strconv"
	"strings"

	"github.com/tally-inventory/tally/drivers"
)

// GS1 EPC binary headers.
const (
	HeaderSGTIN96 = 0x30
	HeaderGIAI96  = 0x34
)

// gs1Partition is the company prefix split shared by SGTIN-96 and GIAI-96:
// partition value → company prefix bits and digits.
var gs1Partition = [7]struct{ bits, digits int }{
	{40, 12}, {37, 11}, {34, 10}, {30, 9}, {27, 8}, {24, 7}, {20, 6},
}

var pow10 = func() (p [20]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

var sgtinFilters = [8]string{"all others", "point of sale item", "full case", "reserved", "inner pack", "reserved", "unit load", "component"}

// epc96 is a 96-bit EPC as two words: a holds bits 0..63, b bits 64..95
// in its top 32 bits.
type epc96 struct{ a, b uint64 }

func load96(p []byte) epc96 {
	var e epc96
	for i := range 8 {
		e.a = e.a<<8 | uint64(p[i])
	}
	for i := 8; i < 12; i++ {
		e.b = e.b<<8 | uint64(p[i])
	}
	e.b <<= 32
	return e
}

// bits returns n (1..64) bits starting at bit start (0 = MSB).
func (e epc96) bits(start, n int) uint64 {
	var top uint64
	switch {
	case start == 0:
		top = e.a
	case start < 64:
		top = e.a<<start | e.b>>(64-start)
	default:
		top = e.b << (start - 64)
	}
	return top >> (64 - n)
}

func padDigits(v uint64, n int) string {
	s := strconv.FormatUint(v, 10)
	if len(s) < n {
		s = strings.Repeat("0", n-len(s)) + s
	}
	return s
}

// gs1Check computes the GS1 mod-10 check digit of digits (weights 3,1,3,…
// from the right-most digit).
func gs1Check(digits string) byte {
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-1-i)%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

// decodeGS1Bytes decodes a GS1 EPC when the model was named: the header
// must agree with it. data is the 12-byte EPC, or an EPC bank (PC ‖ EPC,
// optionally after the StoredCRC) whose PC fields are then listed too.
func decodeGS1Bytes(m Model, data []byte) (*Tag, error) {
	var t *Tag
	var e []byte
	off := 0
	switch len(data) {
	case 12:
		e = data
	case 14, 16:
		off = len(data) - 12
		if pc := data[off-2]; pc>>3 != 6 || pc&1 != 0 {
			return nil, errAt(m, off-2, "byte %s is not the start of a GS1 PC word for a 96-bit EPC (0x30); give the 12-byte EPC alone", hex8(pc))
		}
		e = data[off:]
	default:
		return nil, errAt(m, -1, "a 96-bit EPC is 12 bytes (or 14 with the PC word), got %d; read the whole EPC", len(data))
	}
	want := byte(HeaderSGTIN96)
	if m == ModelGIAI96 {
		want = HeaderGIAI96
	}
	if e[0] != want {
		msg := "header " + hex8(e[0]) + " is not " + string(m) + " (" + hex8(want) + ")"
		switch e[0] {
		case HeaderSGTIN96:
			msg += "; it is SGTIN-96: try --format sgtin-96"
		case HeaderGIAI96:
			msg += "; it is GIAI-96: try --format giai-96"
		default:
			msg += "; this EPC is not a GS1 scheme tally decodes; its hex is its identifier (--format raw)"
		}
		return nil, errAt(m, off, "%s", msg)
	}
	if off > 0 {
		return decodeEPCBank("", data, nil, false)
	}
	t = newTag(m, 10)
	if err := decodeGS1(t, e, off); err != nil {
		return nil, err
	}
	return t, nil
}

// decodeGS1 decodes a 12-byte EPC starting at byte off into t, setting its
// model from the header. Unknown headers are an error.
func decodeGS1(t *Tag, e []byte, off int) error {
	switch e[0] {
	case HeaderSGTIN96:
		t.Model = ModelSGTIN96
		return decodeSGTIN(t, e, off)
	case HeaderGIAI96:
		t.Model = ModelGIAI96
		return decodeGIAI(t, e, off)
	}
	return errAt(ModelSGTIN96, off, "EPC header %s is neither SGTIN-96 (0x30) nor GIAI-96 (0x34)", hex8(e[0]))
}

func gs1Head(t *Tag, m Model, v epc96, off int) (filter, part int, err error) {
	filter, part = int(v.bits(8, 3)), int(v.bits(11, 3))
	t.add("header", hex8(byte(v.bits(0, 8)))+" ("+strings.ToUpper(string(m))+")", off)
	if m == ModelSGTIN96 {
		t.add("filter", strconv.Itoa(filter)+" ("+sgtinFilters[filter]+")", off+1)
	} else {
		t.add("filter", strconv.Itoa(filter), off+1)
	}
	t.add("partition", strconv.Itoa(part), off+1)
	if part == 7 {
		return 0, 0, errAt(m, off+1, "partition 7 is reserved (valid: 0-6): the EPC is damaged or was not written by a GS1 encoder")
	}
	return filter, part, nil
}

func decodeSGTIN(t *Tag, e []byte, off int) error {
	const m = ModelSGTIN96
	t.EPC = drivers.HexUpper(e)
	v := load96(e)
	filter, part, err := gs1Head(t, m, v, off)
	if err != nil {
		return err
	}
	cb, cd := gs1Partition[part].bits, gs1Partition[part].digits
	ib, id := 44-cb, 13-cd
	company := v.bits(14, cb)
	item := v.bits(14+cb, ib)
	serial := v.bits(58, 38)
	if company >= pow10[cd] {
		return errAt(m, off+1, "company prefix %d has more than the %d digits partition %d allows: the EPC is damaged", company, cd, part)
	}
	if item >= pow10[id] {
		return errAt(m, off+(14+cb)/8, "item reference %d has more than the %d digits partition %d allows: the EPC is damaged", item, id, part)
	}
	cs, is, ss := padDigits(company, cd), padDigits(item, id), strconv.FormatUint(serial, 10)
	t.add("company prefix", cs, off+1)
	t.add("item reference", is, off+(14+cb)/8)
	t.add("serial", ss, off+58/8)
	gtin := is[:1] + cs + is[1:]
	t.GTIN = gtin + string(gs1Check(gtin))
	t.Serial = ss
	t.add("GTIN", t.GTIN, -1)
	t.URI = "urn:epc:tag:sgtin-96:" + strconv.Itoa(filter) + "." + cs + "." + is + "." + ss
	t.ID = "urn:epc:id:sgtin:" + cs + "." + is + "." + ss
	t.add("tag URI", t.URI, -1)
	t.add("pure identity", t.ID, -1)
	return nil
}

func decodeGIAI(t *Tag, e []byte, off int) error {
	const m = ModelGIAI96
	t.EPC = drivers.HexUpper(e)
	v := load96(e)
	filter, part, err := gs1Head(t, m, v, off)
	if err != nil {
		return err
	}
	cb, cd := gs1Partition[part].bits, gs1Partition[part].digits
	company := v.bits(14, cb)
	asset := v.bits(14+cb, 82-cb)
	if company >= pow10[cd] {
		return errAt(m, off+1, "company prefix %d has more than the %d digits partition %d allows: the EPC is damaged", company, cd, part)
	}
	cs, as := padDigits(company, cd), strconv.FormatUint(asset, 10)
	t.add("company prefix", cs, off+1)
	t.add("asset reference", as, off+(14+cb)/8)
	t.ID = as
	t.add("GIAI", cs+as, -1)
	t.URI = "urn:epc:tag:giai-96:" + strconv.Itoa(filter) + "." + cs + "." + as
	t.add("tag URI", t.URI, -1)
	t.add("pure identity", "urn:epc:id:giai:"+cs+"."+as, -1)
	return nil
}

// SGTIN is a serialized GTIN to encode as SGTIN-96.
type SGTIN struct {
	Filter        int    // 0..7; 1 = point of sale item
	CompanyPrefix string // GS1 company prefix, 6..12 digits
	ItemReference string // indicator digit then item reference: 13 − len(CompanyPrefix) digits
	Serial        uint64 // < 2^38
}

// SGTINFromGTIN splits a GTIN (8, 12, 13 or 14 digits, check digit
// included and verified) into an SGTIN given the company prefix length.
func SGTINFromGTIN(gtin string, companyPrefixLen int, serial uint64) (SGTIN, error) {
	if !isDigits(gtin) || len(gtin) > 14 || len(gtin) < 8 {
		return SGTIN{}, errAt(ModelSGTIN96, -1, "GTIN %q must be 8 to 14 digits", gtin)
	}
	g := strings.Repeat("0", 14-len(gtin)) + gtin
	if c := gs1Check(g[:13]); c != g[13] {
		return SGTIN{}, errAt(ModelSGTIN96, -1, "GTIN %s has check digit %c, computed %c", gtin, g[13], c)
	}
	if companyPrefixLen < 6 || companyPrefixLen > 12 {
		return SGTIN{}, errAt(ModelSGTIN96, -1, "company prefix length %d is outside 6..12", companyPrefixLen)
	}
	return SGTIN{Filter: 1, CompanyPrefix: g[1 : 1+companyPrefixLen], ItemReference: g[:1] + g[1+companyPrefixLen:13], Serial: serial}, nil
}

func partitionFor(m Model, companyPrefix string) (int, error) {
	if !isDigits(companyPrefix) {
		return 0, errAt(m, -1, "company prefix %q must be digits", companyPrefix)
	}
	for p, e := range gs1Partition {
		if e.digits == len(companyPrefix) {
			return p, nil
		}
	}
	return 0, errAt(m, -1, "company prefix %q must be 6 to 12 digits", companyPrefix)
}

// EncodeSGTIN96 encodes s as a 12-byte SGTIN-96 EPC.
func EncodeSGTIN96(s SGTIN) ([]byte, error) {
	const m = ModelSGTIN96
	part, err := partitionFor(m, s.CompanyPrefix)
	if err != nil {
		return nil, err
	}
	cb, cd := gs1Partition[part].bits, gs1Partition[part].digits
	switch {
	case s.Filter < 0 || s.Filter > 7:
		return nil, errAt(m, -1, "filter %d is outside 0..7", s.Filter)
	case len(s.ItemReference) != 13-cd || !isDigits(s.ItemReference):
		return nil, errAt(m, -1, "item reference %q must be %d digits (indicator digit included) with a %d-digit company prefix", s.ItemReference, 13-cd, cd)
	case s.Serial >= 1<<38:
		return nil, errAt(m, -1, "serial %d does not fit in 38 bits", s.Serial)
	}
	company, _ := strconv.ParseUint(s.CompanyPrefix, 10, 64)
	item, _ := strconv.ParseUint(s.ItemReference, 10, 64)
	var w bitWriter
	w.write(HeaderSGTIN96, 8)
	w.write(uint32(s.Filter), 3)
	w.write(uint32(part), 3)
	writeBits(&w, company, cb)
	writeBits(&w, item, 44-cb)
	writeBits(&w, s.Serial, 38)
	return w.p, nil
}

// GIAI is a global individual asset identifier to encode as GIAI-96.
type GIAI struct {
	Filter         int    // 0..7
	CompanyPrefix  string // GS1 company prefix, 6..12 digits
	AssetReference uint64 // must fit the bits the partition leaves (42..62)
}

// EncodeGIAI96 encodes g as a 12-byte GIAI-96 EPC.
func EncodeGIAI96(g GIAI) ([]byte, error) {
	const m = ModelGIAI96
	part, err := partitionFor(m, g.CompanyPrefix)
	if err != nil {
		return nil, err
	}
	cb := gs1Partition[part].bits
	ab := 82 - cb
	switch {
	case g.Filter < 0 || g.Filter > 7:
		return nil, errAt(m, -1, "filter %d is outside 0..7", g.Filter)
	case g.AssetReference >= 1<<ab:
		return nil, errAt(m, -1, "asset reference %d does not fit in the %d bits a %d-digit company prefix leaves", g.AssetReference, ab, len(g.CompanyPrefix))
	}
	company, _ := strconv.ParseUint(g.CompanyPrefix, 10, 64)
	var w bitWriter
	w.write(HeaderGIAI96, 8)
	w.write(uint32(g.Filter), 3)
	w.write(uint32(part), 3)
	writeBits(&w, company, cb)
	writeBits(&w, g.AssetReference, ab)
	return w.p, nil
}

func writeBits(w *bitWriter, v uint64, n int) {
	for n > 32 {
		n -= 32
		w.write(uint32(v>>n), 32)
		v &= 1<<n - 1
	}
	w.write(uint32(v), n)
}
