package chafon_test

import (
	"context"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/dedupe"
	"github.com/tally-inventory/tally/drivers/rfid/chafon"
	"github.com/tally-inventory/tally/drivers/sim"
)

// BenchmarkPtyReads is sustained tag reads per second through the driver
// and dedupe over a real pty, from a simulated UHFReader288 with a 300-tag
// cart in its field and no noise: the figure for `make bench` (goal ≥
// 11,000 reads/s).
func BenchmarkPtyReads(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := sim.OpenPty()
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	pop := sim.NewPopulation(sim.CartTags(300, 1), 1)
	pop.EnterAll()
	srv := sim.NewChafon(p.Master, sim.ChafonOpts{Field: pop, Type: 0x0C})
	go srv.Serve(ctx)
	o := chafon.DefaultOpts
	o.ScanTime = 300 * time.Millisecond
	d, err := chafon.Open("wand", p.Path, 115200, o)
	if err != nil {
		b.Fatal(err)
	}
	out := make(chan drivers.Read, 1024)
	if err := d.Start(ctx, out); err != nil {
		b.Fatal(err)
	}
	defer d.Stop()
	f := dedupe.New(2 * time.Second)
	b.ReportAllocs()
	b.ResetTimer()
	passed := 0
	for b.Loop() {
		if f.Pass(<-out) {
			passed++
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reads/s")
	if passed > 300 {
		b.Fatalf("%d reads passed dedupe from a 300-tag field", passed)
	}
}

// BenchmarkDecoderReads is the baseline: the same answers decoded from an
// in-memory buffer, no pty, no goroutines.
func BenchmarkDecoderReads(b *testing.B) {
	tags := sim.CartTags(300, 1)
	var stream []byte
	for i := 0; i < len(tags); i += 17 {
		var tt []chafon.Tag
		for _, t := range tags[i:min(i+17, len(tags))] {
			tt = append(tt, chafon.Tag{EPC: t.EPC, RSSI: 0x50})
		}
		status := chafon.StatusMore
		if i+17 >= len(tags) {
			status = chafon.StatusDone
		}
		f, err := chafon.Response{Cmd: chafon.CmdInventory, Status: status, Data: chafon.AppendInventory(nil, chafon.Protocol288, 1, tt)}.Append(nil)
		if err != nil {
			b.Fatal(err)
		}
		stream = append(stream, f...)
	}
	d := &chafon.Decoder{Addr: 0}
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	for n < b.N {
		d.Feed(stream)
		for n < b.N {
			r, ok := d.Next(chafon.CmdInventory)
			if !ok {
				break
			}
			chafon.ParseInventory(chafon.Protocol288, r.Data, func(chafon.Tag) { n++ })
		}
		d.Reset()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reads/s")
}
