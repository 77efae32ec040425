package feig

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/transcript"
)

// annexCase is one DB-SIZE example of the manual's Annex F: the write
// frame (which names the tag's UID), the read reply and the tag memory.
type annexCase struct {
	write, read, memory []byte
}

// loadAnnexF reads testdata/annex-f.txt (provenance in the file).
func loadAnnexF(t testing.TB) []annexCase {
	t.Helper()
	f, err := os.Open("testdata/annex-f.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cs []annexCase
	var c annexCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, ">"):
			c.write = unhex(t, strings.TrimSpace(line[1:]))
		case strings.HasPrefix(line, "<"):
			c.read = unhex(t, strings.TrimSpace(line[1:]))
		case strings.HasPrefix(line, "memory "):
			c.memory = unhex(t, strings.TrimPrefix(line, "memory "))
			cs = append(cs, c)
			c = annexCase{}
		}
	}
	if err := sc.Err(); err != nil || len(cs) != 2 {
		t.Fatalf("annex-f.txt: %d cases, %v", len(cs), err)
	}
	return cs
}

// The annex's frames are what this package encodes and decodes, and they
// say what the reader does: each block arrives most significant byte first.
func TestAnnexFFrames(t *testing.T) {
	for _, c := range loadAnnexF(t) {
		w, n, err := DecodeRequest(c.write)
		if err != nil || n != len(c.write) || w.Cmd != CmdISO || w.Data[0] != 0x24 {
			t.Fatalf("write frame: %+v, %d, %v", w, n, err)
		}
		r, n, err := DecodeReply(c.read)
		if err != nil || n != len(c.read) || r.Status != StatusOK {
			t.Fatalf("read frame: %+v, %d, %v", r, n, err)
		}
		b, err := ParseBlocks(r.Data)
		if err != nil || b.Count != 3 || b.Count*b.Size != len(c.memory) {
			t.Fatalf("blocks %+v, %v", b, err)
		}
		if bytes.Equal(b.Data, c.memory) {
			t.Fatal("the annex's read frame carries memory order; the evidence says otherwise")
		}
		ReverseBlocks(b.Data, b.Size)
		if !bytes.Equal(b.Data, c.memory) {
			t.Errorf("DB-SIZE %d: reversed blocks % X, memory % X", b.Size, b.Data, c.memory)
		}
		// Write Multiple Blocks: 0x24 MODE UID(8) DB_ADR DB-N DB-SIZE DB…
		wd := append([]byte(nil), w.Data[13:]...)
		ReverseBlocks(wd, int(w.Data[12]))
		if !bytes.Equal(wd, c.memory) {
			t.Errorf("write frame blocks reversed % X, memory % X", wd, c.memory)
		}
	}
}

// The driver, as configured by default, hands on tag memory in memory
// order when the reader answers with the annex's own frames.
func TestAnnexFThroughDriver(t *testing.T) {
	for _, c := range loadAnnexF(t) {
		w, _, _ := DecodeRequest(c.write)
		var uid [8]byte
		copy(uid[:], w.Data[2:10])
		o := testOpts
		o.Decode = DefaultOpts.Decode
		o.Blocks, o.FallbackBlocks = 3, 3
		inv := invStep(t, o, 0, StatusOK, uid)
		read := step{req(t, Frame{Addr: o.Addr, Cmd: CmdISO, Data: ReadBlocksRequest(uid, 0, 3)}), one(c.read)}
		r, _ := readOne(t, newScript(t, versionStep(t, o), inv, read), o)
		if !bytes.Equal(r.Raw, c.memory) {
			t.Errorf("DB-SIZE %d: Raw % X, want tag memory % X", len(c.memory)/3, r.Raw, c.memory)
		}
		if r.TagUID != drivers.HexUpper(uid[:]) {
			t.Errorf("TagUID %s", r.TagUID)
		}
	}
}

// The same reply in a tally transcript, played through the driver by the
// shared playback package: the tag memory comes out in order.
func TestAnnexFTranscript(t *testing.T) {
	tr, err := transcript.Load("testdata/annex-f-session.txt")
	if err != nil {
		t.Fatal(err)
	}
	port := transcript.NewPlayback(tr, transcript.Silent)
	o := DefaultOpts
	o.Blocks, o.FallbackBlocks, o.Timeout = 3, 3, 100*time.Millisecond
	r, _ := readOne(t, port, o)
	want := []byte{0x01, 0x02, 0x03, 0x04, 0x11, 0x12, 0x13, 0x14, 0x21, 0x22, 0x23, 0x24}
	if r.TagUID != "E00700000147677E" || !bytes.Equal(r.Raw, want) {
		t.Errorf("read %s % X, want the annex's tag memory % X", r.TagUID, r.Raw, want)
	}
	if got := port.Played(); got != len(tr.Events) {
		t.Errorf("played %d of %d events", got, len(tr.Events))
	}
}
