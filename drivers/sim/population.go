package sim

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"sync"
)

// Population is a scripted set of tags: which exist, which are in the
// reader's field now, and how that changes from one inventory round to the
// next (a wand sweeping along a cart, a cart rolled past a gate).
//
// A simulated reader calls Round once per inventory round; Round applies
// the next scripted Step and returns what the reader sees. Tests wait on
// rounds, never on wall time.
type Population struct {
	// MissRate is the probability that a round misses a tag that is in
	// the field, as a real anticollision round sometimes does.
	MissRate float64

	mu     sync.Mutex
	tags   []Tag
	in     []bool
	script []Step
	rounds int
	rng    *rand.Rand
	tick   chan struct{} // closed and replaced at every round
}

// Step is one round's change to the field, by tag index.
type Step struct {
	Enter []int
	Leave []int
}

// NewPopulation returns a population of tags, none in the field yet.
// seed makes the order of tags within a round repeatable.
func NewPopulation(tags []Tag, seed uint64) *Population {
	return &Population{
		tags: append([]Tag(nil), tags...),
		in:   make([]bool, len(tags)),
		rng:  rand.New(rand.NewPCG(seed, seed^0x5bd1e995)),
		tick: make(chan struct{}),
	}
}

// Len is the number of tags in the population.
func (p *Population) Len() int { return len(p.tags) }

// Tags returns all tags, in or out of the field.
func (p *Population) Tags() []Tag {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Tag(nil), p.tags...)
}

// Enter puts tags (by index) into the field now.
func (p *Population) Enter(idx ...int) { p.set(idx, true) }

// Leave takes tags (by index) out of the field now.
func (p *Population) Leave(idx ...int) { p.set(idx, false) }

// EnterAll puts every tag in the field.
func (p *Population) EnterAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.in {
		p.in[i] = true
	}
}

// LeaveAll empties the field.
func (p *Population) LeaveAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.in)
}

func (p *Population) set(idx []int, v bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, i := range idx {
		if i >= 0 && i < len(p.in) {
			p.in[i] = v
		}
	}
}

// InField returns the tags in the field now, in index order.
func (p *Population) InField() []Tag {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Tag
	for i, t := range p.tags {
		if p.in[i] {
			out = append(out, t)
		}
	}
	return out
}

// Script queues steps; each Round applies the next one.
func (p *Population) Script(steps ...Step) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.script = append(p.script, steps...)
}

// ScriptDone reports whether every scripted step has been applied.
func (p *Population) ScriptDone() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.script) == 0
}

// Round is one inventory round: it applies the next scripted step and
// returns the tags the reader sees, in a shuffled order (anticollision
// answers in no particular order), minus the ones this round missed.
func (p *Population) Round() []Tag {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.script) > 0 {
		s := p.script[0]
		p.script = p.script[1:]
		for _, i := range s.Leave {
			if i >= 0 && i < len(p.in) {
				p.in[i] = false
			}
		}
		for _, i := range s.Enter {
			if i >= 0 && i < len(p.in) {
				p.in[i] = true
			}
		}
	}
	var out []Tag
	for i, t := range p.tags {
		if p.in[i] && (p.MissRate == 0 || p.rng.Float64() >= p.MissRate) {
			out = append(out, t)
		}
	}
	p.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	p.rounds++
	close(p.tick)
	p.tick = make(chan struct{})
	return out
}

// Rounds is the number of rounds so far.
func (p *Population) Rounds() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rounds
}

// WaitRounds blocks until at least n rounds have run or ctx is done.
func (p *Population) WaitRounds(ctx context.Context, n int) error {
	for {
		p.mu.Lock()
		r, tick := p.rounds, p.tick
		p.mu.Unlock()
		if r >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick:
		}
	}
}

// WaitScript blocks until the script has run out and one more round has
// been served with the final field, or ctx is done.
func (p *Population) WaitScript(ctx context.Context) error {
	for {
		p.mu.Lock()
		done, r, tick := len(p.script) == 0, p.rounds, p.tick
		p.mu.Unlock()
		if done {
			return p.WaitRounds(ctx, r+1)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick:
		}
	}
}

// Sweep scripts a wand passing along n tags in order, as over the spines
// of a shelf or the slots of a cart: the field is a window of width tags
// that slides in from before the first tag and moves on by step tags each
// round, so every tag is in the field for about width/step rounds (none
// if width < step leaves it in a gap). The last step empties the field.
func Sweep(n, width, step int) []Step {
	if n <= 0 || width <= 0 || step <= 0 {
		return nil
	}
	var steps []Step
	lo, hi := 0, 0 // the window in the field now, [lo, hi)
	for start := step - width; start < n; start += step {
		nlo, nhi := max(start, 0), min(start+width, n)
		var s Step
		for i := lo; i < min(hi, nlo); i++ {
			s.Leave = append(s.Leave, i)
		}
		for i := max(hi, nlo); i < nhi; i++ {
			s.Enter = append(s.Enter, i)
		}
		steps = append(steps, s)
		lo, hi = nlo, nhi
	}
	var end Step
	for i := lo; i < hi; i++ {
		end.Leave = append(end.Leave, i)
	}
	return append(steps, end)
}

// CartTags returns n UHF tags with distinct 96-bit EPCs, GIAI-96 encoded
// (header 0x34, as equipment is tagged), repeatable from seed.
func CartTags(n int, seed uint64) []Tag {
	rng := rand.New(rand.NewPCG(seed, seed^0x2545f4914f6cdd1d))
	base := rng.Uint64() & 0xFFFFFFFF
	tags := make([]Tag, n)
	for i := range tags {
		epc := make([]byte, 12)
		epc[0] = 0x34                                      // GIAI-96 header
		epc[1] = 0x1<<5 | 0x0<<2                           // filter 1, partition 0
		binary.BigEndian.PutUint32(epc[2:6], uint32(base)) // company prefix bits (simulated)
		binary.BigEndian.PutUint32(epc[8:12], uint32(i)+1) // asset reference
		epc[6], epc[7] = byte(seed), byte(seed>>8)
		tags[i] = Tag{EPC: epc}
	}
	return tags
}

// EM4100Tags returns n 125 kHz tags with distinct 5-byte IDs (version byte
// plus 32-bit serial), as RDM6300-style readers report them.
func EM4100Tags(n int, seed uint64) []Tag {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	version := byte(rng.UintN(256))
	base := rng.Uint32()
	tags := make([]Tag, n)
	for i := range tags {
		uid := make([]byte, 5)
		uid[0] = version
		binary.BigEndian.PutUint32(uid[1:], base+uint32(i))
		tags[i] = Tag{UID: uid}
	}
	return tags
}
