package tagdata

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// Every decoder must return a Tag or a *DecodeError for any input, never
// panic, and keep its promises: a decoded tag has an identifier, valid
// UTF-8 text and field offsets inside the input; an error names a byte
// inside the input (or -1).

func checkResult(t *testing.T, n int, tag *Tag, err error) {
	t.Helper()
	if err != nil {
		if tag != nil {
			t.Fatalf("both a tag and an error: %v", err)
		}
		var de *DecodeError
		var dt *DetectError
		switch {
		case errors.As(err, &dt):
			for _, e := range dt.Errs {
				if !errors.As(e, &de) {
					t.Fatalf("DetectError holds %T", e)
				}
			}
		case errors.As(err, &de):
		default:
			t.Fatalf("error %T %v is neither *DecodeError nor *DetectError", err, err)
		}
		if de.Offset < -1 || de.Offset > n {
			t.Fatalf("error offset %d outside the %d input bytes: %v", de.Offset, n, err)
		}
		return
	}
	if tag == nil || tag.ID == "" {
		t.Fatalf("decoded a tag with no identifier: %+v", tag)
	}
	if !utf8.ValidString(tag.ID) {
		t.Fatalf("identifier %q is not valid UTF-8", tag.ID)
	}
	for _, f := range tag.Fields {
		if f.Offset < -1 || f.Offset >= max(n, 1) {
			t.Fatalf("field %+v outside the %d input bytes", f, n)
		}
		if !utf8.ValidString(f.Value) {
			t.Fatalf("field %+v is not valid UTF-8", f)
		}
	}
	var b strings.Builder
	if err := tag.Format(&b); err != nil {
		t.Fatal(err)
	}
}

func FuzzDecode28560_3(f *testing.F) {
	f.Add(mustHex(f, vec28560_3))
	f.Add(ReverseBlocks(mustHex(f, vec28560_3)))
	p, _ := Encode28560_3(Tag3{ID: "X1", Owner: "GB-UkLoBL123", Extensions: []Extension3{{ID: 4, Payload: []byte("T")}, {ID: 9, Payload: nil}}})
	f.Add(p)
	f.Fuzz(func(t *testing.T, data []byte) {
		tag, err := Decode(ModelISO28560_3, data)
		checkResult(t, len(data), tag, err)
		if err != nil {
			return
		}
		// A decoded tag has a CRC that matches, in one block order or the other.
		q := data
		if tag.Reversed {
			q = ReverseBlocks(data)
		}
		if ok, _, _, _ := crcOK3(q); !ok {
			t.Fatalf("decoded a tag whose CRC does not match: % X", data)
		}
	})
}

func FuzzRoundTrip28560_3(f *testing.F) {
	f.Add("11223344", "DE705", byte(0x11))
	f.Add("ABCDEFGHIJKLMNOP", "GB-UkLoBL123", byte(0x19))
	f.Fuzz(func(t *testing.T, id, owner string, vu byte) {
		in := Tag3{Version: 1 + int(vu>>4)%2, TypeOfUsage: int(vu & 15), ID: id, Owner: owner}
		p, err := Encode28560_3(in)
		if err != nil {
			return
		}
		tag, err := Decode(ModelISO28560_3, p)
		if err != nil {
			t.Fatalf("%+v → % X: %v", in, p, err)
		}
		if tag.ID != id {
			t.Fatalf("id %q came back as %q", id, tag.ID)
		}
		if o, _ := tag.Get("owner library"); o != strings.TrimRight(owner, "\x00") {
			t.Fatalf("owner %q came back as %q", owner, o)
		}
	})
}

func FuzzDecode28560_2(f *testing.F) {
	f.Add(mustHex(f, vecAnnex))
	f.Add(mustHex(f, vecLayout3))
	f.Add(mustHex(f, vecUserBank))
	f.Add([]byte{0x01, 0x81, 0x00, 0x41})
	f.Fuzz(func(t *testing.T, data []byte) {
		tag, err := Decode(ModelISO28560_2, data)
		checkResult(t, len(data), tag, err)
	})
}

func FuzzRoundTrip28560_2(f *testing.F) {
	f.Add("QA268.L55", uint16(6), byte(4), byte(4))
	f.Add("US-InU-Mu", uint16(3), byte(0), byte(4))
	f.Add("123456789012", uint16(1), byte(2), byte(8))
	f.Add("日本", uint16(200), byte(8), byte(2))
	f.Fuzz(func(t *testing.T, value string, oid uint16, c, bs byte) {
		o := 1 + int(oid)%270
		e := Element2{OID: o, Value: value, Compaction: Compaction(c % 9), Lock: bs&1 == 1}
		data, err := Encode28560_2(Tag2{BlockSize: int(bs%9) + 1, ContentParameter: bs&2 == 2,
			Elements: []Element2{{OID: 1, Value: "X1", Lock: bs&4 == 4}, e}})
		if err != nil {
			return
		}
		tag, err := Decode(ModelISO28560_2, data)
		if o == OIDPrimaryItemID || o == OIDContentParameter {
			return // two of them: the first wins, nothing to compare
		}
		if err != nil {
			t.Fatalf("%+v → % X: %v", e, data, err)
		}
		if got, _ := tag.Get(OIDName(o)); got != value {
			t.Fatalf("%+v: came back as %q (% X)", e, got, data)
		}
	})
}

func FuzzDecodeUHF(f *testing.F) {
	epc := mustHex(f, vecEPCBank)[4:]
	f.Add(uint16(0x45C2), epc, mustHex(f, vecUserBank))
	f.Add(uint16(0x3000), mustHex(f, "3074257BF7194E4000001A85"), []byte(nil))
	f.Add(uint16(0x3000), mustHex(f, "341401388000000000000001"), []byte(nil))
	f.Add(uint16(0), mustHex(f, "E2801160600002054F4F6F1C"), []byte(nil))
	f.Add(uint16(0x2200), mustHex(f, "0000 10E2 FB21 02DD DF7C 4E00"), []byte{0x06, 0x01, 0x01, 0x41})
	f.Fuzz(func(t *testing.T, pc uint16, epc, user []byte) {
		tag, err := DecodeUHF(pc, epc, user)
		checkResult(t, 2+max(len(epc), len(user)), tag, err)
	})
}

func FuzzRoundTripUII(f *testing.F) {
	f.Add("CH-000134-1", "12345678.31")
	f.Add("", "B.A12312345678")
	f.Add("DK-710100", "000000000000000000000000001")
	f.Fuzz(func(t *testing.T, isil, id string) {
		if strings.Contains(isil, ".") {
			return // the first '.' separates ISIL and identifier
		}
		u, err := Encode28560_4(Tag4{ISIL: isil, ID: id})
		if err != nil {
			return
		}
		tag, err := DecodeUHF(u.PC, u.EPC, u.User)
		if err != nil {
			t.Fatalf("%q.%q → %04X % X: %v", isil, id, u.PC, u.EPC, err)
		}
		want := id
		if isil == "" {
			if i := strings.IndexByte(id, '.'); i > 0 && i < len(id)-1 {
				want = id[i+1:]
			}
		}
		if tag.ID != want {
			t.Fatalf("%q.%q came back as %q", isil, id, tag.ID)
		}
	})
}

func FuzzDecodeGS1(f *testing.F) {
	f.Add(mustHex(f, "3074257BF7194E4000001A85"))
	f.Add(mustHex(f, "34012a05f200000000000001"))
	f.Add(mustHex(f, "3000 3074257BF7194E4000001A85"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, m := range []Model{ModelSGTIN96, ModelGIAI96} {
			tag, err := Decode(m, data)
			checkResult(t, len(data), tag, err)
			if err == nil && tag.Model == ModelSGTIN96 && gs1Check(tag.GTIN[:13]) != tag.GTIN[13] {
				t.Fatalf("GTIN %s has a wrong check digit", tag.GTIN)
			}
		}
	})
}

func FuzzDecode3M(f *testing.F) {
	f.Add(mustHex(f, "04 11 00 00 32303039 30313031 30313233 00000000 FFFFFFFF 7FFFFFFF 00000000"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tag, err := Decode(Model3M, data)
		checkResult(t, len(data), tag, err)
	})
}

func FuzzDetect(f *testing.F) {
	for _, s := range samples {
		if !strings.Contains(s.hex, "/") {
			f.Add(mustHex(f, s.hex))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tag, err := Detect(data)
		checkResult(t, len(data), tag, err)
		if err == nil && tag.Model == ModelRaw && tag.EPC == "" {
			t.Fatalf("Detect never answers raw unless a UHF EPC is all there is: %+v", tag)
		}
	})
}

func FuzzDecodeHex(f *testing.F) {
	for _, s := range samples {
		f.Add(s.format, s.hex)
	}
	f.Add("", "0x12:34-56")
	f.Fuzz(func(t *testing.T, format, s string) {
		tag, err := DecodeHex(format, s)
		if err == nil && (tag == nil || tag.ID == "") {
			t.Fatalf("DecodeHex(%q, %q) gave a tag with no identifier", format, s)
		}
	})
}
