package feedback

import (
	"context"
	"testing"

	"periph.io/x/conn/v3/gpio/gpiotest"
)

// BenchmarkChanSend is the baseline: a non-blocking send on a buffered
// channel, the least a hand-off to another goroutine costs.
func BenchmarkChanSend(b *testing.B) {
	ch := make(chan string, 1)
	b.ReportAllocs()
	for b.Loop() {
		select {
		case ch <- OK:
		default:
			<-ch
		}
	}
}

// BenchmarkSignal is the cost the pipeline pays per read: the player is
// held in an alarm on a frozen clock, so each ok is queued in reserve.
func BenchmarkSignal(b *testing.B) {
	clk := &fakeClock{}
	d, err := New(&gpiotest.Pin{N: "buzz"}, &gpiotest.Pin{N: "green"}, &gpiotest.Pin{N: "red"}, Opts{Clock: clk})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := d.Signal(ctx, Error); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Signal(ctx, OK); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	go func() {
		for clk.fire() || true {
			select {
			case <-d.done:
				return
			default:
			}
		}
	}()
	d.Stop()
}
