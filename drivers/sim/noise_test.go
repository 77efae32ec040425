package sim

import (
	"bytes"
	"testing"
)

// writes records each Write apart.
type writes [][]byte

func (w *writes) Write(p []byte) (int, error) {
	*w = append(*w, bytes.Clone(p))
	return len(p), nil
}

func TestInjector(t *testing.T) {
	f := []byte{0x07, 0x00, 0x01, 0x01, 0x01, 0x00, 0x1E, 0x4B}
	fake := func(g []byte) { g[0] = 0xAA }
	for seed := range uint64(200) {
		// No noise: the frame goes out whole, in one write.
		var clean writes
		if err := (injector{Noise{Seed: seed}, Noise{Seed: seed}.Rand()}).frame(&clean, f, fake); err != nil {
			t.Fatal(err)
		}
		if len(clean) != 1 || !bytes.Equal(clean[0], f) {
			t.Fatalf("seed %d: clean line wrote %X", seed, clean)
		}

		// Every kind of noise at once.
		n := Noise{GarbageRate: 1, BadCRCRate: 1, SplitRate: 1, Seed: seed}
		sent := append([]byte(nil), f...)
		var w writes
		if err := (injector{n, n.Rand()}).frame(&w, sent, fake); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(sent, f) {
			t.Fatalf("seed %d: the caller's frame was modified", seed)
		}
		if len(w) < 2 {
			t.Fatalf("seed %d: %d writes, want garbage then the frame", seed, len(w))
		}
		garbage := w[0]
		if len(garbage) < 1 || len(garbage) > 12 {
			t.Fatalf("seed %d: %d bytes of garbage", seed, len(garbage))
		}
		got := bytes.Join(w[1:], nil)
		if len(got) != len(f) || !bytes.Equal(got[:len(f)-2], f[:len(f)-2]) {
			t.Fatalf("seed %d: frame body changed: % X", seed, got)
		}
		diff := 0
		for i := len(f) - 2; i < len(f); i++ {
			for x := got[i] ^ f[i]; x != 0; x &= x - 1 {
				diff++
			}
		}
		if diff != 1 {
			t.Fatalf("seed %d: %d bits differ in the CRC, want 1", seed, diff)
		}
	}
}

// Over many frames the false starts are shaped by fake about half the
// time and split writes happen at about the split rate.
func TestInjectorRates(t *testing.T) {
	f := bytes.Repeat([]byte{0x11}, 16)
	n := Noise{GarbageRate: 1, SplitRate: 0.5, Seed: 1}
	in := injector{n, n.Rand()}
	faked, split := 0, 0
	for range 1000 {
		var w writes
		in.frame(&w, f, func(g []byte) { g[0] = 0xAA; g[len(g)-1] = 0xAA })
		if g := w[0]; g[0] == 0xAA && g[len(g)-1] == 0xAA {
			faked++
		}
		if len(w) > 2 {
			split++
		}
	}
	if faked < 400 || faked > 600 {
		t.Errorf("%d of 1000 garbage runs shaped as a frame start, want about half", faked)
	}
	if split < 350 || split > 650 {
		t.Errorf("%d of 1000 frames split, want about half (a split may still be one piece)", split)
	}
}
