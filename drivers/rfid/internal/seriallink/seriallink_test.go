package seriallink

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers"
)

// A toy protocol: SOF, length n, n payload bytes, then the payload's byte
// sum. It is enough to exercise the hunt without any real driver.
const sof = 0xAA

func probe(b []byte) int {
	if b[0] != sof {
		return -1
	}
	if len(b) < 2 {
		return 0
	}
	return 3 + int(b[1])
}

func verify(f []byte) bool {
	var sum byte
	for _, c := range f[2 : len(f)-1] {
		sum += c
	}
	return sum == f[len(f)-1]
}

func frame(payload ...byte) []byte {
	f := []byte{sof, byte(len(payload))}
	f = append(f, payload...)
	var sum byte
	for _, c := range payload {
		sum += c
	}
	return append(f, sum)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestScanner(t *testing.T) {
	good := frame(1, 2, 3)
	bad := frame(1, 2, 3)
	bad[len(bad)-1] ^= 0xFF
	tests := []struct {
		name                    string
		chunks                  [][]byte
		want                    [][]byte
		frames, badCRC, garbage uint64
		sawBad                  bool
	}{
		{"clean", [][]byte{good}, [][]byte{good}, 1, 0, 0, false},
		{"leading garbage", [][]byte{cat([]byte{0x00, 0x13, 0x37}, good)}, [][]byte{good}, 1, 0, 3, false},
		{"split", [][]byte{good[:1], good[1:4], good[4:]}, [][]byte{good}, 1, 0, 0, false},
		// A false header claims 0xF0 bytes that never come; the real frame
		// behind it must still be found without waiting for more.
		{"false start", [][]byte{cat([]byte{sof, 0xF0, 0x01}, good)}, [][]byte{good}, 1, 0, 3, false},
		// A corrupt copy costs one byte at a time until the hunt reaches the
		// good frame behind it.
		{"corrupt then good", [][]byte{cat(bad, good)}, [][]byte{good}, 1, 1, uint64(len(bad)), true},
		{"two frames", [][]byte{cat(good, frame(9))}, [][]byte{good, frame(9)}, 2, 0, 0, false},
		{"only garbage", [][]byte{{0x01, 0x02, 0x03}}, nil, 0, 0, 3, false},
		{"incomplete", [][]byte{good[:4]}, nil, 0, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Scanner
			var got [][]byte
			for _, c := range tt.chunks {
				s.Feed(c)
				for {
					f, ok := s.Next(probe, verify)
					if !ok {
						break
					}
					got = append(got, bytes.Clone(f))
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d frames % X, want %d % X", len(got), got, len(tt.want), tt.want)
			}
			for i := range got {
				if !bytes.Equal(got[i], tt.want[i]) {
					t.Errorf("frame %d = % X, want % X", i, got[i], tt.want[i])
				}
			}
			frames, badCRC, garbage := s.Stats()
			if frames != tt.frames || badCRC != tt.badCRC || garbage != tt.garbage {
				t.Errorf("stats = %d frames, %d bad, %d garbage; want %d, %d, %d", frames, badCRC, garbage, tt.frames, tt.badCRC, tt.garbage)
			}
			if s.SawBad() != tt.sawBad {
				t.Errorf("SawBad = %v, want %v", s.SawBad(), tt.sawBad)
			}
			s.ClearBad()
			if s.SawBad() {
				t.Error("SawBad after ClearBad")
			}
		})
	}
}

func TestScannerReset(t *testing.T) {
	var s Scanner
	s.Feed(frame(1, 2)[:3]) // a stale half reply
	if _, ok := s.Next(probe, verify); ok {
		t.Fatal("frame from half a reply")
	}
	s.Reset()
	s.Feed(frame(7))
	f, ok := s.Next(probe, verify)
	if !ok || !bytes.Equal(f, frame(7)) {
		t.Fatalf("after Reset got % X, %v; want % X", f, ok, frame(7))
	}
	if _, _, garbage := s.Stats(); garbage != 3 {
		t.Errorf("garbage = %d, want the 3 stale bytes", garbage)
	}
}

func TestScannerBounded(t *testing.T) {
	var s Scanner
	// A header that never completes would otherwise grow the buffer forever.
	s.Feed([]byte{sof, 0xFF})
	junk := bytes.Repeat([]byte{0x55}, ChunkSize)
	for range 20 {
		s.Feed(junk)
		s.Next(probe, verify)
	}
	if n := len(s.buf) - s.off; n > maxBuffered {
		t.Fatalf("%d bytes buffered, bound is %d", n, maxBuffered)
	}
	s.Feed(frame(4, 5))
	if f, ok := s.Next(probe, verify); !ok || !bytes.Equal(f, frame(4, 5)) {
		t.Fatalf("got % X, %v after overflow; want % X", f, ok, frame(4, 5))
	}
}

// pipePort is a closable port: the test writes device bytes into dev, and
// whatever the Link writes lands in sent.
type pipePort struct {
	r    *io.PipeReader
	sent bytes.Buffer
	max  int // largest single Write accepted, to force short writes
}

func (p *pipePort) Read(b []byte) (int, error) { return p.r.Read(b) }
func (p *pipePort) Close() error               { return p.r.Close() }
func (p *pipePort) Write(b []byte) (int, error) {
	if p.max > 0 && len(b) > p.max {
		b = b[:p.max]
	}
	return p.sent.Write(b)
}

func newPipe(t *testing.T) (*Link, *pipePort, *io.PipeWriter) {
	t.Helper()
	r, w := io.Pipe()
	p := &pipePort{r: r}
	l := New(p)
	t.Cleanup(l.Shutdown)
	return l, p, w
}

func TestWaitFeeds(t *testing.T) {
	l, _, dev := newPipe(t)
	go dev.Write(frame(1, 2))
	var s Scanner
	for {
		if f, ok := s.Next(probe, verify); ok {
			if !bytes.Equal(f, frame(1, 2)) {
				t.Fatalf("got % X, want % X", f, frame(1, 2))
			}
			return
		}
		if err := l.Wait(context.Background(), time.Now().Add(time.Minute), &s); err != nil {
			t.Fatalf("Wait: %v", err)
		}
	}
}

func TestWaitErrors(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name     string
		ctx      context.Context
		deadline time.Time
		want     error
	}{
		{"deadline passed", context.Background(), time.Now().Add(-time.Second), ErrTimeout},
		{"deadline reached", context.Background(), time.Now().Add(time.Millisecond), ErrTimeout},
		{"ctx done", cancelled, time.Now().Add(time.Minute), ErrStopped},
		{"ctx done, no deadline", cancelled, time.Time{}, ErrStopped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _, _ := newPipe(t)
			var s Scanner
			if err := l.Wait(tt.ctx, tt.deadline, &s); !errors.Is(err, tt.want) {
				t.Fatalf("Wait = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestWaitDisconnectedIsSticky(t *testing.T) {
	l, _, dev := newPipe(t)
	unplugged := errors.New("unplugged")
	dev.CloseWithError(unplugged)
	var s Scanner
	for i := range 2 {
		err := l.Wait(context.Background(), time.Now().Add(time.Minute), &s)
		if !errors.Is(err, drivers.ErrDisconnected) || !errors.Is(err, unplugged) {
			t.Fatalf("Wait #%d = %v, want ErrDisconnected wrapping %v", i+1, err, unplugged)
		}
	}
}

func TestWriteShort(t *testing.T) {
	l, p, _ := newPipe(t)
	p.max = 2
	want := frame(1, 2, 3, 4, 5)
	if err := l.Write(want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.sent.Bytes(), want) {
		t.Fatalf("sent % X, want % X", p.sent.Bytes(), want)
	}
}

type failWriter struct{ io.Reader }

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestWriteFails(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close() // ends the reader goroutine: this port has no Close
	l := New(failWriter{r})
	defer l.Shutdown()
	if err := l.Write([]byte{1}); !errors.Is(err, drivers.ErrDisconnected) || !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("Write = %v, want ErrDisconnected wrapping %v", err, io.ErrClosedPipe)
	}
}

func TestShutdownUnblocksAndIsIdempotent(t *testing.T) {
	l, _, _ := newPipe(t)
	l.Shutdown() // returns only once the reader goroutine is gone
	select {
	case <-l.done:
	default:
		t.Fatal("reader goroutine still running after Shutdown")
	}
	l.Shutdown()
}

// lines is a Feeder for a text protocol: it keeps what it is fed (a copy,
// as Feeder requires).
type lines struct{ b []byte }

func (f *lines) Feed(b []byte) { f.b = append(f.b, b...) }

// A listen-only driver waits with no deadline and its own decoder: the
// Wait returns only when bytes come, however long that takes.
func TestWaitNoDeadlineFeedsAnyFeeder(t *testing.T) {
	l, _, dev := newPipe(t)
	var f lines
	done := make(chan error, 1)
	go func() { done <- l.Wait(context.Background(), time.Time{}, &f) }()
	select {
	case err := <-done:
		t.Fatalf("Wait with no deadline returned %v before any byte came", err)
	case <-time.After(20 * time.Millisecond):
	}
	dev.Write([]byte("04A2B3C4\r\n"))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if string(f.b) != "04A2B3C4\r\n" {
		t.Fatalf("fed %q", f.b)
	}
}

func TestFlushDropsStaleBytes(t *testing.T) {
	l, _, dev := newPipe(t)
	var s Scanner
	dev.Write(frame(1)) // a late answer to an earlier request
	// Wait until the reader goroutine has queued it, without feeding it.
	for len(l.chunks) == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := l.Flush(&s); err != nil {
		t.Fatal(err)
	}
	if f, ok := s.Next(probe, verify); ok {
		t.Fatalf("stale frame % X survived Flush", f)
	}
	if _, _, garbage := s.Stats(); garbage != uint64(len(frame(1))) {
		t.Errorf("garbage = %d, want the %d stale bytes", garbage, len(frame(1)))
	}
	dev.CloseWithError(io.ErrUnexpectedEOF)
	for {
		err := l.Flush(&s)
		if err == nil {
			time.Sleep(time.Millisecond) // the failure is not in yet
			continue
		}
		if !errors.Is(err, drivers.ErrDisconnected) {
			t.Fatalf("Flush on a dead port = %v, want ErrDisconnected", err)
		}
		break
	}
}

// Bytes read before the port failed are handed over before the failure,
// however the select in Wait picks between the two.
func TestWaitDataBeforeFailure(t *testing.T) {
	for i := range 50 {
		l, _, dev := newPipe(t)
		go func() {
			dev.Write(frame(byte(i)))
			dev.CloseWithError(io.ErrUnexpectedEOF)
		}()
		for len(l.chunks) == 0 || len(l.rerr) == 0 {
			time.Sleep(100 * time.Microsecond)
		}
		var s Scanner
		if err := l.Wait(context.Background(), time.Now().Add(time.Minute), &s); err != nil {
			t.Fatalf("try %d: Wait = %v before the bytes read ahead of the failure", i, err)
		}
		if f, ok := s.Next(probe, verify); !ok || !bytes.Equal(f, frame(byte(i))) {
			t.Fatalf("try %d: got % X, %v", i, f, ok)
		}
		if err := l.Wait(context.Background(), time.Now().Add(time.Minute), &s); !errors.Is(err, drivers.ErrDisconnected) {
			t.Fatalf("try %d: then Wait = %v, want ErrDisconnected", i, err)
		}
	}
}
