package sim

import (
	"bytes"
	"context"
	"testing"
)

func TestSweep(t *testing.T) {
	for _, c := range []struct{ n, width, step int }{{300, 60, 10}, {300, 40, 40}, {10, 2, 5}, {7, 20, 3}, {1, 1, 1}} {
		tags := CartTags(c.n, 1)
		p := NewPopulation(tags, 1)
		steps := Sweep(c.n, c.width, c.step)
		p.Script(steps...)
		seen := make([]int, c.n) // rounds each tag was in the field
		for k := 0; !p.ScriptDone(); k++ {
			got := p.Round()
			// Expected field: [start, start+width) ∩ [0, n) with start = step-width+k·step;
			// empty after the last step.
			start := c.step - c.width + k*c.step
			lo, hi := max(start, 0), min(start+c.width, c.n)
			if k == len(steps)-1 {
				lo, hi = 0, 0
			}
			if len(got) != max(hi-lo, 0) {
				t.Fatalf("%+v round %d: %d tags in field, want %d", c, k, len(got), hi-lo)
			}
			for _, tg := range got {
				i := int(tg.EPC[11]) | int(tg.EPC[10])<<8 - 1
				if i < lo || i >= hi {
					t.Fatalf("%+v round %d: tag %d in field, window [%d,%d)", c, k, i, lo, hi)
				}
				seen[i]++
			}
		}
		if c.width%c.step == 0 {
			for i, n := range seen {
				if n != c.width/c.step {
					t.Fatalf("%+v: tag %d in the field %d rounds, want %d", c, i, n, c.width/c.step)
				}
			}
		}
		for i, n := range seen {
			if n == 0 && c.width >= c.step { // a window narrower than its step leaves gaps
				t.Fatalf("%+v: tag %d never in the field", c, i)
			}
		}
		if len(p.InField()) != 0 {
			t.Fatalf("%+v: field not empty after the sweep", c)
		}
	}
}

func TestCartTagsDistinct(t *testing.T) {
	tags := CartTags(1000, 42)
	seen := map[string]bool{}
	for _, tg := range tags {
		if len(tg.EPC) != 12 || tg.EPC[0] != 0x34 {
			t.Fatalf("EPC % X is not a 96-bit GIAI", tg.EPC)
		}
		seen[string(tg.EPC)] = true
	}
	if len(seen) != 1000 {
		t.Fatalf("%d distinct EPCs, want 1000", len(seen))
	}
	if !bytes.Equal(CartTags(3, 42)[2].EPC, tags[2].EPC) {
		t.Fatal("CartTags not repeatable for a seed")
	}
	em := EM4100Tags(300, 1)
	ids := map[string]bool{}
	for _, tg := range em {
		ids[string(tg.UID)] = true
	}
	if len(ids) != 300 || len(em[0].UID) != 5 {
		t.Fatalf("EM4100Tags: %d distinct, len %d", len(ids), len(em[0].UID))
	}
}

func TestPopulationRounds(t *testing.T) {
	p := NewPopulation(CartTags(100, 1), 3)
	p.EnterAll()
	p.MissRate = 0.5
	got := len(p.Round())
	if got == 0 || got == 100 {
		t.Fatalf("MissRate 0.5 kept %d of 100", got)
	}
	p.MissRate = 0
	p.Leave(0, 1, 2)
	if n := len(p.Round()); n != 97 {
		t.Fatalf("%d in field, want 97", n)
	}
	done := make(chan error)
	go func() { done <- p.WaitRounds(context.Background(), 4) }()
	p.Round()
	p.Round()
	if err := <-done; err != nil || p.Rounds() != 4 {
		t.Fatalf("WaitRounds: %v at round %d", err, p.Rounds())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.WaitRounds(ctx, 100); err == nil {
		t.Fatal("WaitRounds ignored a cancelled context")
	}
}
