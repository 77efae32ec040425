package thingmagic

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/sim"
)

// cart is a Chromebook cart: n GIAI-96-style EPCs, all distinct.
func cart(n int, seed uint64) ([]sim.Tag, map[string]bool) {
	rng := rand.New(rand.NewPCG(seed, 1))
	tags := make([]sim.Tag, n)
	ids := make(map[string]bool, n)
	for i := range tags {
		epc := make([]byte, 12)
		epc[0] = 0x34
		binary.BigEndian.PutUint64(epc[1:9], rng.Uint64())
		binary.BigEndian.PutUint16(epc[10:], uint16(i))
		tags[i] = sim.Tag{EPC: epc}
		ids[drivers.HexUpper(epc)] = true
	}
	return tags, ids
}

type reader struct {
	pty  *sim.Pty
	sim  *sim.ThingMagic
	done chan error
}

func startSim(t testing.TB, opts sim.ThingMagicOpts) *reader {
	t.Helper()
	p, err := sim.OpenPty()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	r := &reader{pty: p, sim: sim.NewThingMagic(p.Master, opts), done: make(chan error, 1)}
	go func() { r.done <- r.sim.Serve(context.Background()) }()
	t.Cleanup(func() {
		r.sim.Unplug()
		<-r.done
		p.Close()
	})
	return r
}

var noisy = sim.Noise{GarbageRate: 0.1, BadCRCRate: 0.05, SplitRate: 0.2, Seed: 7}

var ptyOpts = Opts{SearchTime: 20 * time.Millisecond, Timeout: 250 * time.Millisecond}

// readCart collects reads until every tag of the cart has been seen and
// fails on any tag that is not in the cart.
func readCart(t *testing.T, out <-chan drivers.Read, ids map[string]bool, seen map[string]bool, errc <-chan error) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for len(seen) < len(ids) {
		select {
		case r := <-out:
			if !ids[r.TagUID] {
				t.Fatalf("read a tag that is not in the cart: %+v", r)
			}
			if r.Code != r.TagUID || r.Kind != drivers.KindRFID || r.RSSI >= 0 || r.Antenna != 1 || len(r.Raw) == 0 {
				t.Fatalf("malformed read %+v", r)
			}
			seen[r.TagUID] = true
		case err := <-errc:
			t.Fatalf("reader failed after %d tags: %v", len(seen), err)
		case <-deadline:
			t.Fatalf("saw %d of %d tags", len(seen), len(ids))
		}
	}
}

func TestCartOverPty(t *testing.T) {
	for _, tc := range []struct {
		name  string
		noise sim.Noise
		miss  float64
	}{
		{"clean", sim.Noise{}, 0},
		{"noisy", noisy, 0.3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tags, ids := cart(300, 42)
			r := startSim(t, sim.ThingMagicOpts{Tags: tags, Noise: tc.noise, MissRate: tc.miss, Hardware: 0x30})
			d, err := Open("cart-wand", r.pty.Path, 115200, ptyOpts)
			if err != nil {
				t.Fatal(err)
			}
			out := make(chan drivers.Read, 256)
			if err := d.Start(context.Background(), out); err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			readCart(t, out, ids, seen, d.Err())
			// A few more rounds: still nothing outside the cart.
			rounds := d.Stats().Rounds
			for d.Stats().Rounds < rounds+3 {
				select {
				case r := <-out:
					if !ids[r.TagUID] {
						t.Fatalf("phantom tag %+v", r)
					}
					seen[r.TagUID] = true
				case err := <-d.Err():
					t.Fatal(err)
				}
			}
			if err := d.Stop(); err != nil {
				t.Fatal(err)
			}
			if len(seen) != 300 {
				t.Fatalf("%d distinct tags, want 300", len(seen))
			}
			if err, ok := <-d.Err(); ok {
				t.Fatalf("Err after Stop: %v", err)
			}
			st := d.Stats()
			t.Logf("driver %+v, sim %+v", st, r.sim.Stats())
			if tc.noise.BadCRCRate > 0 && (st.BadCRC == 0 || st.GarbageBytes == 0) {
				t.Errorf("noise was not seen: %+v", st)
			}
		})
	}
}

// The reader is unplugged mid-cart; the driver reports ErrDisconnected; a
// supervisor reopens the same path (a udev symlink) once it is back.
func TestUnplugReplug(t *testing.T) {
	tags, ids := cart(300, 43)
	link := filepath.Join(t.TempDir(), "ttyRFID")
	r1 := startSim(t, sim.ThingMagicOpts{Tags: tags[:150], Noise: noisy})
	if err := os.Symlink(r1.pty.Path, link); err != nil {
		t.Fatal(err)
	}
	d, err := Open("wand", link, 115200, ptyOpts)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan drivers.Read, 256)
	if err := d.Start(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	first := map[string]bool{}
	for _, tg := range tags[:150] {
		first[drivers.HexUpper(tg.EPC)] = true
	}
	readCart(t, out, first, seen, d.Err())

	r1.sim.Unplug()
	select {
	case err := <-d.Err():
		if !errors.Is(err, drivers.ErrDisconnected) {
			t.Fatalf("err = %v, want ErrDisconnected", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("unplug not reported")
	}
	d.Stop()
	for len(out) > 0 {
		<-out
	}

	// Replug: a new device node behind the same symlink, the rest of the cart.
	r2 := startSim(t, sim.ThingMagicOpts{Tags: tags, Noise: noisy})
	os.Remove(link)
	if err := os.Symlink(r2.pty.Path, link); err != nil {
		t.Fatal(err)
	}
	d2, err := Open("wand", link, 115200, ptyOpts)
	if err != nil {
		t.Fatal(err)
	}
	if err := d2.Start(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	readCart(t, out, ids, seen, d2.Err())
	d2.Stop()
	if len(seen) != 300 {
		t.Fatalf("%d distinct tags", len(seen))
	}
}

// BenchmarkReadsOverPty measures sustained tag reads per second through the
// driver over a pty against the simulator (answering at once).
func BenchmarkReadsOverPty(b *testing.B) {
	tags, _ := cart(300, 44)
	r := startSim(b, sim.ThingMagicOpts{Tags: tags})
	d, err := Open("bench", r.pty.Path, 115200, Opts{SearchTime: 10 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	out := make(chan drivers.Read, 1024)
	if err := d.Start(context.Background(), out); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		<-out
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "reads/s")
	go func() {
		for range out {
		}
	}()
	d.Stop()
}
