package tagdata

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestRoundTrip28560_3(t *testing.T) {
	tests := []Tag3{
		{TypeOfUsage: 1, ID: "1", Owner: ""},
		{TypeOfUsage: 2, PartsInSet: 3, PartNumber: 2, ID: "ABCDEFGHIJKLMNOP", Owner: "DK-710100"},
		{TypeOfUsage: 9, ID: "CB-0042", Owner: "US-MaBoSch1"},        // 11 bytes: the 32-byte block
		{TypeOfUsage: 1, ID: "31234000123456", Owner: "DE-Hil5-123"}, // 11 bytes
		{TypeOfUsage: 1, ID: "X1", Owner: "GB-UkLoBL123"},            // 12 bytes: the 34-byte block
		{TypeOfUsage: 7, ID: "discard", Owner: "NO-2001300x1"},       // 12 bytes
		{Version: 2, TypeOfUsage: 8, ID: "P-1", Owner: "DE705"},
		{TypeOfUsage: 1, ID: "with-ext", Owner: "DE705", Extensions: []Extension3{
			{ID: 4, Payload: []byte("Moby Dick\x00")},
			{ID: 1, Payload: []byte{1, 0x41, 0x42, 0}},
			{ID: 0x1234, Payload: []byte{0xFF}},
		}},
	}
	for _, in := range tests {
		data, err := Encode28560_3(in)
		if err != nil {
			t.Fatalf("%+v: %v", in, err)
		}
		wantLen := 32
		if len(in.Owner) > 11 {
			wantLen = 34
		}
		if len(in.Extensions) == 0 && len(data) != wantLen {
			t.Errorf("%q: %d bytes, want %d", in.ID, len(data), wantLen)
		}
		for _, p := range [][]byte{data, ReverseBlocks(data)} {
			tag, err := Decode(ModelISO28560_3, p)
			if err != nil {
				t.Fatalf("%q: %v", in.ID, err)
			}
			if tag.ID != in.ID || tag.TypeOfUsage != typeOfUsage3[in.TypeOfUsage] {
				t.Errorf("%q: decoded %+v", in.ID, tag)
			}
			if owner, _ := tag.Get("owner library"); owner != in.Owner {
				t.Errorf("%q: owner %q, want %q", in.ID, owner, in.Owner)
			}
			if n := max(in.PartsInSet, 1); tag.PartsInSet != n {
				t.Errorf("%q: parts %d want %d", in.ID, tag.PartsInSet, n)
			}
			exts := 0
			for _, f := range tag.Fields {
				if strings.HasSuffix(f.Name, " block") || strings.HasPrefix(f.Name, "optional block") {
					exts++
				}
			}
			if exts != len(in.Extensions) || len(tag.Warnings) != 0 {
				t.Errorf("%q: %d extension blocks decoded, want %d; warnings %v", in.ID, exts, len(in.Extensions), tag.Warnings)
			}
		}
	}
	// A 34-byte block followed by an extension block.
	data, _ := Encode28560_3(Tag3{ID: "1", Owner: "GB-UkLoBL123", Extensions: []Extension3{{ID: 4, Payload: []byte("Title")}}})
	tag, err := Decode(ModelISO28560_3, data)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := tag.Get("title block"); v != `id 4, 5 bytes: "Title"` {
		t.Errorf("title block %q (fields %+v)", v, tag.Fields)
	}
}

func TestRoundTrip28560_2Schemes(t *testing.T) {
	tests := []struct {
		value string
		c     Compaction
	}{
		{"123456789012", CompactInteger},
		{"0", CompactInteger},
		{"18446744073709551615", CompactInteger}, // max uint64
		{"0012345", CompactNumeric},
		{"12", CompactNumeric},
		{"ABC", Compact5Bit},
		{"HELLOWORLD", Compact5Bit},
		{"A[\\]^_Z", Compact5Bit},
		{"QA268.L55", Compact6Bit},
		{"AB C", Compact6Bit},
		{"ABC", Compact6Bit},   // 18 bits: the pad group 100000 must not read as a space
		{"ABCDE", Compact6Bit}, // 30 bits
		{"AB", Compact6Bit},
		{"Hello, World", Compact7Bit},
		{"abcdefg", Compact7Bit}, // 49 bits: 7 pad bits of 1s, not DEL
		{"x", Compact7Bit},
		{"Åse Øster", CompactOctet},
		{"日本語のタイトル", CompactUTF8},
		{"plain", CompactUTF8},
	}
	for _, tc := range tests {
		for _, oid := range []int{OIDShelfLocation, 14, 15, 26, 100, 270} {
			els := []Element2{{OID: OIDPrimaryItemID, Value: "1234"}, {OID: oid, Value: tc.value, Compaction: tc.c}}
			data, err := Encode28560_2(Tag2{Elements: els})
			if err != nil {
				t.Fatalf("%q %v: %v", tc.value, tc.c, err)
			}
			if got := compactionOf(data[4] >> 4); got != tc.c {
				t.Errorf("%q: precursor %#x says %v, want %v", tc.value, data[4], got, tc.c)
			}
			tag, err := Decode(ModelISO28560_2, data)
			if err != nil {
				t.Fatalf("%q %v oid %d: % X: %v", tc.value, tc.c, oid, data, err)
			}
			if v, _ := tag.Get(OIDName(oid)); v != tc.value {
				t.Errorf("%v oid %d: %q came back as %q (% X)", tc.c, oid, tc.value, v, data)
			}
		}
	}
}

func TestRoundTrip28560_2AutoAndISIL(t *testing.T) {
	isils := []string{
		"US-InU-Mu", "DK-710100", "DE-Hil5", "GB-UkLoBL", "CH-000134-1", "FI-Helka", "O-a1:b2/c3",
		"DE-101", "US-a1b", "DE-Ch1-2x", "X:Y:Z", "a-b-c", "A1B2C3", "1:2-3", "ab:cd", "Zz9/",
	}
	for _, isil := range isils {
		data, err := Encode28560_2(Tag2{Elements: []Element2{{OID: 1, Value: "AB12"}, {OID: OIDOwnerISIL, Value: isil}, {OID: OIDILLBorrowingISIL, Value: isil}}})
		if err != nil {
			t.Fatalf("%q: %v", isil, err)
		}
		tag, err := Decode(ModelISO28560_2, data)
		if err != nil {
			t.Fatalf("%q: % X: %v", isil, data, err)
		}
		if tag.ISIL != isil {
			t.Errorf("ISIL %q came back as %q (% X)", isil, tag.ISIL, data)
		}
		if v, _ := tag.Get(OIDName(OIDILLBorrowingISIL)); v != isil {
			t.Errorf("ILL ISIL %q came back as %q", isil, v)
		}
	}
	if _, err := Encode28560_2(Tag2{Elements: []Element2{{OID: 3, Value: "US_x"}}}); err == nil {
		t.Error("'_' in an ISIL must be refused")
	}
	// Auto compaction picks the expected scheme for each kind of value.
	autos := []struct {
		v string
		c Compaction
	}{
		{"123456789012", CompactInteger}, {"0123", CompactNumeric}, {"ABCD", Compact5Bit},
		{"QA268.L55", Compact6Bit}, {"Fiction shelf 3", Compact7Bit}, {"Ærø", CompactUTF8}, {"ab", CompactUTF8}, {"7", CompactNumeric},
	}
	for _, a := range autos {
		data, err := Encode28560_2(Tag2{Elements: []Element2{{OID: 1, Value: a.v}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := compactionOf(data[0] >> 4); got != a.c {
			t.Errorf("auto(%q) = %v, want %v", a.v, got, a.c)
		}
		tag, err := Decode(ModelISO28560_2, data)
		if err != nil || tag.ID != a.v {
			t.Errorf("auto(%q) round trip: %v %v", a.v, tag, err)
		}
	}
}

// TestRoundTrip28560_2Random writes random tags (random OIDs, schemes,
// locks, block sizes, long values needing two-byte lengths) and reads them
// back.
func TestRoundTrip28560_2Random(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "ABCXYZ0189 .-/", "abcxyz ABC019!~", "æøåÆØÅ abc", "日本ab"}
	for n := range 2000 {
		var els []Element2
		els = append(els, Element2{OID: 1, Value: strconv.Itoa(r.IntN(1e9) + 10), Lock: r.IntN(2) == 0})
		used := map[int]bool{1: true, 2: true}
		for range r.IntN(6) {
			oid := 3 + r.IntN(60)
			if used[oid] {
				continue
			}
			used[oid] = true
			a := []rune(alphabet[r.IntN(len(alphabet))])
			l := 1 + r.IntN(20)
			if r.IntN(20) == 0 {
				l = 130 + r.IntN(200) // two-byte length
			}
			var b strings.Builder
			for range l {
				b.WriteRune(a[r.IntN(len(a))])
			}
			v := b.String()
			if isISILOID(oid) {
				v = "DE-" + strconv.Itoa(r.IntN(999)) + "x"
			}
			els = append(els, Element2{OID: oid, Value: v, Lock: r.IntN(3) == 0})
		}
		in := Tag2{Elements: els, BlockSize: []int{4, 8, 2}[r.IntN(3)], ContentParameter: r.IntN(2) == 0}
		data, err := Encode28560_2(in)
		if err != nil {
			t.Fatalf("#%d %+v: %v", n, in, err)
		}
		// A locked run must start and end on a block boundary.
		tag, err := Decode(ModelISO28560_2, data)
		if err != nil {
			t.Fatalf("#%d: % X: %v", n, data, err)
		}
		for _, e := range els {
			v, ok := tag.Get(OIDName(e.OID))
			if !ok || v != e.Value {
				t.Fatalf("#%d: %s = %q, want %q (% X)", n, OIDName(e.OID), v, e.Value, data)
			}
		}
		if len(tag.Warnings) != 0 {
			t.Fatalf("#%d: warnings %v", n, tag.Warnings)
		}
	}
}

func TestLockedAlignment(t *testing.T) {
	data, err := Encode28560_2(Tag2{BlockSize: 4, Elements: []Element2{
		{OID: 1, Value: "12", Lock: true},   // 3 bytes → 4 with offset byte
		{OID: 6, Value: "abcde"},            // 7 bytes, unlocked
		{OID: 3, Value: "DK-1", Lock: true}, // must start at 12, not 11
		{OID: 17, Value: "T", Lock: true},   // same run: no padding between
		{OID: 16, Value: "zz"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// Walk the elements and check starts.
	tag, err := Decode(ModelISO28560_2, data)
	if err != nil {
		t.Fatal(err)
	}
	starts := map[string]int{}
	for _, f := range tag.Fields {
		starts[f.Name] = f.Offset
	}
	if s := starts["owner institution (ISIL)"]; s%4 != 0 {
		t.Errorf("locked ISIL starts at %d (% X)", s, data)
	}
	if s := starts["local data B"]; s%4 != 0 {
		t.Errorf("the locked run ends at %d, not on a block boundary (% X)", s, data)
	}
	if s := starts["shelf location"]; s != 4 {
		t.Errorf("shelf location at %d, want 4 after the aligned PII (% X)", s, data)
	}
}

func TestRoundTripUII(t *testing.T) {
	tests := []string{
		"DK-710100.5001234567", "US-MaBoS.31234000123456", "ABC", "A", "123456789", "12345678",
		"0000000000000000000000000000000000001", // 37 digits: split into long numeric strings
		strings.Repeat("9", 24), strings.Repeat("9", 25), strings.Repeat("1", 33),
		"lower.case/and#more", "Ærø-1", "中国.12", "a.b.c", "CH-000134-1.12345678.31",
	}
	for _, s := range tests {
		p, err := encodeUII(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if len(p)%2 != 0 {
			t.Errorf("%q: odd length %d", s, len(p))
		}
		got, at, err := decodeUII(p)
		if err != nil || got != s {
			t.Errorf("%q: % X → %q, %v at %d", s, p, got, err, at)
		}
	}
	if _, err := encodeUII("emoji 😀"); err == nil {
		t.Error("a 4-byte UTF-8 character must be refused")
	}
	u, err := Encode28560_4(Tag4{ISIL: "DK-710100", ID: "5001234567", AFI: AFILibraryOut})
	if err != nil {
		t.Fatal(err)
	}
	tag, err := DecodeUHF(u.PC, u.EPC, u.User)
	if err != nil || tag.ID != "5001234567" || tag.ISIL != "DK-710100" || tag.AFI != 0x07 || len(tag.Warnings) != 0 {
		t.Errorf("%+v %v", tag, err)
	}
}

func TestRoundTripGS1(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := range 3000 {
		part := r.IntN(7)
		cd := gs1Partition[part].digits
		company := padDigits(r.Uint64N(pow10[cd]), cd)
		if r.IntN(2) == 0 {
			item := padDigits(r.Uint64N(pow10[13-cd]), 13-cd)
			s := SGTIN{Filter: r.IntN(8), CompanyPrefix: company, ItemReference: item, Serial: r.Uint64N(1 << 38)}
			epc, err := EncodeSGTIN96(s)
			if err != nil {
				t.Fatal(err)
			}
			tag, err := DecodeUHF(PCFor(epc, false, -1), epc, nil)
			if err != nil {
				t.Fatalf("#%d %+v: %v", n, s, err)
			}
			want := "urn:epc:id:sgtin:" + company + "." + item + "." + strconv.FormatUint(s.Serial, 10)
			if tag.ID != want || tag.Model != ModelSGTIN96 || len(tag.GTIN) != 14 || tag.GTIN[1:1+cd] != company {
				t.Fatalf("#%d: %+v, want %s", n, tag, want)
			}
			back, err := SGTINFromGTIN(tag.GTIN, cd, s.Serial)
			if err != nil || back.ItemReference != item || back.CompanyPrefix != company {
				t.Fatalf("#%d: SGTINFromGTIN(%s) = %+v, %v", n, tag.GTIN, back, err)
			}
		} else {
			bits := 82 - gs1Partition[part].bits
			g := GIAI{Filter: r.IntN(8), CompanyPrefix: company, AssetReference: r.Uint64N(1 << bits)}
			epc, err := EncodeGIAI96(g)
			if err != nil {
				t.Fatal(err)
			}
			tag, err := Detect(epc)
			if err != nil {
				t.Fatalf("#%d %+v: %v", n, g, err)
			}
			if tag.Model != ModelGIAI96 || tag.ID != strconv.FormatUint(g.AssetReference, 10) {
				t.Fatalf("#%d: %+v", n, tag)
			}
		}
	}
}

func TestRoundTrip3M(t *testing.T) {
	for _, in := range []Tag3M{
		{Barcode: "1", PartNumber: 2, PartsInSet: 3, ItemType: 6, Branch: 12, Library: 99999, Custom: -5},
		{Barcode: "ABCDEFGHIJKLMNOP"},
	} {
		p, err := Encode3M(in)
		if err != nil {
			t.Fatal(err)
		}
		tag, err := Detect(p)
		if err != nil || tag.Model != Model3M || tag.ID != in.Barcode || tag.PartNumber != max(in.PartNumber, 1) {
			t.Errorf("%+v → %+v %v", in, tag, err)
		}
		if v, _ := tag.Get("custom"); v != strconv.Itoa(int(in.Custom)) {
			t.Errorf("custom %q", v)
		}
		if !bytes.Equal(p[28:], []byte{0, 0, 0, 0}) {
			t.Errorf("last block % X", p[28:])
		}
	}
}
