package feig

import (
	"bufio"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

// loadReplies reads "name < hex" lines from a testdata file.
func loadReplies(t testing.TB, file string) map[string][]byte {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string][]byte{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, h, ok := strings.Cut(sc.Text(), " < ")
		if ok && !strings.HasPrefix(name, "#") {
			m[name] = unhex(t, h)
		}
	}
	return m
}

func TestParseInventoryByType(t *testing.T) {
	rs := loadReplies(t, "testdata/inventory.txt")
	r, _, err := DecodeReply(rs["mixed"])
	if err != nil {
		t.Fatal(err)
	}
	items, err := ParseInventory(r.Data, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []InventoryItem{
		{TRType: TRISO14443A, Other: unhex(t, "08 00 00 00 00 EF BE AD DE")},
		{TRType: TRISO14443A, Other: unhex(t, "00 00 80 5E 4D 3C 2B 5A 04")},
		{TRType: TRISO14443A, Other: unhex(t, "24 00 09 08 07 06 05 04 03 02 01 04")},
		{TRType: TRISO15693, DSFID: 0x06, UID: [8]byte{0xE0, 0x04, 0x01, 0x00, 0x11, 0x22, 0x33, 0x03}},
	}
	if !reflect.DeepEqual(items, want) {
		t.Fatalf("items\n got %+v\nwant %+v", items, want)
	}
	if again := AppendInventory(nil, items); string(again) != string(r.Data) {
		t.Errorf("re-encode % X", again)
	}

	r, _, _ = DecodeReply(rs["unknown"])
	items, err = ParseInventory(r.Data, nil)
	var ute *UnknownTypeError
	if !errors.As(err, &ute) || ute.TRType != 0x0A || ute.Left != 1 || ute.Offset != 11 {
		t.Fatalf("err = %v", err)
	}
	if len(items) != 1 || items[0].UID[7] != 0x03 {
		t.Errorf("items before the unknown set: %+v", items)
	}
	if !strings.Contains(err.Error(), "byte 11") || !strings.Contains(err.Error(), "0x0A") {
		t.Errorf("message %q", err)
	}
}

// A round with MIFARE cards on the pad delivers the one library tag, reads
// blocks from it alone, and counts the cards; a set of an unknown type
// costs the rest of its reply, not the round.
func TestInventoryCardsThroughDriver(t *testing.T) {
	rs := loadReplies(t, "testdata/inventory.txt")
	o := testOpts
	o.Blocks, o.FallbackBlocks = 8, 8
	uid := [8]byte{0xE0, 0x04, 0x01, 0x00, 0x11, 0x22, 0x33, 0x03}
	da := danish("4711", "DK-710100", 32)
	inv := invStep(t, o, 0, StatusOK)
	inv.resp = one(rs["mixed"])
	inv2 := invStep(t, o, 0, StatusOK)
	inv2.resp = one(rs["unknown"])
	got, d := readN(t, newScript(t, versionStep(t, o), inv, blockStep(t, o, uid, 0, 8, StatusOK, da), inv2), o, 2)
	for i, r := range got {
		if r.TagUID != "E004010011223303" || r.Code != "4711" || r.DSFID != []byte{0x06, 0x00}[i] {
			t.Errorf("read %d %+v", i, r)
		}
	}
	if st := d.Stats(); st.Cards != 3 || st.UnknownSets != 1 || st.BlockReads != 1 || st.Rounds < 2 {
		t.Errorf("stats %+v", st)
	}
}
