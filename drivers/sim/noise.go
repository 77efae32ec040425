package sim

import (
	"io"
	"math/rand/v2"
	"time"
)

// injector is the flaky serial line every simulated reader writes
// through: it puts the Noise's garbage before a frame, corrupts its check
// bytes and splits it into pieces written apart, drawing from the
// simulator's own generator so a seed replays a whole run.
type injector struct {
	noise Noise
	rng   *rand.Rand
}

// garbage returns the junk a flaky line puts before a frame, or nil. Half
// the time fake (if not nil) shapes it into a false frame start, so that a
// driver's resync is tested and not only its skipping.
func (n injector) garbage(fake func(g []byte)) []byte {
	if n.noise.GarbageRate <= 0 || n.rng.Float64() >= n.noise.GarbageRate {
		return nil
	}
	g := make([]byte, 1+n.rng.IntN(12))
	for i := range g {
		g[i] = byte(n.rng.UintN(256))
	}
	if fake != nil && n.rng.IntN(2) == 0 {
		fake(g)
	}
	return g
}

// corrupt returns f with one bit flipped in its last two bytes (the CRC of
// every framed protocol here), or f itself. f is never modified.
func (n injector) corrupt(f []byte) []byte {
	if n.noise.BadCRCRate <= 0 || n.rng.Float64() >= n.noise.BadCRCRate || len(f) < 2 {
		return f
	}
	f = append([]byte(nil), f...)
	f[len(f)-1-n.rng.IntN(2)] ^= byte(1 << n.rng.IntN(8))
	return f
}

// write writes p to w, in pieces a few hundred microseconds apart when
// the noise says so, as a USB-serial bridge hands over a frame.
func (n injector) write(w io.Writer, p []byte) error {
	if n.noise.SplitRate <= 0 || n.rng.Float64() >= n.noise.SplitRate || len(p) < 2 {
		_, err := w.Write(p)
		return err
	}
	for len(p) > 0 {
		k := 1 + n.rng.IntN(len(p))
		if _, err := w.Write(p[:k]); err != nil {
			return err
		}
		p = p[k:]
		time.Sleep(time.Duration(20+n.rng.IntN(200)) * time.Microsecond)
	}
	return nil
}

// frame writes a framed reply through the line: maybe garbage first
// (shaped by fake), maybe a corrupt CRC, maybe in pieces.
func (n injector) frame(w io.Writer, f []byte, fake func(g []byte)) error {
	if g := n.garbage(fake); g != nil {
		if _, err := w.Write(g); err != nil {
			return err
		}
	}
	return n.write(w, n.corrupt(f))
}

// writerFunc lets a function serve as the injector's io.Writer.
type writerFunc func(p []byte) error

func (f writerFunc) Write(p []byte) (int, error) {
	if err := f(p); err != nil {
		return 0, err
	}
	return len(p), nil
}
