package thingmagic

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
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

func cmd(t testing.TB, op byte, data []byte) []byte {
	f, err := AppendCommand(nil, op, data)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func resp(t testing.TB, op byte, st Status, data []byte) []byte {
	f, err := AppendResponse(nil, op, st, data)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func one(b ...[]byte) [][]byte { return b }

var testVersion = Version{Bootloader: [4]byte{0x12, 8, 0, 0}, Hardware: [4]byte{0x30, 0, 0, 1}, FWDate: [4]byte{0x20, 0x17, 6, 30}, FWVersion: [4]byte{1, 9, 0, 2}, Protocols: 0x10}

func initSteps(t testing.TB, o Opts) []step {
	o = o.withDefaults()
	return []step{
		{cmd(t, OpVersion, nil), one(resp(t, OpVersion, 0, AppendVersion(nil, testVersion)))},
		{cmd(t, OpGetProgram, nil), one(resp(t, OpGetProgram, 0, []byte{0x12}))}, // in the application
		{cmd(t, OpSetRegion, []byte{byte(o.Region)}), one(resp(t, OpSetRegion, 0, nil))},
		{cmd(t, OpSetReadTxPower, []byte{byte(o.ReadPower >> 8), byte(o.ReadPower)}), one(resp(t, OpSetReadTxPower, 0, nil))},
		{cmd(t, OpSetTagProtocol, []byte{0, 5}), one(resp(t, OpSetTagProtocol, 0, nil))},
		{cmd(t, OpSetAntennaPort, []byte{1, 1}), one(resp(t, OpSetAntennaPort, 0, nil))},
		{cmd(t, OpSetAntennaPort, []byte{2, 1, 1}), one(resp(t, OpSetAntennaPort, 0, nil))},
	}
}

// The scripted port answers at once, so the reply timeout only matters on a
// loaded machine: generous, so a clean transcript never counts a timeout.
var testOpts = Opts{Region: RegionEU3, ReadPower: 2000, SearchTime: 50 * time.Millisecond, Timeout: 2 * time.Second, MaxFailures: 3}

func gen2(epc string, rssi int) TagRead {
	b, _ := hexDecode(epc)
	return TagRead{ReadCount: 1, RSSI: rssi, Antenna: 1, Protocol: 5, PC: []byte{byte(len(b) / 2 << 3), 0}, EPC: b, TagCRC: 0x5555}
}

func hexDecode(s string) ([]byte, error) {
	var b []byte
	for i := 0; i+1 < len(s); i += 2 {
		var v byte
		for _, c := range s[i : i+2] {
			v <<= 4
			switch {
			case c >= '0' && c <= '9':
				v |= byte(c - '0')
			case c >= 'A' && c <= 'F':
				v |= byte(c - 'A' + 10)
			default:
				return nil, errors.New("bad hex")
			}
		}
		b = append(b, v)
	}
	return b, nil
}

func roundSteps(t testing.TB, o Opts, tags ...TagRead) []step {
	o = o.withDefaults()
	ms := uint16(o.SearchTime / time.Millisecond)
	count := []byte{0, 0, 0x13, 0, 0, 0, byte(len(tags))}
	return []step{
		{cmd(t, OpClearTagBuffer, nil), one(resp(t, OpClearTagBuffer, 0, nil))},
		{cmd(t, OpReadTagMultiple, ReadTagMultipleData(ms)), one(resp(t, OpReadTagMultiple, 0, count))},
		{cmd(t, OpGetTagBuffer, GetTagBufferData(o.Metadata)), one(resp(t, OpGetTagBuffer, 0, AppendTagBuffer(nil, o.Metadata, tags)))},
	}
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

func TestTranscriptInitAndRound(t *testing.T) {
	a := gen2("3074257BF7194E4000001A85", -52)
	b := gen2("E2801160600002089B1A3F4C", -67)
	var steps []step
	steps = append(steps, initSteps(t, testOpts)...)
	steps = append(steps, roundSteps(t, testOpts, a, b)...)
	// A second round: nothing in the field.
	steps = append(steps,
		step{cmd(t, OpClearTagBuffer, nil), one(resp(t, OpClearTagBuffer, 0, nil))},
		step{cmd(t, OpReadTagMultiple, ReadTagMultipleData(50)), one(resp(t, OpReadTagMultiple, StatusNoTagsFound, nil))},
	)
	port := newScript(t, steps...)
	d, err := New("wand", port, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan drivers.Read, 8)
	if err := d.Start(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	got := collect(t, out, 2)
	waitFor(t, func() bool { return d.Stats().Rounds >= 2 })
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if err, ok := <-d.Err(); ok || err != nil {
		t.Fatalf("Err after clean Stop = %v, %v", err, ok)
	}
	if v := d.Version(); v != testVersion {
		t.Errorf("version = %+v", v)
	}
	if st := d.Stats(); st.Retries != 0 || st.Timeouts != 0 || st.BadCRC != 0 || st.GarbageBytes != 0 {
		t.Errorf("clean transcript: %+v", st)
	}
	want := []drivers.Read{
		{Device: "wand", Kind: drivers.KindRFID, Code: "3074257BF7194E4000001A85", TagUID: "3074257BF7194E4000001A85", Symbology: "EPC", Antenna: 1, RSSI: -52},
		{Device: "wand", Kind: drivers.KindRFID, Code: "E2801160600002089B1A3F4C", TagUID: "E2801160600002089B1A3F4C", Symbology: "EPC", Antenna: 1, RSSI: -67},
	}
	for i, r := range got {
		if r.Time.IsZero() {
			t.Errorf("read %d has no time", i)
		}
		wantRaw := AppendTagRecord(nil, testOpts.withDefaults().Metadata, []TagRead{a, b}[i])
		if !bytes.Equal(r.Raw, wantRaw) {
			t.Errorf("read %d Raw = % X, want % X", i, r.Raw, wantRaw)
		}
		r.Time, r.Raw = time.Time{}, nil
		if !reflect.DeepEqual(r, want[i]) {
			t.Errorf("read %d = %+v\nwant %+v", i, r, want[i])
		}
	}
}

// The reader's replies arrive behind garbage (including a false 0xFF
// start with a long length), split in pieces, and once with a bad CRC that
// must be skipped in favour of the good copy behind it.
func TestTranscriptResync(t *testing.T) {
	o := testOpts
	a := gen2("300833B2DDD9014000000001", -40)
	ver := resp(t, OpVersion, 0, AppendVersion(nil, testVersion))
	badVer := append([]byte(nil), ver...)
	badVer[len(badVer)-1] ^= 0x40
	region := resp(t, OpSetRegion, 0, nil)
	steps := initSteps(t, o)
	// A corrupt reply is not resent by the reader: the driver asks again.
	steps[0].resp = one([]byte{0x13, 0x37}, badVer)
	steps = append([]step{steps[0]}, steps...)
	steps[1].resp = one([]byte{0xFF, 0xC8, 0x03, 0x00}, ver[:3], ver[3:9], ver[9:])
	steps[3].resp = one(append([]byte{0xFF, 0x00}, region...)) // FF 00 97… is not a frame: 00 is no opcode we wait for
	r := roundSteps(t, o, a)
	stale := resp(t, OpSetRegion, 0, nil) // a reply to another opcode
	r[0].resp = one(stale, resp(t, OpClearTagBuffer, 0, nil))
	steps = append(steps, r...)
	port := newScript(t, steps...)
	d, err := New("wand", port, o)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan drivers.Read, 8)
	if err := d.Start(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	got := collect(t, out, 1)
	d.Stop()
	if got[0].TagUID != "300833B2DDD9014000000001" {
		t.Errorf("read %+v", got[0])
	}
	st := d.Stats()
	if st.BadCRC == 0 || st.GarbageBytes == 0 || st.Retries != 1 {
		t.Errorf("stats %+v: want bad CRCs and garbage counted", st)
	}
}

// A command that gets no reply times out and the round starts over; a
// reader that stays silent is reported as disconnected.
func TestTranscriptTimeouts(t *testing.T) {
	o := testOpts
	o.Timeout = 40 * time.Millisecond
	a := gen2("300833B2DDD9014000000002", -40)
	steps := initSteps(t, o)
	steps = append(steps, step{req: cmd(t, OpClearTagBuffer, nil)}) // no reply
	steps = append(steps, roundSteps(t, o, a)...)
	port := newScript(t, steps...)
	d, _ := New("wand", port, o)
	out := make(chan drivers.Read, 8)
	if err := d.Start(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	collect(t, out, 1)
	// After the script every command goes unanswered.
	select {
	case err := <-d.Err():
		if !errors.Is(err, drivers.ErrDisconnected) {
			t.Fatalf("err = %v, want ErrDisconnected", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("silent reader never reported")
	}
	if d.Stats().Timeouts < uint64(o.MaxFailures) {
		t.Errorf("timeouts = %d", d.Stats().Timeouts)
	}
	d.Stop()
}

func TestTranscriptDisconnect(t *testing.T) {
	steps := initSteps(t, testOpts)
	port := transcript.Play(t, transcript.HangUpOnWrite, exchanges(steps)...) // then the cable is pulled
	d, _ := New("wand", port, testOpts)
	if err := d.Start(context.Background(), make(chan drivers.Read)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.Err():
		if !errors.Is(err, drivers.ErrDisconnected) || !errors.Is(err, io.EOF) {
			t.Fatalf("err = %v, want ErrDisconnected wrapping EOF", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no error")
	}
	if _, ok := <-d.Err(); ok {
		t.Fatal("Err delivered twice")
	}
	d.Stop()
}

func TestTranscriptInitFails(t *testing.T) {
	steps := initSteps(t, testOpts)[:3]
	steps[2].resp = one(resp(t, OpSetRegion, StatusInvalidRegion, nil))
	port := newScript(t, steps...)
	d, _ := New("wand", port, testOpts)
	err := d.Start(context.Background(), make(chan drivers.Read))
	var se *StatusError
	if !errors.As(err, &se) || se.Status != StatusInvalidRegion {
		t.Fatalf("Start = %v, want invalid region status", err)
	}
	if _, ok := <-d.Err(); ok {
		t.Fatal("Err should be closed after a failed Start")
	}
}

// Stop waits for reads already decoded; cancelling ctx abandons them.
func TestStopAndCancel(t *testing.T) {
	tags := []TagRead{gen2("300833B2DDD9014000000003", -40), gen2("300833B2DDD9014000000004", -41)}
	steps := append(initSteps(t, testOpts), roundSteps(t, testOpts, tags...)...)
	port := newScript(t, steps...)
	d, _ := New("wand", port, testOpts)
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan drivers.Read) // unbuffered: the driver blocks on the first read
	if err := d.Start(ctx, out); err != nil {
		t.Fatal(err)
	}
	<-out
	stopped := make(chan struct{})
	go func() { d.Stop(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("Stop returned with a decoded read undelivered")
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	<-stopped
	if err, ok := <-d.Err(); ok {
		t.Fatalf("Err after cancel = %v", err)
	}
}

func TestNewRejects(t *testing.T) {
	if _, err := New("x", nil, Opts{}); err == nil {
		t.Error("nil port accepted")
	}
	if _, err := New("x", newScript(t), Opts{ReadPower: 5000}); err == nil {
		t.Error("50 dBm accepted")
	}
	if _, err := Open("x", "/nonexistent/tty", 115200, Opts{}); err == nil {
		t.Error("opened a missing port")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("condition never met")
}
