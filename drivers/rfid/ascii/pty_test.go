package ascii_test

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/dedupe"
	"github.com/tally-inventory/tally/drivers/rfid/ascii"
	"github.com/tally-inventory/tally/drivers/sim"
)

func startSim(t *testing.T, ctx context.Context, so sim.ASCIIOpts) (*sim.Pty, *sim.ASCII) {
	t.Helper()
	p, err := sim.OpenPty()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	s := sim.NewASCII(p.Master, so)
	go s.Serve(ctx)
	return p, s
}

// TestCartOverPty: a cart of 300 tags swept past a text-output reader
// over a noisy pty yields exactly 300 distinct reads, in both formats.
func TestCartOverPty(t *testing.T) {
	cases := []struct {
		name string
		tags []sim.Tag
		so   sim.ASCIIOpts
		o    ascii.Opts
		uid  func(sim.Tag) string
	}{
		{"lines", sim.CartTags(300, 5), sim.ASCIIOpts{Format: sim.ASCIILines, Prefix: "EPC:", Terminator: "\r\n"},
			func() ascii.Opts { o := ascii.DefaultOpts; o.Prefix = "EPC:"; return o }(),
			func(t sim.Tag) string { return strings.ToUpper(hex.EncodeToString(t.EPC)) }},
		{"lf-only lines", sim.CartTags(300, 6), sim.ASCIIOpts{Format: sim.ASCIILines, Terminator: "\n"}, ascii.DefaultOpts,
			func(t sim.Tag) string { return strings.ToUpper(hex.EncodeToString(t.EPC)) }},
		{"rdm6300", sim.EM4100Tags(300, 5), sim.ASCIIOpts{Format: sim.ASCIIRDM6300}, ascii.RDM6300Opts,
			func(t sim.Tag) string { return strings.ToUpper(hex.EncodeToString(t.UID)) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			valid := map[string]bool{}
			for _, tg := range tc.tags {
				valid[tc.uid(tg)] = true
			}
			// A sentinel tag enters the field after the sweep: once it is
			// read, everything the reader printed before has been read.
			sentinel := sim.EM4100Tags(1, 99)[0]
			if tc.name != "rdm6300" {
				sentinel = sim.CartTags(1, 99)[0]
			}
			sentinelUID := tc.uid(sentinel)
			pop := sim.NewPopulation(append(tc.tags, sentinel), 5)
			pop.MissRate = 0.1
			so := tc.so
			so.Field = pop
			so.Noise = sim.Noise{GarbageRate: 0.05, BadCRCRate: 0.05, SplitRate: 0.2, Seed: 5}
			so.Interval = time.Millisecond // a reader repeating what it holds
			p, s := startSim(t, ctx, so)

			d, err := ascii.Open("wand", p.Path, 9600, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			out := make(chan drivers.Read, 256)
			if err := d.Start(ctx, out); err != nil {
				t.Fatal(err)
			}
			// The wand sweeps the cart once the reader is connected.
			pop.Script(sim.Sweep(len(tc.tags), 60, 10)...)
			pop.Script(sim.Step{Enter: []int{len(tc.tags)}})

			f := dedupe.New(time.Minute)
			distinct := map[string]int{}
			total := 0
			for done := false; !done; {
				select {
				case r := <-out:
					if r.TagUID == sentinelUID {
						done = true
						break
					}
					total++
					if !valid[r.TagUID] || r.Code != r.TagUID {
						t.Fatalf("read %+v is not a tag of the cart", r)
					}
					if f.Pass(r) {
						distinct[r.TagUID]++
					}
				case <-ctx.Done():
					t.Fatalf("sentinel never read; %d distinct (driver %+v, sim %+v)", len(distinct), d.Stats(), s.Stats())
				}
			}
			s.Unplug()
			if err := d.Stop(); err != nil {
				t.Fatal(err)
			}
			if len(distinct) != 300 {
				t.Fatalf("%d distinct reads, want 300 (driver %+v, sim %+v)", len(distinct), d.Stats(), s.Stats())
			}
			for uid, n := range distinct {
				if n != 1 {
					t.Fatalf("%s passed dedupe %d times", uid, n)
				}
			}
			ds, ss := d.Stats(), s.Stats()
			if ds.BadLines+ds.BadChecksum == 0 || ss.Corrupt == 0 || ss.Garbage == 0 {
				t.Errorf("noise not exercised: driver %+v sim %+v", ds, ss)
			}
			t.Logf("%d reads → 300 distinct; driver %+v; sim %+v", total, ds, ss)
		})
	}
}

func TestUnplug(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pop := sim.NewPopulation(sim.EM4100Tags(3, 1), 1)
	pop.EnterAll()
	p, s := startSim(t, ctx, sim.ASCIIOpts{Format: sim.ASCIIRDM6300, Field: pop, Interval: time.Millisecond})
	d, err := ascii.Open("lf", p.Path, 9600, ascii.RDM6300Opts)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan drivers.Read, 16)
	if err := d.Start(ctx, out); err != nil {
		t.Fatal(err)
	}
	<-out
	s.Unplug()
	var once sync.Once
	for done := false; !done; {
		select {
		case <-out:
		case err := <-d.Err():
			once.Do(func() {
				if !errors.Is(err, drivers.ErrDisconnected) {
					t.Fatalf("Err = %v, want ErrDisconnected", err)
				}
			})
			done = true
		case <-ctx.Done():
			t.Fatal("no error after unplug")
		}
	}
	d.Stop()

	// Replugged on a new port, a new driver reads again.
	p2, _ := startSim(t, ctx, sim.ASCIIOpts{Format: sim.ASCIIRDM6300, Field: pop, Interval: time.Millisecond})
	d2, _ := ascii.Open("lf", p2.Path, 9600, ascii.RDM6300Opts)
	out2 := make(chan drivers.Read, 16)
	if err := d2.Start(ctx, out2); err != nil {
		t.Fatal(err)
	}
	if r := <-out2; len(r.Raw) != 5 {
		t.Fatalf("read after replug: %+v", r)
	}
	if err := d2.Stop(); err != nil {
		t.Fatal(err)
	}
}
