package relay

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/tally-inventory/tally/sync/outbox"
)

// Opts tune a Relay. Zero fields take DefaultOpts' values.
type Opts struct {
	BatchSize     int           // events per Deliver call
	BaseBackoff   time.Duration // first retry waits up to this
	MaxBackoff    time.Duration // the cap: waits are rand(0, min(MaxBackoff, BaseBackoff·2ⁿ)) (AWS "full jitter")
	MaxRetryAfter time.Duration // an upstream's Retry-After is honoured up to this
	// RatePerMinute limits events per minute for sinks that do not declare
	// their own limit (see RateLimited). 0 means no limit.
	RatePerMinute int
	// RetryBase is a failed event's own first wait while its sink is
	// healthy: rand(0, min(MaxBackoff, RetryBase·2ⁿ)) after n attempts.
	RetryBase time.Duration
	// RetryBudget is the sink's retry budget, a token bucket in the manner
	// of gRPC's retry throttling: it starts full, a transient failure costs
	// one token, a success (or a rejection: the upstream answered) returns
	// RetryRatio. While it holds more than half, failed events are retried
	// on their own after RetryBase; at half or below, or after
	// MaxConsecutive transient failures in a row, the whole sink backs off
	// (BaseBackoff, MaxBackoff).
	RetryBudget    float64
	RetryRatio     float64
	MaxConsecutive int
	PollInterval   time.Duration // how often Run looks for new rows
	StopGrace      time.Duration // how long a stopping Run lets the batch in flight finish; negative: not at all
	Clock          Clock         // nil: the real clock
	Rand           func() float64
	Observer       Observer                      // nil: none
	Logf           func(format string, a ...any) // errors Run keeps going after; nil: dropped
}

// DefaultOpts: batches of 100; a failed event retried after up to 100 ms
// (doubling) while the sink's budget of 10 tokens holds more than 5 — a
// success returns half a token, so failures up to one request in three
// never stop the sink; the sink's own back-off from 1 s capped at 5 min
// after 3 failures in a row or a spent budget; no rate limit unless the
// sink declares one; a look for new rows every second.
var DefaultOpts = Opts{
	BatchSize:      100,
	BaseBackoff:    time.Second,
	MaxBackoff:     5 * time.Minute,
	MaxRetryAfter:  time.Hour,
	RetryBase:      100 * time.Millisecond,
	RetryBudget:    10,
	RetryRatio:     0.5,
	MaxConsecutive: 3,
	PollInterval:   time.Second,
	StopGrace:      10 * time.Second,
}

// Clock is time as the relay sees it; tests drive it by hand.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// RateLimited is implemented by sinks whose upstream throttles requests
// (Snipe-IT: 120 a minute by default). The relay sends at most that many
// events a minute to the sink, in bursts of up to ten seconds' worth.
type RateLimited interface {
	RatePerMinute() int
}

// Concurrent is implemented by sinks whose upstream takes several requests
// at once (webhook, Koha). The relay then splits each batch by item — an
// item's events (same barcode) stay together and in order — and calls
// Deliver for up to InFlight items at once. Other sinks get the whole batch
// in one call, one call at a time.
type Concurrent interface {
	InFlight() int
}

// Observer receives the relay's figures; the metrics package implements it.
// Calls come from the relay's goroutines, one sink at a time per sink.
type Observer interface {
	Delivered(sink string, n int) // accepted upstream
	Retried(sink string, n int)   // transient failures, to be sent again
	Rejected(sink string, n int)  // dead letters
	// Backlog is called after each pass: rows waiting for the sink, dead
	// letters, and the age of the oldest waiting row (0 when none).
	Backlog(sink string, pending, dead int, oldest time.Duration)
}

// Relay drains the outbox to its sinks. Every sink gets every row; each
// sink has its own batches, back-off and rate limit, so a slow or broken
// upstream does not hold up the others.
type Relay struct {
	st    Store
	opts  Opts
	sinks []*sinkRun
	names []string

	mu     sync.Mutex
	paused bool
	kick   chan struct{}
}

type sinkRun struct {
	sink     Sink
	name     string
	rate     int
	inFlight int        // Deliver calls at once (Concurrent sinks); 1 otherwise
	pass     sync.Mutex // one pass at a time
	mu       sync.Mutex // guards the fields below, read by Status
	tokens   float64    // rate limit
	filled   time.Time  // when tokens were last topped up
	budget   float64    // retry budget (Opts.RetryBudget)
	consec   int        // transient failures in a row
	fails    int        // back-offs in a row without a success: the exponent
	until    time.Time  // back-off: nothing is sent before this
}

// New makes a relay over st's outbox. It queues pending rows for every sink — including sinks new to the
// configuration — and settles rows that no longer wait for any sink.
func New(ctx context.Context, st Store, sinks []Sink, opts Opts) (*Relay, error) {
	if len(sinks) == 0 {
		return nil, errors.New("relay: no sinks configured")
	}
	opts = withDefaults(opts)
	r := &Relay{st: st, opts: opts, kick: make(chan struct{}, 1)}
	seen := map[string]bool{}
	for _, s := range sinks {
		name := s.Name()
		if name == "" {
			return nil, errors.New("relay: a sink has no name")
		}
		if seen[name] {
			return nil, fmt.Errorf("relay: two sinks are named %q: give each its own name", name)
		}
		seen[name] = true
		rate := opts.RatePerMinute
		if rl, ok := s.(RateLimited); ok && rl.RatePerMinute() > 0 {
			rate = rl.RatePerMinute()
		}
		inFlight := 1
		if c, ok := s.(Concurrent); ok && c.InFlight() > 1 {
			inFlight = c.InFlight()
		}
		r.sinks = append(r.sinks, &sinkRun{sink: s, name: name, rate: rate, inFlight: inFlight,
			tokens: burst(rate), budget: opts.RetryBudget})
		r.names = append(r.names, name)
	}
	if _, err := st.Queue(ctx, r.names, true); err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	if _, err := st.Settle(ctx, r.names, opts.Clock.Now()); err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	return r, nil
}

func withDefaults(o Opts) Opts {
	d := DefaultOpts
	orDefault(&o.BatchSize, d.BatchSize)
	orDefault(&o.MaxConsecutive, d.MaxConsecutive)
	orDefault(&o.RetryBudget, d.RetryBudget)
	orDefault(&o.RetryRatio, d.RetryRatio)
	orDefault(&o.BaseBackoff, d.BaseBackoff)
	orDefault(&o.MaxBackoff, d.MaxBackoff)
	orDefault(&o.MaxRetryAfter, d.MaxRetryAfter)
	orDefault(&o.RetryBase, d.RetryBase)
	orDefault(&o.PollInterval, d.PollInterval)
	if o.StopGrace < 0 {
		o.StopGrace = 0
	} else if o.StopGrace == 0 {
		o.StopGrace = d.StopGrace
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	return o
}

// orDefault sets a zero or negative option to its default.
func orDefault[T int | float64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// Sinks returns the configured sink names, in order.
func (r *Relay) Sinks() []string { return append([]string(nil), r.names...) }

// Pause stops new batches (the one in flight finishes); Resume starts them
// again. A paused relay keeps queueing: nothing written meanwhile is lost.
func (r *Relay) Pause() { r.mu.Lock(); r.paused = true; r.mu.Unlock() }

// Resume undoes Pause.
func (r *Relay) Resume() {
	r.mu.Lock()
	r.paused = false
	r.mu.Unlock()
	r.Kick()
}

// Paused reports whether the relay is paused.
func (r *Relay) Paused() bool { r.mu.Lock(); defer r.mu.Unlock(); return r.paused }

// Kick wakes Run now rather than at the next poll. The agent calls it after
// each commit that queued outbox rows, so a read reaches its sinks at once
// however long PollInterval is.
func (r *Relay) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Summary is what one pass did.
type Summary struct {
	Delivered int `json:"delivered"` // accepted upstream
	Skipped   int `json:"skipped"`   // kinds a sink does not handle
	Retried   int `json:"retried"`   // transient failures, sent again later
	Rejected  int `json:"rejected"`  // now dead letters
	Cancelled int `json:"cancelled"` // undone before delivery
	Pending   int `json:"pending"`   // rows still waiting, summed over sinks
	Dead      int `json:"dead"`      // dead letters, summed over sinks
	// Next is when more can be done (a back-off or rate limit ends, a retry
	// falls due); zero when nothing is pending. Run sleeps until then.
	Next   time.Time `json:"next,omitzero"`
	Paused bool      `json:"paused"`
}

func (s *Summary) add(o Summary) {
	s.Delivered += o.Delivered
	s.Skipped += o.Skipped
	s.Retried += o.Retried
	s.Rejected += o.Rejected
	s.Cancelled += o.Cancelled
	s.Pending += o.Pending
	s.Dead += o.Dead
	if !o.Next.IsZero() && (s.Next.IsZero() || o.Next.Before(s.Next)) {
		s.Next = o.Next
	}
}

func (s Summary) active() bool {
	return s.Delivered+s.Skipped+s.Retried+s.Rejected+s.Cancelled > 0
}

// Once drains what is due now, to every sink at once, without sleeping: it
// returns when each sink has nothing due, is backing off, or has used its
// rate. For cron-style use (`tally sync --once`) and for tests, which drive
// the clock by hand and call Once again at Summary.Next.
func (r *Relay) Once(ctx context.Context) (Summary, error) {
	var sum Summary
	if r.Paused() {
		sum.Paused = true
		return sum, nil
	}
	if _, err := r.st.Queue(ctx, r.names, false); err != nil {
		return sum, fmt.Errorf("relay: %w", err)
	}
	// The batch in flight gets StopGrace to finish after ctx ends, and its
	// outcome is recorded even then: what upstream accepted is marked done.
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(r.opts.StopGrace, cancel) })
	defer stop()

	sums := make([]Summary, len(r.sinks))
	errs := make([]error, len(r.sinks))
	var wg sync.WaitGroup
	for i, sr := range r.sinks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sums[i], errs[i] = r.drain(ctx, dctx, sr)
		}()
	}
	wg.Wait()
	for _, s := range sums {
		sum.add(s)
	}
	return sum, errors.Join(errs...)
}

// drain runs batches for one sink until nothing is due for it.
func (r *Relay) drain(ctx, dctx context.Context, sr *sinkRun) (Summary, error) {
	sr.pass.Lock()
	defer sr.pass.Unlock()
	var sum Summary
	for ctx.Err() == nil && !r.Paused() {
		now := r.opts.Clock.Now()
		n := sr.admit(now, r.opts.BatchSize)
		if n == 0 {
			break
		}
		rows, err := r.st.Due(ctx, sr.name, n, now)
		if err != nil {
			sr.refund(n)
			return sum, fmt.Errorf("relay %s: %w", sr.name, err)
		}
		sr.refund(n - len(rows))
		if len(rows) == 0 {
			break
		}
		bs, err := r.batch(dctx, sr, rows)
		sum.add(bs)
		if err != nil {
			return sum, err
		}
		// Go on while the sink is healthy: events that failed wait on their
		// own, those not sent are due again at once.
		if !bs.active() || sr.backingOff(r.opts.Clock.Now()) {
			break
		}
	}
	// Backlog: for Summary.Next and the metrics.
	bl, err := r.st.Backlog(context.WithoutCancel(ctx), sr.name)
	if err != nil {
		return sum, fmt.Errorf("relay %s: %w", sr.name, err)
	}
	now := r.opts.Clock.Now()
	sum.Pending, sum.Dead = bl.Pending, bl.Dead
	var age time.Duration
	if !bl.OldestPending.IsZero() {
		age = max(0, now.Sub(bl.OldestPending))
	}
	if r.opts.Observer != nil {
		r.opts.Observer.Backlog(sr.name, bl.Pending, bl.Dead, age)
	}
	if bl.Pending > 0 {
		next := now
		if bl.NextDue.After(next) {
			next = bl.NextDue
		}
		sr.mu.Lock()
		if sr.until.After(next) {
			next = sr.until
		}
		if w := sr.tokenWait(); w > 0 && now.Add(w).After(next) {
			next = now.Add(w)
		}
		sr.mu.Unlock()
		sum.Next = next
	}
	return sum, nil
}

// batch delivers rows to one sink and records the outcome; the summary is
// active when anything was sent, rejected or settled.
func (r *Relay) batch(ctx context.Context, sr *sinkRun, rows []Delivery) (sum Summary, err error) {
	results := make([]Result, len(rows))
	events := make([]outbox.Event, 0, len(rows))
	idx := make([]int, 0, len(rows))
	for i, d := range rows {
		results[i].OutboxID = d.ID
		if d.State == "cancelled" {
			results[i].State = "cancelled"
			sum.Cancelled++
			continue
		}
		ev, err := d.Event(d.SinkAttempts + 1)
		if err != nil {
			// No sink can act on it: a dead letter that says why.
			results[i].State, results[i].Error = "dead", err.Error()
			sum.Rejected++
			continue
		}
		events = append(events, ev)
		idx = append(idx, i)
	}
	outs := r.send(ctx, sr, events)
	now := r.opts.Clock.Now()
	sr.mu.Lock()
	until, fails := sr.until, sr.fails
	sr.mu.Unlock()
	backoff := until.After(now)

	for i, ev := range events {
		o := outs[i]
		res := &results[idx[i]]
		switch o.Verdict {
		case Accept:
			res.State = "done"
			sum.Delivered++
		case Skip:
			res.State = "skipped"
			sum.Skipped++
		case Reject:
			res.State, res.Error = "dead", errText(o.Err, "rejected")
			sum.Rejected++
		default: // Retry, and verdicts this relay does not know
			d := min(o.RetryAfter, r.opts.MaxRetryAfter)
			switch {
			case errors.Is(o.Err, ErrNotSent):
				// Not sent: it waits for the sink, or goes in the next batch.
				res.NotTried = true
				d = max(0, until.Sub(now))
			case d > 0:
				// Retry-After: this request waits exactly that long.
				sum.Retried++
			case backoff:
				d = max(r.jitter(r.opts.BaseBackoff, max(fails, ev.Attempt-1)), until.Sub(now))
				sum.Retried++
			default:
				// Sporadic: this event alone tries again soon, on its own
				// schedule, so one that keeps failing lets the rest pass.
				d = r.jitter(r.opts.RetryBase, ev.Attempt-1)
				sum.Retried++
			}
			res.State, res.Next, res.Error = "pending", now.Add(d), errText(o.Err, "failed, will retry")
		}
	}
	// Record even when ctx has ended: what upstream accepted must be marked.
	if err := r.st.Mark(context.WithoutCancel(ctx), sr.name, r.names, now, results); err != nil {
		return sum, fmt.Errorf("relay %s: %w", sr.name, err)
	}
	if ob := r.opts.Observer; ob != nil {
		if sum.Delivered > 0 {
			ob.Delivered(sr.name, sum.Delivered)
		}
		if sum.Retried > 0 {
			ob.Retried(sr.name, sum.Retried)
		}
		if sum.Rejected > 0 {
			ob.Rejected(sr.name, sum.Rejected)
		}
	}
	return sum, nil
}

// send hands events to the sink — in one call, or item by item up to
// InFlight at once — and returns one outcome per event. Each answer feeds
// the sink's retry budget at once, so a sink that goes down mid-batch
// stops being sent to mid-batch.
func (r *Relay) send(ctx context.Context, sr *sinkRun, events []outbox.Event) []Outcome {
	outs := make([]Outcome, len(events))
	if len(events) == 0 {
		return outs
	}
	if sr.inFlight <= 1 {
		got := sr.sink.Deliver(ctx, events)
		for i := range events {
			outs[i] = outcomeAt(got, i, len(events))
		}
		r.observe(sr, outs)
		return outs
	}
	var wg sync.WaitGroup
	slots := make(chan struct{}, sr.inFlight)
	for _, unit := range byItem(events) {
		slots <- struct{}{}
		if held, err := r.held(sr); held {
			for _, i := range unit {
				outs[i] = Outcome{Verdict: Retry, Err: err}
			}
			<-slots
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			evs := make([]outbox.Event, len(unit))
			for k, i := range unit {
				evs[k] = events[i]
			}
			got := sr.sink.Deliver(ctx, evs)
			mine := make([]Outcome, len(unit))
			for k, i := range unit {
				mine[k] = outcomeAt(got, k, len(unit))
				outs[i] = mine[k]
			}
			r.observe(sr, mine)
		}()
	}
	wg.Wait()
	return outs
}

// held reports whether the sink is backing off, with the error that says
// why an event was not sent.
func (r *Relay) held(sr *sinkRun) (bool, error) {
	now := r.opts.Clock.Now()
	sr.mu.Lock()
	defer sr.mu.Unlock()
	if !now.Before(sr.until) {
		return false, nil
	}
	return true, fmt.Errorf("%w: %s is backing off until %s", ErrNotSent, sr.name, sr.until.UTC().Format(time.RFC3339))
}

// observe feeds answers to the sink's retry budget and backs the whole sink
// off when the failures are no longer sporadic: MaxConsecutive in a row, or
// the budget at half or below. A Retry-After then sets the back-off.
func (r *Relay) observe(sr *sinkRun, outs []Outcome) {
	now := r.opts.Clock.Now()
	sr.mu.Lock()
	defer sr.mu.Unlock()
	failed := false
	var ra time.Duration
	for _, o := range outs {
		if o.Verdict == Retry || o.Verdict > Skip {
			if errors.Is(o.Err, ErrNotSent) {
				continue
			}
			failed = true
			sr.budget = max(0, sr.budget-1)
			sr.consec++
			ra = max(ra, min(o.RetryAfter, r.opts.MaxRetryAfter))
			continue
		}
		sr.budget = min(r.opts.RetryBudget, sr.budget+r.opts.RetryRatio)
		sr.consec, sr.fails = 0, 0
	}
	if !failed || (sr.budget > r.opts.RetryBudget/2 && sr.consec < r.opts.MaxConsecutive) {
		return
	}
	if now.Before(sr.until) { // already backing off: a Retry-After may lengthen it
		if ra > 0 && now.Add(ra).After(sr.until) {
			sr.until = now.Add(ra)
		}
		return
	}
	d := ra
	if d <= 0 {
		d = r.jitter(r.opts.BaseBackoff, sr.fails)
	}
	sr.until = now.Add(d)
	sr.fails++
}

// byItem groups event indexes by barcode, in order of first appearance;
// events without a barcode go alone.
func byItem(events []outbox.Event) [][]int {
	var units [][]int
	at := map[string]int{}
	for i, ev := range events {
		if ev.Barcode == "" {
			units = append(units, []int{i})
			continue
		}
		if u, ok := at[ev.Barcode]; ok {
			units[u] = append(units[u], i)
			continue
		}
		at[ev.Barcode] = len(units)
		units = append(units, []int{i})
	}
	return units
}

// outcomeAt is the i-th outcome; a sink that answered fewer than it was
// given has the rest retried.
func outcomeAt(outs []Outcome, i, n int) Outcome {
	if i < len(outs) {
		return outs[i]
	}
	return Outcome{Verdict: Retry, Err: fmt.Errorf("sink answered %d outcomes for %d events", len(outs), n)}
}

func errText(err error, def string) string {
	if err == nil {
		return def
	}
	return err.Error()
}

// jitter is AWS "full jitter": rand(0, min(MaxBackoff, base·2ⁿ)).
func (r *Relay) jitter(base time.Duration, n int) time.Duration {
	d := base
	for i := 0; i < n && d < r.opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, r.opts.MaxBackoff)
	return time.Duration(r.opts.Rand() * float64(d))
}

func (sr *sinkRun) backingOff(now time.Time) bool {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	return now.Before(sr.until)
}

// burst is the token bucket's size: ten seconds' worth, at least one.
func burst(perMinute int) float64 {
	if perMinute <= 0 {
		return 0
	}
	return max(1, float64(perMinute)/6)
}

// admit returns how many events may go now: 0 while backing off or out of
// tokens.
func (sr *sinkRun) admit(now time.Time, want int) int {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	if now.Before(sr.until) {
		return 0
	}
	if sr.rate <= 0 {
		return want
	}
	if !sr.filled.IsZero() && now.After(sr.filled) {
		sr.tokens = min(burst(sr.rate), sr.tokens+now.Sub(sr.filled).Minutes()*float64(sr.rate))
	}
	if sr.filled.IsZero() || now.After(sr.filled) {
		sr.filled = now
	}
	n := min(want, int(sr.tokens))
	sr.tokens -= float64(n)
	return n
}

// refund returns tokens taken for events that were not there to send.
func (sr *sinkRun) refund(n int) {
	if n <= 0 || sr.rate <= 0 {
		return
	}
	sr.mu.Lock()
	sr.tokens = min(burst(sr.rate), sr.tokens+float64(n))
	sr.mu.Unlock()
}

// tokenWait is how long until one token is available; sr.mu held.
func (sr *sinkRun) tokenWait() time.Duration {
	if sr.rate <= 0 || sr.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - sr.tokens) / float64(sr.rate) * float64(time.Minute))
}

// Drain delivers until nothing is pending (dead letters aside) or ctx
// ends: passes (see Once), sleeping on the relay's clock between them until
// the next retry, back-off or Retry-After falls due. When that is after
// ctx's deadline it returns at once rather than wait for nothing. It returns the totals,
// with Pending, Dead and Next as the last pass left them. For
// `tally sync once --max-time` and for benchmarks.
func (r *Relay) Drain(ctx context.Context) (Summary, error) {
	var tot Summary
	for {
		s, err := r.Once(ctx)
		tot.add(s)
		tot.Pending, tot.Dead, tot.Next, tot.Paused = s.Pending, s.Dead, s.Next, s.Paused
		if ctx.Err() != nil && !errors.Is(err, ErrStoreClosed) {
			// Stopped: a read the deadline cut short is no failure, and what
			// was sent is recorded (Once). The counts are the last known.
			return tot, nil
		}
		if err != nil || s.Paused || s.Pending == 0 {
			return tot, err
		}
		wait := s.Next.Sub(r.opts.Clock.Now())
		if !s.active() {
			wait = max(wait, 10*time.Millisecond) // due, yet nothing moved: don't spin
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return tot, nil // the next attempt falls after the deadline: no point waiting
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
				return tot, nil
			case <-r.opts.Clock.After(wait):
			}
		}
	}
}

// Run drains the outbox until ctx ends: a pass (see Once), then a sleep until
// the next thing falls due, the poll interval, or Kick. When ctx ends Run
// lets the batch in flight finish (up to StopGrace), records it, and
// returns nil. Store errors are logged and retried at the next poll, except
// a closed writer, which ends Run with that error.
func (r *Relay) Run(ctx context.Context) error {
	for {
		s, err := r.Once(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrStoreClosed) {
			return err
		}
		if err != nil && r.opts.Logf != nil {
			r.opts.Logf("relay: %v", err)
		}
		wait := r.opts.PollInterval
		if !s.Next.IsZero() {
			if d := s.Next.Sub(r.opts.Clock.Now()); d < wait {
				wait = d
			}
		}
		if wait <= 0 && (err != nil || !s.active()) {
			wait = r.opts.PollInterval // something is due yet nothing moved: don't spin
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-r.opts.Clock.After(wait):
			case <-r.kick:
			}
		}
	}
}

// SinkStatus is one sink's state, for `tally sync status` and the API.
type SinkStatus struct {
	SinkStats
	OldestAge     time.Duration `json:"-"`
	OldestAgeSec  float64       `json:"oldest_age_seconds"`
	BackoffUntil  time.Time     `json:"backoff_until,omitzero"` // nothing is sent before this
	Failures      int           `json:"failures"`               // back-offs in a row without a success
	RatePerMinute int           `json:"rate_per_minute,omitempty"`
	InFlight      int           `json:"in_flight"`    // requests at once
	RetryBudget   float64       `json:"retry_budget"` // tokens left (Opts.RetryBudget when healthy)
}

// Status is the relay's state.
type Status struct {
	Paused bool         `json:"paused"`
	Sinks  []SinkStatus `json:"sinks"`
}

// Status reports each sink's backlog and health.
func (r *Relay) Status(ctx context.Context) (Status, error) {
	st := Status{Paused: r.Paused()}
	stats, err := r.st.Status(ctx, r.names)
	if err != nil {
		return st, fmt.Errorf("relay status: %w", err)
	}
	now := r.opts.Clock.Now()
	for i, s := range stats {
		sr := r.sinks[i]
		ss := SinkStatus{SinkStats: s, RatePerMinute: sr.rate}
		if !s.OldestPending.IsZero() {
			ss.OldestAge = max(0, now.Sub(s.OldestPending))
			ss.OldestAgeSec = ss.OldestAge.Seconds()
		}
		sr.mu.Lock()
		if sr.until.After(now) {
			ss.BackoffUntil = sr.until
		}
		ss.Failures, ss.RetryBudget, ss.InFlight = sr.fails, sr.budget, sr.inFlight
		sr.mu.Unlock()
		st.Sinks = append(st.Sinks, ss)
	}
	return st, nil
}

// DeadLetters lists up to limit dead letters per sink, newest first.
func (r *Relay) DeadLetters(ctx context.Context, limit int) ([]Delivery, error) {
	return r.st.Dead(ctx, r.names, limit)
}

// RetryDead puts dead letters (all when no ids are given; ids are outbox
// row ids) back in the queue, clears the sinks' back-off, wakes Run, and
// returns how many rows were revived.
func (r *Relay) RetryDead(ctx context.Context, ids ...int64) (int, error) {
	n, err := r.st.RetryDead(ctx, ids...)
	if err != nil {
		return 0, fmt.Errorf("relay: %w", err)
	}
	for _, sr := range r.sinks {
		sr.mu.Lock()
		sr.fails, sr.consec, sr.until = 0, 0, time.Time{}
		sr.mu.Unlock()
	}
	r.Kick()
	return n, nil
}
