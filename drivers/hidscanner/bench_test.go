package hidscanner

import (
	"context"
	"sync"
	"testing"

	"github.com/tally-inventory/tally/drivers"
)

// benchDecode decodes reports (one scan) b.N times and reports the cost
// per report and per barcode.
func benchDecode(b *testing.B, o Opts, reports [][]byte) {
	d, err := NewDecoder(o)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	codes := 0
	for b.Loop() {
		for _, r := range reports {
			res, err := d.Decode(r)
			if err != nil {
				b.Fatal(err)
			}
			if res.Done {
				codes++
			}
		}
	}
	if codes != b.N {
		b.Fatalf("%d codes in %d scans", codes, b.N)
	}
	ns := float64(b.Elapsed().Nanoseconds())
	b.ReportMetric(ns/float64(b.N), "ns/barcode")
	b.ReportMetric(ns/float64(b.N*len(reports)), "ns/report")
}

func keyboardScan(b *testing.B, text, layout string) [][]byte {
	rs, err := KeyboardReports(text, layout)
	if err != nil {
		b.Fatal(err)
	}
	out := make([][]byte, len(rs))
	for i := range rs {
		out[i] = rs[i][:]
	}
	return out
}

func BenchmarkKeyboardUS(b *testing.B) {
	benchDecode(b, Opts{}, keyboardScan(b, "30234000517861\r", "us"))
}

func BenchmarkKeyboardFR(b *testing.B) {
	benchDecode(b, Opts{Layout: "fr"}, keyboardScan(b, "30234000517861\r", "fr"))
}

func BenchmarkHIDPOS(b *testing.B) {
	rs, _ := POSReports("]F0", []byte("30234000517861"), VendorHoneywell)
	benchDecode(b, Opts{Mode: ModeHIDPOS}, rs)
}

func BenchmarkHIDPOSMultiChunk(b *testing.B) {
	rs, _ := POSReports("]Q1", make([]byte, 300), VendorZebra)
	for _, r := range rs {
		for i := 6; i < 6+int(r[1]); i++ {
			r[i] = 'q'
		}
	}
	benchDecode(b, Opts{Mode: ModeHIDPOS, Vendor: VendorZebra}, rs)
}

func BenchmarkSNAPI(b *testing.B) {
	benchDecode(b, Opts{Mode: ModeSNAPI}, SNAPIReports(2, []byte("30234000517861")))
}

// loopDevice replays one scan forever, as fast as the driver reads.
type loopDevice struct {
	reports [][]byte
	i       int
	mu      sync.Mutex
	closed  bool
}

func (l *loopDevice) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, errClosed
	}
	r := l.reports[l.i%len(l.reports)]
	l.i++
	return copy(p, r), nil
}
func (l *loopDevice) Write(p []byte) (int, error) { return len(p), nil }
func (l *loopDevice) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	return nil
}

// BenchmarkDevKeyboard is the whole driver path per barcode: reads from the
// device, decoding, and the drivers.Read handed to the pipeline (its Code
// and Raw are the only allocations).
func BenchmarkDevKeyboard(b *testing.B) {
	dev := &loopDevice{reports: keyboardScan(b, "30234000517861\r", "us")}
	d, err := New("bench", dev, Opts{})
	if err != nil {
		b.Fatal(err)
	}
	out := make(chan drivers.Read, 64)
	if err := d.Start(context.Background(), out); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if r := <-out; len(r.Code) != 14 {
			b.Fatalf("code %q", r.Code)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/barcode")
	b.StopTimer()
	go func() {
		for range out {
		}
	}()
	d.Stop()
	close(out)
}
