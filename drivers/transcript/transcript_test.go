package transcript

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseExample(t *testing.T) {
	tr, err := Load("testdata/example.txt")
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := Header{
		Profile:  "feig-id-isc-mr101",
		Device:   "serial /dev/ttyUSB0 38400 8E1",
		Source:   []string{"written by hand for the transcript package's tests"},
		Recorded: "2026-12-05T12:40:00Z",
		Notes:    []string{"times are seconds since the start"},
	}
	if !reflect.DeepEqual(tr.Header, wantHeader) {
		t.Errorf("header %+v, want %+v", tr.Header, wantHeader)
	}
	want := []Event{
		{Dir: Write, At: 0, Data: []byte{0x05, 0xFF, 0x65, 0xE5, 0xCB}, Line: 10},
		{Dir: Read, At: 11 * time.Millisecond, Data: []byte{0x0F, 0x00, 0x65, 0x00, 0x03, 0x03}, Line: 11},
		{Dir: Read, At: 11 * time.Millisecond, Data: []byte{0x00, 0x30, 0x00, 0x24, 0x00, 0x00, 0x01, 0x45, 0x56}, Line: 12},
		{Dir: Write, At: time.Second, Data: []byte{0x07, 0xFF, 0xB0, 0x01, 0x00, 0x1C, 0x56}, Line: 13},
		{Dir: Fail, At: 2500 * time.Millisecond, Err: "read /dev/ttyUSB0: input/output error", Line: 14},
	}
	if !reflect.DeepEqual(tr.Events, want) {
		t.Errorf("events\n%+v\nwant\n%+v", tr.Events, want)
	}
	if got := tr.Reads(); len(got) != 2 || got[1][7] != 0x45 {
		t.Errorf("Reads() = % X", got)
	}
}

// What WriteTo writes, Parse reads back the same; times keep milliseconds.
func TestRoundTrip(t *testing.T) {
	tr := &Transcript{Name: "rt", Header: Header{Profile: "p", Device: "hid 1-1:1.0", Source: []string{"a", "b"}, Notes: []string{"multi\nline"}},
		Events: []Event{
			{Dir: Feature, At: 0, Data: []byte{0xFE, 0x01}},
			{Dir: Read, At: 1234567 * time.Microsecond, Data: bytes.Repeat([]byte{0xAB}, 64)},
			{Dir: Write, At: 2 * time.Second, Data: []byte{0}},
			{Dir: Fail, At: 3 * time.Second, Err: "gone\nfor good"},
		}}
	var b bytes.Buffer
	if _, err := tr.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	back, err := Parse("rt", b.Bytes())
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if back.Notes[0] != "multi line" || back.Events[3].Err != "gone for good" {
		t.Errorf("newlines not flattened: %q %q", back.Notes, back.Events[3].Err)
	}
	if back.Events[1].At != 1234*time.Millisecond {
		t.Errorf("time %v, want 1.234s", back.Events[1].At)
	}
	for i := range tr.Events {
		a, z := tr.Events[i], back.Events[i]
		if a.Dir != z.Dir || !bytes.Equal(a.Data, z.Data) {
			t.Errorf("event %d: %+v, want %+v", i, z, a)
		}
	}
	var again bytes.Buffer
	back.WriteTo(&again)
	if again.String() != b.String() {
		t.Errorf("second write differs:\n%s\nfirst:\n%s", again.String(), b.String())
	}
}

func TestParseErrors(t *testing.T) {
	const head = "tally-transcript 1\n"
	for _, tc := range []struct{ in, want string }{
		{"", "f.txt: empty: want \"tally-transcript 1\""},
		{"# only a comment\n", "f.txt: empty"},
		{"> 01\n", `f.txt:1: want "tally-transcript 1" as the first line, found "> 01"`},
		{"tally-transcript 2\n", `f.txt:1: want "tally-transcript 1"`},
		{head + "profil x\n", `f.txt:2:1: unknown header field "profil"`},
		{head + "profile\n", `f.txt:2:1: header field "profile" has no value`},
		{head + "> 01\nprofile x\n", `f.txt:3:1: "profile x" is not an event`},
		{head + "> +0.000 0G\n", `f.txt:2:11: 'G' is not a hex digit`},
		{head + "  > +0.000 0G\n", `f.txt:2:13: 'G' is not a hex digit`},
		{head + "> 01 2\n", `f.txt:2:6: odd number of hex digits: "2" has no second digit`},
		{head + "> 01 2 3\n", `f.txt:2:6: odd number of hex digits: "2" has no second digit`},
		{head + "> zz\n", `f.txt:2:3: 'z' is not a hex digit`},
		{head + ">01\n", `f.txt:2:2: put a space after ">"`},
		{head + "< +1.0\n", `f.txt:2: read event with no bytes`},
		{head + "< # nothing\n", `f.txt:2: read event with no bytes`},
		{head + "! +1.0\n", `f.txt:2: '!' needs the error the host saw`},
		{head + "< +x 01\n", `f.txt:2:3: time "+x": not a number of seconds`},
		{head + "< +-1 01\n", `f.txt:2:3: time "+-1"`},
		{head + "< +1.0000000001 01\n", `f.txt:2:3: time`},
		{head + "< +2 01\n< +1 02\n", `f.txt:3:3: time +1 is before the previous event's +2.000`},
		{head + "< 00\n? 01\n", `f.txt:3:1: "? 01" is not an event`},
		{head + "< " + strings.Repeat("00", MaxLine) + "\n", "f.txt:2: line is"},
	} {
		_, err := Parse("f.txt", []byte(tc.in))
		var te *Error
		if err == nil || !errors.As(err, &te) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Parse(%.40q):\n got %v\nwant %s…", tc.in, err, tc.want)
		}
	}
}

func mustParse(t *testing.T, s string) *Transcript {
	t.Helper()
	tr, err := Parse("t.txt", []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

const pollScript = `tally-transcript 1
> 01 02 03
< 0A 0B
< 0C
> 04
< 0D 0E 0F
`

func TestPlaybackPoll(t *testing.T) {
	p := NewPlayback(mustParse(t, pollScript), Silent)
	// Writes are a stream: split one, and join the next with it.
	if n, err := p.Write([]byte{1, 2}); n != 2 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if n, err := p.Write([]byte{3}); n != 1 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	buf := make([]byte, 1)
	var got []byte
	for range 3 { // a small buffer takes a read in pieces
		n, err := p.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.Equal(got, []byte{0x0A, 0x0B, 0x0C}) {
		t.Fatalf("read % X", got)
	}
	// A Read while a write is due waits for it.
	readc := make(chan []byte)
	go func() {
		b := make([]byte, 16)
		n, _ := p.Read(b)
		readc <- b[:n]
	}()
	select {
	case b := <-readc:
		t.Fatalf("read % X before the write was due", b)
	case <-time.After(20 * time.Millisecond):
	}
	select {
	case <-p.Done():
		t.Fatal("done before the last event")
	default:
	}
	if next, ok := p.Next(); !ok || next.Dir != Write || next.Line != 5 || p.Played() != 3 {
		t.Errorf("Next = %+v, %v after %d played", next, ok, p.Played())
	}
	if err := p.Err(); err == nil || !strings.Contains(err.Error(), "t.txt:5: 2 of 5 events not played; next the transcript has a write: 04") {
		t.Errorf("Err before the end = %v", err)
	}
	p.Write([]byte{4})
	if b := <-readc; !bytes.Equal(b, []byte{0x0D, 0x0E, 0x0F}) {
		t.Fatalf("read % X", b)
	}
	<-p.Done()
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	// Silent after the end: writes are taken, reads wait for Close.
	if n, err := p.Write([]byte{9}); n != 1 || err != nil || p.Extra() != 1 {
		t.Fatalf("write after the end: %d, %v, extra %d", n, err, p.Extra())
	}
	go func() {
		time.Sleep(10 * time.Millisecond)
		p.Close()
	}()
	if _, err := p.Read(buf); !errors.Is(err, ErrClosed) {
		t.Fatalf("Read after Close = %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
}

func TestPlaybackMismatch(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write []byte
		want  string
	}{
		{"wrong byte", []byte{1, 9, 3}, "t.txt:2: driver wrote 01 09 03, transcript has 01 02 03"},
		{"too long", []byte{1, 2, 3, 4}, "t.txt:3: driver wrote 04, 1 bytes more than the transcript's write before this read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPlayback(mustParse(t, pollScript), Silent)
			_, err := p.Write(tc.write)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Write error %v, want %s", err, tc.want)
			}
			<-p.Done() // a broken playback is over
			if _, err2 := p.Read(make([]byte, 4)); err2 != err {
				t.Errorf("Read after a mismatch = %v", err2)
			}
			if err2 := p.Close(); err2 != err {
				t.Errorf("Close = %v, want the mismatch", err2)
			}
		})
	}
	p := NewPlayback(mustParse(t, "tally-transcript 1\n< 01\n"), Silent)
	if _, err := p.Write([]byte{7}); err == nil || err.Error() != "t.txt:2: driver wrote 07 where the transcript has a read" {
		t.Errorf("write where a read is due: %v", err)
	}
}

func TestPlaybackUnplayedIsAnError(t *testing.T) {
	p := NewPlayback(mustParse(t, pollScript), Silent)
	p.Write([]byte{1, 2, 3})
	p.Read(make([]byte, 1))
	err := p.Close()
	if err == nil || err.Error() != "t.txt:3: 4 of 5 events not played; next the transcript has a read: 0B (1 of 2 bytes played)" {
		t.Fatalf("Close = %v", err)
	}
	if !p.Closed() {
		t.Error("not closed")
	}
}

func TestPlaybackDeviceError(t *testing.T) {
	tr := mustParse(t, "tally-transcript 1\n< +1.5 01\n! +2 LIBUSB_ERROR_NO_DEVICE\n")
	p := NewPlayback(tr, Silent)
	b := make([]byte, 8)
	if n, err := p.Read(b); n != 1 || err != nil || p.Now() != 1500*time.Millisecond {
		t.Fatalf("Read = %d, %v at %v", n, err, p.Now())
	}
	_, err := p.Read(b)
	var de *DeviceError
	if !errors.As(err, &de) || de.Msg != "LIBUSB_ERROR_NO_DEVICE" || de.Line != 3 {
		t.Fatalf("Read = %v, want the device error of line 3", err)
	}
	if _, err := p.Write([]byte{1}); err != de {
		t.Errorf("Write after the device failed = %v", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	// A '!' where a write is due fails the write.
	p = NewPlayback(mustParse(t, "tally-transcript 1\n< 01\n! gone\n"), Silent)
	p.Read(b)
	if _, err := p.Write([]byte{0}); err == nil || err.Error() != "gone" {
		t.Errorf("Write = %v", err)
	}
}

func TestPlaybackHangUp(t *testing.T) {
	p := Events("t", HangUpOnRead, Reads([]byte{1})...)
	b := make([]byte, 4)
	p.Read(b)
	if _, err := p.Read(b); err != io.EOF {
		t.Fatalf("Read at the end = %v, want EOF", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}

	p = Events("t", HangUpOnWrite, Event{Dir: Write, Data: []byte{1}}, Event{Dir: Read, Data: []byte{2}})
	readErr := make(chan error)
	go func() {
		p.Read(b)
		_, err := p.Read(b) // waits at the end until the write hangs up
		readErr <- err
	}()
	p.Write([]byte{1})
	<-p.Done()
	if n, err := p.Write([]byte{1, 2}); n != 0 || err != io.EOF {
		t.Fatalf("Write past the end = %d, %v", n, err)
	}
	if err := <-readErr; err != io.EOF {
		t.Fatalf("Read after the hang-up = %v", err)
	}
}

func TestPlaybackFeatureReports(t *testing.T) {
	tr := mustParse(t, "tally-transcript 1\nF FE 01\n< 02 00\n")
	p := NewPlayback(tr, Silent)
	if _, err := p.SendFeatureReport([]byte{0xFE, 0x01}); err != nil {
		t.Fatal(err)
	}
	if n, err := p.Read(make([]byte, 8)); n != 2 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		report []byte
		want   string
	}{
		{[]byte{0xFE, 0x02}, "t.txt:2: driver sent feature report FE 02, transcript has FE 01"},
		{[]byte{0x01}, "t.txt:2: driver sent feature report 01, transcript has FE 01"},
	} {
		p := NewPlayback(tr, Silent)
		if _, err := p.SendFeatureReport(tc.report); err == nil || err.Error() != tc.want {
			t.Errorf("SendFeatureReport(% X) = %v, want %s", tc.report, err, tc.want)
		}
	}
	p = NewPlayback(mustParse(t, "tally-transcript 1\n< 01\n"), Silent)
	if _, err := p.SendFeatureReport([]byte{0xFE, 0x01}); err == nil || err.Error() != "t.txt:2: driver sent feature report FE 01 where the transcript has a read" {
		t.Errorf("feature report where a read is due: %v", err)
	}
}

// Record writes what passes through it; the transcript it writes plays
// back to the same exchange.
func TestRecord(t *testing.T) {
	dev := NewPlayback(mustParse(t, "tally-transcript 1\nF FE 01\n> 01 02\n< 0A\n< 0B 0C\n! unplugged\n"), Silent)
	var out bytes.Buffer
	r, err := NewRecord(dev, &out, Header{Profile: "honeywell-voyager-1250g-hidpos", Device: "hid 1-1:1.0", Source: []string{"tally capture test"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.SendFeatureReport([]byte{0xFE, 0x01}); err != nil {
		t.Fatal(err)
	}
	r.Write([]byte{1})
	r.Write([]byte{2})
	b := make([]byte, 8)
	for range 2 {
		if _, err := r.Read(b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Read(b); err == nil || err.Error() != "unplugged" {
		t.Fatalf("Read = %v", err)
	}
	if err := r.Close(); err != nil || r.Err() != nil {
		t.Fatalf("Close = %v, %v", err, r.Err())
	}
	if r.Count(Read) != 2 || r.Count(Write) != 2 || r.Count(Fail) != 1 {
		t.Errorf("counts: %d reads, %d writes, %d failures", r.Count(Read), r.Count(Write), r.Count(Fail))
	}
	back, err := Parse("recorded", out.Bytes())
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if back.Profile != "honeywell-voyager-1250g-hidpos" || back.Device != "hid 1-1:1.0" {
		t.Errorf("header %+v", back.Header)
	}
	var dirs []Dir
	for _, ev := range back.Events {
		dirs = append(dirs, ev.Dir)
	}
	if string(dirs) != "F>><<!" {
		t.Errorf("events %q, want \"F>><<!\"\n%s", string(dirs), out.String())
	}
	p := NewPlayback(back, Silent)
	p.SendFeatureReport([]byte{0xFE, 0x01})
	p.Write([]byte{1, 2})
	p.Read(b)
	p.Read(b)
	if _, err := p.Read(b); err == nil || err.Error() != "unplugged" {
		t.Errorf("replayed Read = %v", err)
	}
	if err := p.Close(); err != nil {
		t.Error(err)
	}

	// A read ended by Close is not logged as a device failure.
	gone := NewPlayback(&Transcript{}, Silent)
	out.Reset()
	r, _ = NewRecord(gone, &out, Header{})
	go func() { time.Sleep(5 * time.Millisecond); r.Close() }()
	r.Read(b)
	if strings.Contains(out.String(), "!") {
		t.Errorf("Close logged as a failure:\n%s", out.String())
	}
	// Nor can a record of a serial port send feature reports.
	if _, err := (&Record{dev: struct{ io.ReadWriteCloser }{gone}}).SendFeatureReport([]byte{1}); err == nil {
		t.Error("feature report to a device without them")
	}
}

// Paced, a read waits for its time in the transcript; Close ends the wait.
func TestPlaybackPace(t *testing.T) {
	p := NewPlayback(mustParse(t, "tally-transcript 1\n< +0 01\n< +3600 02\n"), Silent)
	p.Pace(1)
	b := make([]byte, 4)
	if n, err := p.Read(b); n != 1 || err != nil {
		t.Fatalf("first Read = %d, %v", n, err)
	}
	errc := make(chan error)
	go func() {
		_, err := p.Read(b)
		errc <- err
	}()
	select {
	case err := <-errc:
		t.Fatalf("read an hour early: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	p.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("Read after Close = %v", err)
	}
}

type fakeTB struct{ errs []string }

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}

func TestCheck(t *testing.T) {
	p := Events("TestX", Silent, Reads([]byte{1})...)
	var tb fakeTB
	p.Check(&tb)
	if len(tb.errs) != 1 || tb.errs[0] != "TestX: 1 of 1 events not played; next the transcript has a read: 01" {
		t.Fatalf("Check reported %q", tb.errs)
	}
	p.Read(make([]byte, 1))
	tb.errs = nil
	p.Check(&tb)
	if len(tb.errs) != 0 {
		t.Fatalf("Check after playing reported %q", tb.errs)
	}
}

func TestExchange(t *testing.T) {
	evs := Exchange([]byte{1}, []byte{2}, []byte{3, 4})
	if len(evs) != 3 || evs[0].Dir != Write || evs[1].Dir != Read || evs[2].Dir != Read || evs[2].Data[1] != 4 {
		t.Fatalf("Exchange = %+v", evs)
	}
	p := Play(t, Silent, evs...)
	p.Write([]byte{1})
	b := make([]byte, 4)
	p.Read(b)
	p.Read(b) // Play checks at the end of the test that all is played
}
