package tagdata

import (
	"errors"
	"strings"
	"testing"
)

// withCRC3 fixes the ISO 28560-3 CRC of a hand-made basic block so a test
// reaches the check after the CRC.
func withCRC3(p []byte) []byte {
	c := crc3(p, basicLen)
	p[offCRC], p[offCRC+1] = byte(c), byte(c>>8)
	return p
}

func TestDecodeErrors(t *testing.T) {
	vec3 := func() []byte { return mustHex(t, vec28560_3) }
	corrupt := vec3()
	corrupt[5] = '9' // PII "11923344": the CRC no longer matches
	v3 := vec3()
	v3[0] = 0x33 // version 3, local use: neither nibble is a version (0x31 would be Bibliotheca's swapped order)
	v3 = withCRC3(v3)
	noPII := vec3()
	copy(noPII[3:19], make([]byte, 16))
	noPII = withCRC3(noPII)
	junk := vec3()
	junk[15] = 'X' // after the PII's NUL
	junk = withCRC3(junk)

	tests := []struct {
		name   string
		model  Model
		data   []byte
		offset int
		msg    string // substring of Error()
	}{
		// ISO 28560-3
		{"3 truncated", ModelISO28560_3, vec3()[:20], 20, "truncated: the basic block is 32 bytes and only 20 were read"},
		{"3 bad crc", ModelISO28560_3, corrupt, 19, "iso28560-3: byte 19: crc is 0x3E51, computed 0x"},
		{"3 bad crc advice", ModelISO28560_3, corrupt, 19, ": the tag data is damaged or not ISO 28560-3; try --format"},
		{"3 unknown version", ModelISO28560_3, v3, 0, "data model version 3 is unknown"},
		{"3 empty id", ModelISO28560_3, noPII, 3, "primary item identifier is empty"},
		{"3 junk after id", ModelISO28560_3, junk, 15, "after the primary item identifier's terminating NUL"},
		{"3 blank", ModelISO28560_3, make([]byte, 32), -1, "blank tag"},
		{"3 blank ff", ModelISO28560_3, []byte{0xFF, 0xFF, 0xFF, 0xFF}, -1, "blank tag (every byte 0xFF)"},

		// ISO 28560-2
		{"2 oid 0", ModelISO28560_2, []byte{0x10, 0x01, 0x05}, 0, "names OID 0"},
		{"2 truncated data", ModelISO28560_2, mustHex(t, "91 00 05 1C BE"), 5, "truncated: primary item identifier (element at byte 0) needs 5 data bytes, 2 left"},
		{"2 truncated ext oid", ModelISO28560_2, []byte{0x0F}, 1, "extended OID byte that is missing"},
		{"2 missing offset byte", ModelISO28560_2, []byte{0x81}, 1, "offset byte of the element at byte 0 is missing"},
		{"2 missing length", ModelISO28560_2, []byte{0x01}, 1, "length of primary item identifier (element at byte 0) is missing"},
		{"2 zero length", ModelISO28560_2, []byte{0x01, 0x00}, 1, "has length 0"},
		{"2 pad past end", ModelISO28560_2, []byte{0x81, 0x05, 0x01, 0x41}, 4, "followed by 5 pad bytes, 0 left"},
		{"2 bad numeric", ModelISO28560_2, []byte{0x21, 0x01, 0x1A}, 2, "numeric compaction): nibble 0x0A in byte 0 is not a digit"},
		{"2 bad utf-8", ModelISO28560_2, []byte{0x71, 0x02, 0xC3, 0x28}, 2, "invalid UTF-8"},
		{"2 bad 6-bit padding", ModelISO28560_2, []byte{0x41, 0x01, 0x04}, 2, "6-bit compaction): bad padding bits"},
		{"2 bad 5-bit padding", ModelISO28560_2, []byte{0x31, 0x02, 0x08, 0x01}, 2, "5-bit compaction): bad padding bits"},
		{"2 length overflow", ModelISO28560_2, []byte{0x01, 0x80, 0x80, 0x80, 0x01}, 4, "runs over 3 bytes"},
		{"2 integer too long", ModelISO28560_2, append([]byte{0x11, 33}, make([]byte, 33)...), 2, "longer than any identifier"},
		{"2 no pii", ModelISO28560_2, []byte{0x06, 0x02, 0x01, 0x80, 0x14, 0x01, 0x05}, -1, "no primary item identifier (OID 1) element"},
		{"2 empty", ModelISO28560_2, []byte{0x00, 0x01}, 0, "no data elements"},

		// ISO/TS 28560-4 through Decode (PC ‖ EPC)
		{"4 pc mismatch", ModelISO28560_4, mustHex(t, "3000 1234"), 0, "PC word 0x3000 says 6 words of EPC, but 2 bytes follow"},
		{"4 too short", ModelISO28560_4, []byte{0x30}, 1, "truncated: an EPC bank starts with a 2-byte PC word"},
		{"4 bad code", ModelISO28560_4, mustHex(t, "08C2 FFFF"), 2, "byte 0xFF is not a UII code"},
		{"4 beyond code 40", ModelISO28560_4, mustHex(t, "08C2 FA01"), 2, "word 0xFA01 is beyond URN Code 40"},
		{"4 long numeric past end", ModelISO28560_4, mustHex(t, "10C2 FB00 1234"), 2, "long numeric string of 4 bytes runs past the EPC"},
		{"4 long numeric too many digits", ModelISO28560_4, mustHex(t, "20C2 FB00 FFFFFFFF 0000"), 2, "long numeric string has 10 digits, its header says 9"},
		{"4 bad utf-8", ModelISO28560_4, mustHex(t, "10C2 FDC3 2800"), 2, "invalid 2-byte UTF-8 character"},
		{"4 padding only", ModelISO28560_4, mustHex(t, "10C2 0000 0000"), 2, "the UII is only padding"},

		// GS1
		{"sgtin bad partition", ModelSGTIN96, mustHex(t, "307C 0000 0000 0000 0000 0000"), 1, "partition 7 is reserved"},
		{"giai bad partition", ModelGIAI96, mustHex(t, "341C 0000 0000 0000 0000 0000"), 1, "partition 7 is reserved"},
		{"sgtin company overflow", ModelSGTIN96, mustHex(t, "3003 FFFF FFFF FC00 0000 0000"), 1, "company prefix 1099511627775 has more than the 12 digits partition 0 allows"},
		{"sgtin item overflow", ModelSGTIN96, mustHex(t, "3018 0000 3FFF FFC0 0000 0000"), 4, "item reference 16777215 has more than the 7 digits partition 6 allows"},
		{"sgtin given giai", ModelSGTIN96, mustHex(t, "341800004000000000000001"), 0, "header 0x34 is not sgtin-96 (0x30); it is GIAI-96: try --format giai-96"},
		{"giai given other", ModelGIAI96, mustHex(t, "E2801160600002054F4F6F1C"), 0, "not a GS1 scheme tally decodes"},
		{"sgtin wrong length", ModelSGTIN96, make([]byte, 11), -1, "a 96-bit EPC is 12 bytes (or 14 with the PC word), got 11"},

		// 3M RFID 501
		{"3m truncated", Model3M, []byte{4, 0x11, 0, 0, '1'}, 5, "a 3M tag needs 24 bytes"},
		{"3m first byte", Model3M, append([]byte{5, 0x11, 0, 0}, make([]byte, 28)...), 0, "first byte is 0x05"},
		{"3m third byte", Model3M, append([]byte{4, 0x11, 1, 0}, make([]byte, 28)...), 2, "third byte is 0x01"},
		{"3m empty barcode", Model3M, append([]byte{4, 0x11, 0, 0}, make([]byte, 28)...), 4, "the barcode field is empty"},
		{"3m unprintable", Model3M, append([]byte{4, 0x11, 0, 0, '1', 2, '3'}, make([]byte, 25)...), 5, "barcode byte 0x02 is not printable ASCII"},
		{"3m blank", Model3M, append(mustHex(t, strings.Repeat("55", 24)), 0, 0, 0, 0), -1, "3M manufacturing blank"},

		{"unknown model", Model("nfc"), []byte{1}, -1, "unknown tag data model; use one of iso28560-3, sgtin-96"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tag, err := Decode(tc.model, tc.data)
			if err == nil {
				t.Fatalf("no error; decoded %+v", tag)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T %v is not a *DecodeError", err, err)
			}
			if de.Offset != tc.offset {
				t.Errorf("offset %d, want %d (%v)", de.Offset, tc.offset, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q\ndoes not contain %q", err, tc.msg)
			}
		})
	}
}

func TestCRCErrorMessageExact(t *testing.T) {
	p := mustHex(t, vec28560_3)
	p[5] = '9'
	_, err := Decode(ModelISO28560_3, p)
	want := "iso28560-3: byte 19: crc is 0x3E51, computed " + hex16(crc3(p, basicLen)) + ": the tag data is damaged or not ISO 28560-3; try --format"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	if hex16(crc3(p, basicLen)) == "0x3E51" {
		t.Fatal("corruption did not change the CRC")
	}
}

func TestDecodeUHFErrors(t *testing.T) {
	tests := []struct {
		name      string
		pc        uint16
		epc, user []byte
		offset    int
		msg       string
	}{
		{"truncated", 0x45C2, []byte{0x14, 0x1C, 0xC0, 0x4F}, nil, 6, "the PC word says 8 EPC words (16 bytes), the reader gave 4"},
		{"empty iso", 0x01C2, nil, nil, 2, "the EPC is empty"},
		{"empty no pc", 0, []byte{}, nil, 2, "the EPC is empty"},
		{"empty gs1 pc", 0x0030, nil, nil, 2, "the EPC is empty"},
		{"bad partition via pc", 0x3000, mustHex(t, "307C 0000 0000 0000 0000 0000"), nil, 3, "partition 7 is reserved"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeUHF(tc.pc, tc.epc, tc.user)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *DecodeError", err)
			}
			if de.Offset != tc.offset || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %v (offset %d), want offset %d and %q", err, de.Offset, tc.offset, tc.msg)
			}
		})
	}
}

// Problems in parts of a tag that do not carry the identifier are warnings:
// the item can still be counted.
func TestWarningsNotErrors(t *testing.T) {
	// ISO 28560-3 with a damaged optional block.
	p, _ := Encode28560_3(Tag3{ID: "42", Owner: "DK-1", Extensions: []Extension3{{ID: 4, Payload: []byte("Title")}}})
	p[36] ^= 0xFF
	tag, err := Decode(ModelISO28560_3, p)
	if err != nil || tag.ID != "42" || len(tag.Warnings) != 1 || !strings.Contains(tag.Warnings[0], "byte 32: title block fails its XOR check") {
		t.Errorf("%+v %v", tag, err)
	}
	// An optional block longer than what was read.
	p, _ = Encode28560_3(Tag3{ID: "42", Extensions: []Extension3{{ID: 4, Payload: []byte("A long title")}}})
	tag, err = Decode(ModelISO28560_3, p[:40])
	if err != nil || len(tag.Warnings) != 1 || !strings.Contains(tag.Warnings[0], "runs past the 40 bytes read") {
		t.Errorf("%+v %v", tag, err)
	}
	// ISO 28560-2 content parameter disagreeing with the elements.
	d, _ := Encode28560_2(Tag2{Elements: []Element2{{OID: 1, Value: "42"}, {OID: 2, Raw: []byte{0x40}, Compaction: CompactApplication}, {OID: 6, Value: "SHELF"}}})
	tag, err = Decode(ModelISO28560_2, d)
	if err != nil || len(tag.Warnings) != 2 {
		t.Fatalf("%+v %v", tag, err)
	}
	if !strings.Contains(tag.Warnings[0], "lists set information, which is not on the tag") ||
		!strings.Contains(tag.Warnings[1], "shelf location is on the tag but not listed") {
		t.Errorf("warnings %q", tag.Warnings)
	}
	// UHF: damaged user memory does not hide the UII.
	u, _ := Encode28560_4(Tag4{ISIL: "DK-1", ID: "42"})
	tag, err = DecodeUHF(u.PC|pcUMI, u.EPC, []byte{0x06, 0x10, 0x01})
	if err != nil || tag.ID != "42" || len(tag.Warnings) != 1 || !strings.Contains(tag.Warnings[0], "user memory: iso28560-2: byte 1: precursor 0x10 names OID 0") {
		t.Errorf("%+v %v", tag, err)
	}
	// A non-library AFI.
	u, _ = Encode28560_4(Tag4{ID: "42", AFI: 0x91})
	tag, err = DecodeUHF(u.PC, u.EPC, nil)
	if err != nil || len(tag.Warnings) != 1 || !strings.Contains(tag.Warnings[0], "AFI 0x91 is not a library AFI") {
		t.Errorf("%+v %v", tag, err)
	}
	// StoredCRC mismatch when the model was named.
	tag, err = DecodeHex("iso28560-4", "1234 45C2 141C C04F C70B ADB5 C6E2 DA1D ED4D D319")
	if err != nil || len(tag.Warnings) != 1 || !strings.Contains(tag.Warnings[0], "StoredCRC 0x1234 does not match") {
		t.Errorf("%+v %v", tag, err)
	}
}

func TestUnwrittenMemoryEndsElements(t *testing.T) {
	data := append(mustHex(t, vecAnnex), 0xFF, 0xFF, 0xFF, 0xFF)
	tag, err := Decode(ModelISO28560_2, data)
	if err != nil || tag.ID != "123456789012" || len(tag.Warnings) != 0 {
		t.Errorf("%+v %v", tag, err)
	}
	// …but 0xFF before any element is not a tag.
	if _, err := Decode(ModelISO28560_2, []byte{0xFF, 0x01}); err == nil {
		t.Error("decoded 0xFF 0x01")
	}
}

func TestHexErrors(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"12 3", "odd number of hex digits"},
		{"12 zz", `character 'z' at position 3 is not a hex digit`},
		{"  ", "no hex digits"},
	}
	for _, tc := range tests {
		if _, err := ParseHex(tc.in); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ParseHex(%q) = %v, want %q", tc.in, err, tc.msg)
		}
	}
	if _, err := DecodeHex("nfc", "00"); err == nil || !strings.Contains(err.Error(), `unknown tag data format "nfc"`) {
		t.Errorf("DecodeHex bad format: %v", err)
	}
	if _, err := DecodeHex("3m", "00/00"); err == nil || !strings.Contains(err.Error(), "only makes sense for UHF") {
		t.Errorf("DecodeHex '/' with 3m: %v", err)
	}
	if _, err := DecodeHex("", "4000 1234 / zz"); err == nil || !strings.Contains(err.Error(), "user memory: hex") {
		t.Errorf("DecodeHex bad user hex: %v", err)
	}
}
