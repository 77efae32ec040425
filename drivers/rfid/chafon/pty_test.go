package chafon_test

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
	"github.com/tally-inventory/tally/drivers/rfid/chafon"
	"github.com/tally-inventory/tally/drivers/sim"
)

// testOpts keeps timeouts short so that a lost final frame costs little.
func testOpts() chafon.Opts {
	o := chafon.DefaultOpts
	o.ScanTime = 300 * time.Millisecond
	o.Timeout = 100 * time.Millisecond
	o.Power = 27
	return o
}

// rig is a simulated reader on a pty and the driver on its slave.
type rig struct {
	pty    *sim.Pty
	srv    *sim.Chafon
	dev    *chafon.Dev
	out    chan drivers.Read
	srvErr chan error
}

func newRig(t *testing.T, ctx context.Context, so sim.ChafonOpts, o chafon.Opts) *rig {
	t.Helper()
	p, err := sim.OpenPty()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	r := &rig{pty: p, srv: sim.NewChafon(p.Master, so), out: make(chan drivers.Read, 1024), srvErr: make(chan error, 1)}
	go func() { r.srvErr <- r.srv.Serve(ctx) }()
	r.dev, err = chafon.Open("wand", p.Path, 57600, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.dev.Start(ctx, r.out); err != nil {
		t.Fatal(err)
	}
	return r
}

// collector dedupes reads as the pipeline would.
type collector struct {
	mu       sync.Mutex
	filter   *dedupe.Filter
	distinct map[string]int
	total    int
	bad      []drivers.Read
	done     chan struct{}
}

func collect(in <-chan drivers.Read, valid map[string]bool) *collector {
	c := &collector{filter: dedupe.New(time.Minute), distinct: map[string]int{}, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for r := range in {
			c.mu.Lock()
			c.total++
			if !valid[r.TagUID] || r.Code != r.TagUID || strings.ToUpper(hex.EncodeToString(r.Raw)) != r.TagUID || r.Kind != drivers.KindRFID {
				c.bad = append(c.bad, r)
			}
			if c.filter.Pass(r) {
				c.distinct[r.TagUID]++
			}
			c.mu.Unlock()
		}
	}()
	return c
}

// TestCartOverPty is the acceptance test: a wand swept along a cart of 300
// tags, through a noisy link, yields exactly 300 distinct reads.
func TestCartOverPty(t *testing.T) {
	for _, model := range []struct {
		name string
		typ  byte
		want chafon.Protocol
		scan bool // the reader starts in scan mode and needs answer mode set
	}{
		{"UHFReader18 in scan mode", 0x09, chafon.Protocol18, true},
		{"UHFReader288 in scan mode", 0x0C, chafon.Protocol288, true},
		{"UHFReader86", 0x10, chafon.Protocol288, false},
	} {
		t.Run(model.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			tags := sim.CartTags(300, 7)
			valid := map[string]bool{}
			for _, tg := range tags {
				valid[strings.ToUpper(hex.EncodeToString(tg.EPC))] = true
			}
			pop := sim.NewPopulation(tags, 7)
			pop.MissRate = 0.1
			pop.Script(sim.Sweep(len(tags), 60, 10)...)
			noise := sim.Noise{GarbageRate: 0.05, BadCRCRate: 0.05, SplitRate: 0.2, Seed: 7}
			r := newRig(t, ctx, sim.ChafonOpts{Field: pop, Type: model.typ, Noise: noise, ScanMode: model.scan}, testOpts())
			c := collect(r.out, valid)

			if err := pop.WaitScript(ctx); err != nil {
				t.Fatalf("sweep did not finish: %v (stats %+v)", err, r.dev.Stats())
			}
			if err := r.dev.Stop(); err != nil {
				t.Fatal(err)
			}
			close(r.out) // safe: Stop guarantees no more sends
			<-c.done

			if r.dev.Protocol() != model.want {
				t.Errorf("protocol %v, want %v", r.dev.Protocol(), model.want)
			}
			if got := r.srv.Settings().Power; got != 27 {
				t.Errorf("reader power %d, want 27 set at start", got)
			}
			if wm := r.srv.Settings().WorkMode; model.scan && (len(wm) == 0 || wm[0] != 0) {
				t.Errorf("work mode % X, want answer mode set at start", wm)
			}
			if len(c.bad) > 0 {
				t.Fatalf("%d reads not from the population, first %+v", len(c.bad), c.bad[0])
			}
			for uid, n := range c.distinct {
				if n != 1 {
					t.Errorf("%s passed dedupe %d times", uid, n)
				}
			}
			if len(c.distinct) != 300 {
				t.Fatalf("%d distinct reads, want 300 (%d reads in all; driver %+v; sim %+v)", len(c.distinct), c.total, r.dev.Stats(), r.srv.Stats())
			}
			s := r.dev.Stats()
			if s.BadCRC == 0 || s.Skipped == 0 {
				t.Errorf("noise not exercised: %+v", s)
			}
			t.Logf("%d reads → 300 distinct; driver %+v; sim %+v", c.total, s, r.srv.Stats())
		})
	}
}

// TestUnplugReplug: pulling the reader ends reading with ErrDisconnected;
// once it is back (a new pty, as a re-enumerated USB device may be), a
// fresh driver reads again.
func TestUnplugReplug(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tags := sim.CartTags(20, 3)
	pop := sim.NewPopulation(tags, 3)
	pop.EnterAll()
	r := newRig(t, ctx, sim.ChafonOpts{Field: pop, Type: 0x0C}, testOpts())
	<-r.out // reading

	r.srv.Unplug()
	var err error
	for err == nil {
		select {
		case <-r.out: // reads in flight
		case err = <-r.dev.Err():
			if err == nil {
				t.Fatal("Err closed without an error after unplug")
			}
		case <-ctx.Done():
			t.Fatal("no error after unplug")
		}
	}
	if !errors.Is(err, drivers.ErrDisconnected) {
		t.Fatalf("Err = %v, want ErrDisconnected", err)
	}
	if err := <-r.srvErr; err == nil {
		t.Fatal("sim Serve returned nil after unplug")
	}
	r.dev.Stop()

	// The old port is gone for good: starting on it fails as disconnected.
	r.pty.Close()
	old, _ := chafon.Open("wand", r.pty.Path, 57600, testOpts())
	if err := old.Start(ctx, make(chan drivers.Read)); !errors.Is(err, drivers.ErrDisconnected) {
		t.Fatalf("Start on a vanished port = %v, want ErrDisconnected", err)
	}

	// Replug: the supervisor builds a new driver on the new port.
	r2 := newRig(t, ctx, sim.ChafonOpts{Field: pop, Type: 0x0C}, testOpts())
	select {
	case rd := <-r2.out:
		if rd.Device != "wand" || len(rd.Raw) != 12 {
			t.Fatalf("read after replug: %+v", rd)
		}
	case <-ctx.Done():
		t.Fatal("no read after replug")
	}
	if err := r2.dev.Stop(); err != nil {
		t.Fatal(err)
	}
	if err, ok := <-r2.dev.Err(); ok || err != nil {
		t.Fatalf("Err after clean Stop = %v, %v; want closed", err, ok)
	}
}
