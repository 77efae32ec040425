package web

import (
	"net"
	"sync"
	"time"
)

// Credential guessing is bounded by token buckets: one per client address
// and one for everybody. Every credential check (the login form, a Bearer
// header on any path) takes one try from both before the credential is
// even looked at; a right credential gives its try back. So a wrong guess
// costs the same wherever it is made, many addresses together get no more
// than the global budget, and once a bucket has refilled a try the right
// credential gets in again. README's "Login" section has the arithmetic.

// GuessLimit is one bucket: Burst tries at once, then one more per Every.
type GuessLimit struct {
	Burst int
	Every time.Duration
}

// PerHour is the sustained rate the limit allows.
func (g GuessLimit) PerHour() float64 { return float64(time.Hour) / float64(g.Every) }

// Limits for a UI reachable from the network and for one on loopback only
// (a touch-screen kiosk with a PIN): the kiosk's budget is the hard one,
// because a PIN is short.
var (
	NetworkPerAddress = GuessLimit{Burst: 5, Every: time.Minute}
	NetworkGlobal     = GuessLimit{Burst: 20, Every: time.Minute}
	LocalGlobal       = GuessLimit{Burst: 5, Every: 72 * time.Minute} // 20 a day
)

// Minimum credential lengths: a token for a network-bound UI, a PIN only
// on loopback. With the limits above a year of guessing at full rate
// (NetworkGlobal: 60 an hour, 525,600 a year) against a 12-digit token —
// the weakest 12 characters — succeeds with probability 5.3e-7; on the
// kiosk (20 a day, 7,300 a year) against a 6-digit PIN, 0.73%.
const (
	MinNetworkToken = 12
	MinLocalPIN     = 6
)

type bucket struct {
	tries float64
	at    time.Time
}

// refill brings the bucket up to now and reports whether it is full.
func (b *bucket) refill(now time.Time, g GuessLimit) bool {
	if d := now.Sub(b.at); d > 0 {
		b.tries += float64(d) / float64(g.Every)
		b.at = now
	}
	if b.tries >= float64(g.Burst) {
		b.tries = float64(g.Burst)
		return true
	}
	return false
}

type guesses struct {
	perAddr, global GuessLimit
	now             func() time.Time

	mu     sync.Mutex
	all    bucket
	byAddr map[string]*bucket
}

func newGuesses(perAddr, global GuessLimit, now func() time.Time) *guesses {
	g := &guesses{perAddr: perAddr, global: global, now: now, byAddr: map[string]*bucket{}}
	g.all = bucket{tries: float64(global.Burst), at: now()}
	return g
}

// take reserves one try for addr; false means locked out (do not look at
// the credential). A success gives the try back with refund.
func (g *guesses) take(addr string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	g.all.refill(now, g.global)
	b := g.byAddr[addr]
	if b == nil {
		b = &bucket{tries: float64(g.perAddr.Burst), at: now}
	} else {
		b.refill(now, g.perAddr)
	}
	if g.all.tries < 1 || b.tries < 1 {
		return false
	}
	g.all.tries--
	b.tries--
	g.byAddr[addr] = b
	g.sweep(now)
	return true
}

// refund returns a try taken for a credential that was right.
func (g *guesses) refund(addr string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	g.all.tries++
	g.all.refill(now, g.global)
	if b := g.byAddr[addr]; b != nil {
		b.tries++
		if b.refill(now, g.perAddr) {
			delete(g.byAddr, addr)
		}
	}
}

// sweep forgets addresses whose bucket is full again. The map holds only
// addresses that failed lately, so it is bounded by the global budget.
func (g *guesses) sweep(now time.Time) {
	if len(g.byAddr) < 256 {
		return
	}
	for a, b := range g.byAddr {
		if b.refill(now, g.perAddr) {
			delete(g.byAddr, a)
		}
	}
}

// addrKey is the client's address for limiting: the IP, or for IPv6 its
// /64, since one host commonly holds a whole /64.
func addrKey(remote string) string {
	h, _, err := net.SplitHostPort(remote)
	if err != nil {
		h = remote
	}
	ip := net.ParseIP(h)
	if ip == nil {
		return h
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}
