package feig

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/sim"
)

// cart is a book cart: n ISO 15693 tags with ISO 28560-3 data; every sixth
// is a small 8-block tag, the rest ICODE SLIX with 28 blocks. The map goes
// from UID hex to item identifier.
func cart(n int) ([]sim.Tag, map[string]string) {
	tags := make([]sim.Tag, n)
	ids := make(map[string]string, n)
	for i := range tags {
		u := uidN(1000 + i)
		u[4] = byte(i * 37)
		id := fmt.Sprintf("3%013d", 1234500000+i)
		size := 112
		if i%6 == 0 {
			size = 32
		}
		tags[i] = sim.Tag{UID: u[:], Blocks: danish(id, "US-CA-0042", size), BlockSize: 4, AFI: 0xC2}
		ids[drivers.HexUpper(u[:])] = id
	}
	return tags, ids
}

type reader struct {
	pty  *sim.Pty
	sim  *sim.FEIG
	done chan error
}

func startSim(t testing.TB, opts sim.FEIGOpts) *reader {
	t.Helper()
	p, err := sim.OpenPty()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	r := &reader{pty: p, sim: sim.NewFEIG(p.Master, opts), done: make(chan error, 1)}
	go func() { r.done <- r.sim.Serve(context.Background()) }()
	t.Cleanup(func() {
		r.sim.Unplug()
		<-r.done
		p.Close()
	})
	return r
}

var noisy = sim.Noise{GarbageRate: 0.1, BadCRCRate: 0.05, SplitRate: 0.2, Seed: 11}

var ptyOpts = Opts{Addr: BroadcastAddr, Timeout: 250 * time.Millisecond, Decode: danishID}

func readCart(t *testing.T, out <-chan drivers.Read, ids map[string]string, seen map[string]bool, errc <-chan error) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for len(seen) < len(ids) {
		select {
		case r := <-out:
			want, ok := ids[r.TagUID]
			if !ok {
				t.Fatalf("read a tag that is not on the cart: %+v", r)
			}
			if r.Code != want && r.Code != r.TagUID {
				t.Fatalf("tag %s: code %q, want %q", r.TagUID, r.Code, want)
			}
			if r.Code == want {
				if r.TagModel != "iso28560-3" || (len(r.Raw) != 112 && len(r.Raw) != 32) {
					t.Fatalf("tag %s: model %q, %d bytes", r.TagUID, r.TagModel, len(r.Raw))
				}
				seen[r.TagUID] = true // a tag counts once its data has been read
			}
		case err := <-errc:
			t.Fatalf("reader failed after %d tags: %v", len(seen), err)
		case <-deadline:
			t.Fatalf("read %d of %d tags", len(seen), len(ids))
		}
	}
}

func TestCartOverPty(t *testing.T) {
	for _, tc := range []struct {
		name     string
		advanced bool
		lsb      bool
		noise    sim.Noise
		miss     float64
		cards    [][]byte // ISO 14443A cards lying on the pad with the books
	}{
		{"standard clean", false, false, sim.Noise{}, 0, nil},
		{"standard noisy lsb-first", false, true, noisy, 0.2, [][]byte{{0xDE, 0xAD, 0xBE, 0xEF}}},
		{"advanced noisy", true, false, noisy, 0.2, [][]byte{{0x04, 0x5A, 0x2B, 0x3C, 0x4D, 0x5E, 0x80}, {4, 1, 2, 3, 4, 5, 6, 7, 8, 9}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tags, ids := cart(300)
			r := startSim(t, sim.FEIGOpts{Tags: tags, Cards: tc.cards, Noise: tc.noise, MissRate: tc.miss, LSBFirst: tc.lsb, RFWarnRate: 0.05})
			o := ptyOpts
			o.Advanced = tc.advanced
			if tc.lsb {
				o.BlockOrder = LSBFirst
			}
			if tc.advanced {
				o.Decode = nil // the default: drivers/tagdata detects the model
			}
			d, err := Open("desk-pad", r.pty.Path, 38400, o)
			if err != nil {
				t.Fatal(err)
			}
			out := make(chan drivers.Read, 256)
			if err := d.Start(context.Background(), out); err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			readCart(t, out, ids, seen, d.Err())
			rounds := d.Stats().Rounds
			for d.Stats().Rounds < rounds+2 {
				select {
				case r := <-out:
					if _, ok := ids[r.TagUID]; !ok {
						t.Fatalf("phantom tag %+v", r)
					}
				case err := <-d.Err():
					t.Fatal(err)
				}
			}
			d.Stop()
			if len(seen) != 300 {
				t.Fatalf("%d distinct tags, want 300", len(seen))
			}
			if err, ok := <-d.Err(); ok {
				t.Fatalf("Err after Stop: %v", err)
			}
			st := d.Stats()
			t.Logf("driver %+v, sim %+v", st, r.sim.Stats())
			if tc.noise.BadCRCRate > 0 && (st.BadCRC == 0 || st.GarbageBytes == 0) {
				t.Errorf("noise not seen: %+v", st)
			}
			if st.BlockReads < 300 {
				t.Errorf("block reads %d", st.BlockReads)
			}
			if (st.Cards > 0) != (len(tc.cards) > 0) || st.UnknownSets != 0 {
				t.Errorf("cards %d, unknown sets %d, with %d cards on the pad", st.Cards, st.UnknownSets, len(tc.cards))
			}
		})
	}
}

func TestUnplugReplug(t *testing.T) {
	tags, ids := cart(300)
	link := filepath.Join(t.TempDir(), "ttyFEIG")
	r1 := startSim(t, sim.FEIGOpts{Tags: tags[:100], Noise: noisy})
	if err := os.Symlink(r1.pty.Path, link); err != nil {
		t.Fatal(err)
	}
	d, err := Open("desk", link, 38400, ptyOpts)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan drivers.Read, 256)
	if err := d.Start(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	first := map[string]string{}
	for _, tg := range tags[:100] {
		first[drivers.HexUpper(tg.UID)] = ids[drivers.HexUpper(tg.UID)]
	}
	seen := map[string]bool{}
	readCart(t, out, first, seen, d.Err())
	r1.sim.Unplug()
	select {
	case err := <-d.Err():
		if !errors.Is(err, drivers.ErrDisconnected) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("unplug not reported")
	}
	d.Stop()
	for len(out) > 0 {
		<-out
	}
	r2 := startSim(t, sim.FEIGOpts{Tags: tags, Noise: noisy})
	os.Remove(link)
	if err := os.Symlink(r2.pty.Path, link); err != nil {
		t.Fatal(err)
	}
	d2, err := Open("desk", link, 38400, ptyOpts)
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

// BenchmarkReadsOverPty measures sustained reads per second through the
// driver over a pty: a cart of 300 tags in the field, blocks read once per
// tag and served from the cache after.
func BenchmarkReadsOverPty(b *testing.B) {
	for _, adv := range []bool{false, true} {
		b.Run(fmt.Sprintf("advanced=%v", adv), func(b *testing.B) {
			tags, _ := cart(300)
			r := startSim(b, sim.FEIGOpts{Tags: tags})
			o := ptyOpts
			o.Advanced = adv
			d, err := Open("bench", r.pty.Path, 38400, o)
			if err != nil {
				b.Fatal(err)
			}
			out := make(chan drivers.Read, 1024)
			if err := d.Start(context.Background(), out); err != nil {
				b.Fatal(err)
			}
			for range 300 { // the first round reads every tag's blocks
				<-out
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
		})
	}
}
