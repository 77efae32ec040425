package tagdata

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/format")

// samples are one tag per model, as `tally decode` would be given them.
var samples = []struct {
	name, format, hex string
	model             Model
	id                string
}{
	{"iso28560-3", "", vec28560_3, ModelISO28560_3, "11223344"},
	{"iso28560-3-reversed", "", "31010111 33323231 00343433 00000000 51000000 3745443E 00003530 00000000", ModelISO28560_3, "11223344"},
	{"iso28560-2", "", vecAnnex, ModelISO28560_2, "123456789012"},
	{"iso28560-2-title", "28560-2", vecLayout3, ModelISO28560_2, "123456789012"},
	{"iso28560-4", "", vecEPCBank, ModelISO28560_4, "12345678.31"},
	{"iso28560-4-user", "uhf", vecEPCBank + " / " + vecUserBank, ModelISO28560_4, "12345678.31"},
	{"sgtin-96", "", "30:74:25:7B:F7:19:4E:40:00:00:1A:85", ModelSGTIN96, "urn:epc:id:sgtin:0614141.812345.6789"},
	{"sgtin-96-pc", "", "3000 3074257BF7194E4000001A85", ModelSGTIN96, "urn:epc:id:sgtin:0614141.812345.6789"},
	{"giai-96", "giai", "0x341401388000000000000001", ModelGIAI96, "1"},
	{"3m-rfid501", "", "04 11 00 01 31333032 30303337 36370000 00000000 00000000 00000000 00000000", Model3M, "1302003767"},
	{"raw-epc", "uhf", "3000 E2801160600002054F4F6F1C", ModelRaw, "E2801160600002054F4F6F1C"},
	{"raw", "raw", "DEADBEEF", ModelRaw, "DEADBEEF"},
}

func TestDecodeHexSamples(t *testing.T) {
	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			tag, err := DecodeHex(s.format, s.hex)
			if err != nil {
				t.Fatal(err)
			}
			if tag.Model != s.model || tag.ID != s.id {
				t.Fatalf("got %s %q, want %s %q", tag.Model, tag.ID, s.model, s.id)
			}
			var b strings.Builder
			if err := tag.Format(&b); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "format", s.name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestDecodeHexSamples -update once)", err)
			}
			if b.String() != string(want) {
				t.Errorf("Format:\n%s\nwant:\n%s", b.String(), want)
			}
		})
	}
}

func TestDetectGarbage(t *testing.T) {
	data := mustHex(t, "DE AD BE EF 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 10 11 12 13 14 15 16 17 18 19 1A 1B 1C")
	_, err := Detect(data)
	var de *DetectError
	if !errors.As(err, &de) {
		t.Fatalf("error %T %v, want *DetectError", err, err)
	}
	msg := err.Error()
	for _, m := range Models() {
		if m == ModelRaw {
			continue
		}
		if !strings.Contains(msg, "\n  "+string(m)+": ") {
			t.Errorf("the error does not say what %s made of it:\n%s", m, msg)
		}
	}
	var one *DecodeError
	if !errors.As(err, &one) || one.Model != ModelISO28560_3 || one.Offset != 19 {
		t.Errorf("errors.As gives the first model's error: %+v", one)
	}
}

func TestDetectBlank(t *testing.T) {
	for _, p := range [][]byte{make([]byte, 32), {0xFF, 0xFF}, append(mustHex(t, strings.Repeat("55", 24)), 0, 0, 0, 0), nil} {
		_, err := Detect(p)
		var de *DecodeError
		if !errors.As(err, &de) || !(strings.Contains(err.Error(), "blank") || strings.Contains(err.Error(), "no data")) {
			t.Errorf("Detect(% X) = %v, want a blank-tag error", p, err)
		}
	}
}

// A CRC-valid ISO 28560-3 block wins over anything else that might parse;
// a 12-byte GS1 EPC is not mistaken for StoredCRC ‖ PC ‖ 8-byte EPC.
func TestDetectPrecedence(t *testing.T) {
	epc := mustHex(t, "344F20020000000000000001") // GIAI-96 whose bytes 2-3 look like a PC word for 4 words
	tag, err := Detect(epc)
	if err != nil || tag.Model != ModelGIAI96 {
		t.Errorf("Detect = %+v, %v", tag, err)
	}
	// An EPC bank with StoredCRC is recognised when the CRC matches.
	pcEPC := mustHex(t, "3000 3074257BF7194E4000001A85")
	crc := CRC16Genibus(pcEPC)
	bank := append([]byte{byte(crc >> 8), byte(crc)}, pcEPC...)
	tag, err = Detect(bank)
	if err != nil || tag.Model != ModelSGTIN96 || !strings.HasSuffix(tag.Fields[0].Value, "(ok)") {
		t.Errorf("Detect(bank) = %+v, %v", tag, err)
	}
	// …and refused when guessing with a wrong one.
	bank[0] ^= 0xFF
	bank = append(bank[:0:0], bank...)
	if _, err := Detect(bank); err == nil {
		t.Error("Detect accepted a StoredCRC that does not match")
	}
}

func TestDecodeHF(t *testing.T) {
	annex := mustHex(t, vecAnnex)
	tag, err := DecodeHF(0xC2, DSFID28560_2, annex)
	if err != nil || tag.Model != ModelISO28560_2 || tag.AFI != 0xC2 {
		t.Fatalf("%+v %v", tag, err)
	}
	if v, _ := tag.Get("DSFID"); v != "0x06" {
		t.Errorf("DSFID field %q", v)
	}
	// A DSFID that disagrees with the data: detect, and say so.
	tag, err = DecodeHF(-1, DSFID28560_2, mustHex(t, vec28560_3))
	if err != nil || tag.Model != ModelISO28560_3 || len(tag.Warnings) != 1 || tag.AFI != -1 {
		t.Errorf("%+v %v", tag, err)
	}
	if _, err := DecodeHF(0x07, -1, []byte{1, 2, 3}); err == nil {
		t.Error("garbage decoded")
	}
}

func TestParseModel(t *testing.T) {
	for in, want := range map[string]Model{
		"": "", "auto": "", "UHF": "", "danish": ModelISO28560_3, "28560-2": ModelISO28560_2,
		"iso28560-4": ModelISO28560_4, "SGTIN": ModelSGTIN96, "giai-96": ModelGIAI96, "3m": Model3M, "hex": ModelRaw,
	} {
		got, err := ParseModel(in)
		if err != nil || got != want {
			t.Errorf("ParseModel(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, m := range Models() {
		if got, err := ParseModel(string(m)); err != nil || got != m {
			t.Errorf("ParseModel(%q) = %q, %v", m, got, err)
		}
	}
}

func TestFormatEscapesControlBytes(t *testing.T) {
	// A CRC-valid basic block whose identifier holds a terminal escape.
	p, err := Encode28560_3(Tag3{ID: "AB", Owner: "DK-1"})
	if err != nil {
		t.Fatal(err)
	}
	p[4] = 0x1B
	p = withCRC3(p)
	tag, err := Decode(ModelISO28560_3, p)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tag.Format(&b); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsRune(b.String(), 0x1B) || !strings.Contains(b.String(), `\x1b`) {
		t.Errorf("control byte reached the output: %q", b.String())
	}
}
