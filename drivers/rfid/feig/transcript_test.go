package feig

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/transcript"
)

// step is one scripted exchange: the exact bytes the driver must write and
// the chunks the reader answers with (several chunks = a split reply).
type step struct {
	req  []byte
	resp [][]byte
}

// newScript is a port playing steps as a transcript (drivers/transcript):
// each request must be written exactly, then its reply chunks are read. A
// transcript not played through fails the test. After the last step the
// reader is silent.
func newScript(t testing.TB, steps ...step) *transcript.Playback {
	return transcript.Play(t, transcript.Silent, exchanges(steps)...)
}

func exchanges(steps []step) []transcript.Event {
	var evs []transcript.Event
	for _, st := range steps {
		evs = append(evs, transcript.Exchange(st.req, st.resp...)...)
	}
	return evs
}

func req(t testing.TB, f Frame) []byte {
	b, err := AppendRequest(nil, f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func rep(t testing.TB, f Frame) []byte {
	b, err := AppendReply(nil, f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func one(b ...[]byte) [][]byte { return b }

// crcCCITT is CRC-16/CCITT-FALSE, the ISO 28560-3 basic block CRC.
func crcCCITT(b []byte) uint16 {
	crc := uint16(0xFFFF)
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// danish encodes an ISO 28560-3 basic block (v1, circulating, 1 of 1)
// padded with zero blocks to size bytes: a small local encoder so these
// tests do not depend on drivers/tagdata.
func danish(id, owner string, size int) []byte {
	b := make([]byte, max(size, 32))
	b[0], b[1], b[2] = 0x11, 1, 1
	copy(b[3:19], id)
	copy(b[21:32], owner)
	c := crcCCITT(append(append(append([]byte(nil), b[:19]...), b[21:32]...), 0, 0))
	b[19], b[20] = byte(c), byte(c>>8)
	return b
}

// danishID is the matching local decoder: the primary item identifier if
// the CRC holds.
func danishID(_ byte, b []byte) (string, string, error) {
	if len(b) < 32 {
		return "", "", errors.New("short")
	}
	c := crcCCITT(append(append(append([]byte(nil), b[:19]...), b[21:32]...), 0, 0))
	if b[19] != byte(c) || b[20] != byte(c>>8) {
		return "", "", errors.New("bad CRC")
	}
	return strings.TrimRight(string(b[3:19]), "\x00"), "iso28560-3", nil
}

func TestDanishEncoderVector(t *testing.T) {
	want := unhex(t, "11 01 01 31 31 32 32 33 33 34 34 00 00 00 00 00 00 00 00 51 3E 44 45 37 30 35 00 00 00 00 00 00")
	if got := danish("11223344", "DE705", 32); !bytes.Equal(got, want) {
		t.Fatalf("danish = % X\nwant     % X", got, want)
	}
}

// The timeout is generous: a transcript answers at once, and under the race
// detector on a busy machine a 40 ms one expired before the reply was read,
// so the driver asked again and left the transcript.
var testOpts = Opts{Addr: BroadcastAddr, Timeout: 400 * time.Millisecond, MaxFailures: 3, Decode: danishID}

func uidN(n int) [8]byte { return [8]byte{0xE0, 0x04, 0x01, 0x00, 0, 0, byte(n >> 8), byte(n)} }

func versionStep(t testing.TB, o Opts) step {
	return step{req(t, Frame{Advanced: o.Advanced, Addr: o.Addr, Cmd: CmdSoftwareVersion}),
		one(rep(t, Frame{Advanced: o.Advanced, Addr: 0, Cmd: CmdSoftwareVersion, Data: []byte{3, 4, 0, 0, 0x4D, 0, 8}}))}
}

func invStep(t testing.TB, o Opts, mode byte, st Status, uids ...[8]byte) step {
	var items []InventoryItem
	for _, u := range uids {
		items = append(items, InventoryItem{TRType: 3, UID: u})
	}
	var data []byte
	if st != StatusNoTransponder {
		data = AppendInventory(nil, items)
	}
	return step{req(t, Frame{Advanced: o.Advanced, Addr: o.Addr, Cmd: CmdISO, Data: InventoryRequest(mode)}),
		one(rep(t, Frame{Advanced: o.Advanced, Cmd: CmdISO, Status: st, Data: data}))}
}

func blockStep(t testing.TB, o Opts, uid [8]byte, first, n int, st Status, data []byte) step {
	var d []byte
	switch {
	case st == StatusOK:
		// as the reader sends them: each block most significant byte first
		blocks := bytes.Clone(data[first*4 : (first+n)*4])
		ReverseBlocks(blocks, 4)
		d = AppendBlocks(nil, 4, blocks)
	case st == StatusISOError:
		d = []byte{0x10}
	}
	return step{req(t, Frame{Advanced: o.Advanced, Addr: o.Addr, Cmd: CmdISO, Data: ReadBlocksRequest(uid, byte(first), byte(n))}),
		one(rep(t, Frame{Advanced: o.Advanced, Cmd: CmdISO, Status: st, Data: d}))}
}

// readN starts a Dev with o on port, takes its first n Reads and stops it.
func readN(t *testing.T, port io.ReadWriter, o Opts, n int) ([]drivers.Read, *Dev) {
	t.Helper()
	d, err := New("pad", port, o)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan drivers.Read, n+4)
	if err := d.Start(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	rs := collect(t, out, n)
	d.Stop()
	return rs, d
}

// readOne is readN of one Read.
func readOne(t *testing.T, port io.ReadWriter, o Opts) (drivers.Read, *Dev) {
	t.Helper()
	rs, d := readN(t, port, o, 1)
	return rs[0], d
}

func collect(t *testing.T, out <-chan drivers.Read, n int) []drivers.Read {
	t.Helper()
	var got []drivers.Read
	timeout := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case r := <-out:
			got = append(got, r)
		case <-timeout:
			t.Fatalf("got %d reads, want %d", len(got), n)
		}
	}
	return got
}

// Two pages of inventory, a SLIX tag read in full, a small tag read after
// the fallback, a tag that left before its blocks were read (delivered by
// UID), then a second round served from the cache with an RF warning.
func TestTranscriptRounds(t *testing.T) {
	o := testOpts
	a, b, c := uidN(1), uidN(2), uidN(3)
	da := danish("30012345678", "US-InU-Mu", 112)
	db := danish("30012345679", "DE705", 32)
	steps := []step{
		versionStep(t, o),
		invStep(t, o, 0, StatusMoreData, a, b),
		invStep(t, o, ModeMore, StatusOK, c),
		blockStep(t, o, a, 0, 28, StatusOK, da),
		blockStep(t, o, b, 0, 28, StatusISOError, nil),
		blockStep(t, o, b, 0, 8, StatusOK, db),
		blockStep(t, o, c, 0, 28, StatusNoTransponder, nil),
		invStep(t, o, 0, StatusRFWarning, b, a),
		invStep(t, o, 0, StatusNoTransponder),
	}
	port := newScript(t, steps...)
	d, err := New("desk", port, o)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan drivers.Read, 16)
	if err := d.Start(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	got := collect(t, out, 5)
	for d.Stats().Rounds < 3 {
		time.Sleep(time.Millisecond)
	}
	d.Stop()
	if err, ok := <-d.Err(); ok {
		t.Fatalf("Err = %v", err)
	}
	type want struct{ uid, code, model string }
	wants := []want{
		{"E004010000000001", "30012345678", "iso28560-3"},
		{"E004010000000002", "30012345679", "iso28560-3"},
		{"E004010000000003", "E004010000000003", ""},
		{"E004010000000002", "30012345679", "iso28560-3"},
		{"E004010000000001", "30012345678", "iso28560-3"},
	}
	raws := [][]byte{da, db, nil, db, da}
	for i, r := range got {
		w := wants[i]
		if r.TagUID != w.uid || r.Code != w.code || r.TagModel != w.model || r.Device != "desk" || r.Kind != drivers.KindRFID || r.Symbology != "ISO15693" {
			t.Errorf("read %d = %+v, want %+v", i, r, w)
		}
		if !bytes.Equal(r.Raw, raws[i]) {
			t.Errorf("read %d Raw = % X", i, r.Raw)
		}
	}
	st := d.Stats()
	if st.BlockReads != 2 || st.BlockFails != 1 || st.RFWarnings != 1 || st.Retries != 0 {
		t.Errorf("stats %+v", st)
	}
	if v := d.Version(); !bytes.Equal(v, []byte{3, 4, 0, 0, 0x4D, 0, 8}) {
		t.Errorf("version % X", v)
	}
}

// Advanced frames, a specific address, and replies behind garbage, split,
// and once corrupt (the driver asks again).
func TestTranscriptAdvancedResync(t *testing.T) {
	o := testOpts
	o.Advanced, o.Addr, o.Blocks, o.FallbackBlocks = true, 0, 8, 8
	a := uidN(7)
	da := danish("1234", "DK-710100", 32)
	inv := invStep(t, o, 0, StatusOK, a)
	good := inv.resp[0]
	bad := append([]byte(nil), good...)
	bad[6] ^= 0xFF
	first := inv
	first.resp = one([]byte{0x33}, bad)                                      // garbage, then a corrupt copy
	inv.resp = one([]byte{0x02, 0xFF, 0xFF, 0x00, 0xB0}, good[:4], good[4:]) // a false start claiming 65535 bytes, then the reply in pieces
	blk := blockStep(t, o, a, 0, 8, StatusOK, da)
	r, d := readOne(t, newScript(t, versionStep(t, o), first, inv, blk), o)
	if r.Code != "1234" || !bytes.Equal(r.Raw, da) {
		t.Errorf("read %+v", r)
	}
	if st := d.Stats(); st.Retries != 1 || st.Timeouts != 0 || st.BadCRC == 0 || st.GarbageBytes == 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestTranscriptSilentAndGone(t *testing.T) {
	o := testOpts
	port := newScript(t, versionStep(t, o), invStep(t, o, 0, StatusNoTransponder))
	d, _ := New("desk", port, o)
	if err := d.Start(context.Background(), make(chan drivers.Read)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.Err():
		if !errors.Is(err, drivers.ErrDisconnected) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("silent reader not reported")
	}
	d.Stop()

	port = transcript.Play(t, transcript.HangUpOnWrite, exchanges([]step{versionStep(t, o)})...) // then the cable is pulled
	d, _ = New("desk", port, o)
	if err := d.Start(context.Background(), make(chan drivers.Read)); err != nil {
		t.Fatal(err)
	}
	if err := <-d.Err(); !errors.Is(err, drivers.ErrDisconnected) || !errors.Is(err, io.EOF) {
		t.Fatalf("err = %v", err)
	}
	d.Stop()
}

func TestTranscriptErrors(t *testing.T) {
	o := testOpts
	// The reader refuses the inventory: a status error, not a disconnect.
	refuse := invStep(t, o, 0, StatusNoTransponder)
	refuse.resp = one(rep(t, Frame{Cmd: CmdISO, Status: StatusNotAvailable}))
	port := newScript(t, versionStep(t, o), refuse, refuse, refuse)
	d, _ := New("desk", port, o)
	if err := d.Start(context.Background(), make(chan drivers.Read)); err != nil {
		t.Fatal(err)
	}
	err := <-d.Err()
	var se *StatusError
	if !errors.As(err, &se) || se.Status != StatusNotAvailable || errors.Is(err, drivers.ErrDisconnected) {
		t.Fatalf("err = %v", err)
	}
	d.Stop()

	// Start fails when the version request is refused.
	v := versionStep(t, o)
	v.resp = one(rep(t, Frame{Cmd: CmdSoftwareVersion, Status: StatusUnknownCommand}))
	d, _ = New("desk", newScript(t, v), o)
	if err := d.Start(context.Background(), make(chan drivers.Read)); !errors.As(err, &se) {
		t.Fatalf("Start = %v", err)
	}
	if _, err := New("desk", newScript(t), Opts{Blocks: 4, FallbackBlocks: 8}); err == nil {
		t.Error("fallback above blocks accepted")
	}
	if _, err := Open("x", "/nonexistent/tty", 38400, Opts{}); err == nil {
		t.Error("opened a missing port")
	}
}

var _ = fmt.Sprint
var _ sync.Mutex

// BlockOrder LSBFirst passes blocks on as the reader sent them, for a
// reader that sends tag memory order.
func TestTranscriptLSBFirst(t *testing.T) {
	o := testOpts
	o.BlockOrder, o.Blocks, o.FallbackBlocks = LSBFirst, 8, 8
	a := uidN(9)
	da := danish("5678", "DK-710100", 32)
	blk := blockStep(t, o, a, 0, 8, StatusOK, da)
	blk.resp = one(rep(t, Frame{Cmd: CmdISO, Data: AppendBlocks(nil, 4, da)}))
	r, _ := readOne(t, newScript(t, versionStep(t, o), invStep(t, o, 0, StatusOK, a), blk), o)
	if r.Code != "5678" || !bytes.Equal(r.Raw, da) {
		t.Errorf("read %+v", r)
	}
}
