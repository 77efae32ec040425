package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tally-inventory/tally/agent"
	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/store"
	"github.com/tally-inventory/tally/sync/export"
	"github.com/tally-inventory/tally/sync/relay"
	"github.com/tally-inventory/tally/sync/sinks"
	"github.com/tally-inventory/tally/sync/webhook"
)

const syncAbout = `Upstream sync: the outbox of upstream effects (last seen, found, missing,
misplaced…) goes to every configured sink — files (Koha inventory CSV, barcode
lists), a signed webhook, Koha, SIP2, Snipe-IT. Rows a sink rejects become dead
letters: see them with "tally sync status", put them back with "tally sync retry".

  tally sync status            backlog, last success and last error per sink; dead letters
  tally sync once | --once     deliver until nothing is pending or --max-time, then exit (cron)
  tally sync run               deliver in the foreground until Ctrl-C
  tally sync retry [ID...]     put dead letters back in the queue (all without IDs)

Sinks come from the config file's sync section (--config), or from flags.
Running beside "tally run" is safe: a row both send changes upstream once.`

func init() {
	subs := map[string]func(context.Context, []string) error{
		"status": cmdSyncStatus, "once": cmdSyncOnce, "run": cmdSyncRun, "retry": cmdSyncRetry,
	}
	dispatch := sub("sync", subs, syncAbout)
	register("sync", "send the outbox upstream; status, dead letters and retry", func(ctx context.Context, args []string) error {
		// "tally sync --once [flags]" is "tally sync once [flags]".
		for i, a := range args {
			if !strings.HasPrefix(a, "-") {
				break
			}
			if a == "--once" || a == "-once" {
				return cmdSyncOnce(ctx, append(append([]string(nil), args[:i]...), args[i+1:]...))
			}
		}
		return dispatch(ctx, args)
	})
}

// syncFlags are the flags every sync subcommand shares: where the database
// and the sinks are.
type syncFlags struct {
	fs                     *flag.FlagSet
	db, config             *string
	webhookURL, secretFile *string
	exportDir              *string
	withSinks              bool // the command takes sink flags
	maxArgs                int  // positional arguments taken (-1: any)
	dbSet                  bool
	cfg                    *agent.Config
}

func newSyncFlags(name, usageLine, about string, withSinks bool) *syncFlags {
	fs := newFlags("sync "+name, usageLine, about)
	f := &syncFlags{fs: fs, withSinks: withSinks}
	f.db = dbFlag(fs)
	f.config = fs.String("config", "", "agent config `file` (tally.yaml): the database and the sync section")
	if withSinks {
		f.webhookURL = fs.String("webhook-url", "", "post signed JSON to this `URL` (config: sync.webhook.url)")
		f.secretFile = fs.String("webhook-secret-file", "", "HMAC secret for the webhook, read from this `file` (config: sync.webhook.secret_file; or set TALLY_WEBHOOK_SECRET)")
		f.exportDir = fs.String("export-dir", "", "write Koha inventory CSV and barcode lists into this `folder` (config: sync.export.dir)")
	}
	return f
}

func (f *syncFlags) parse(args []string) error {
	if err := parseArgs(f.fs, args, f.maxArgs); err != nil {
		return err
	}
	f.fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "db" {
			f.dbSet = true
		}
	})
	if *f.config != "" {
		cfg, err := agent.LoadConfig(*f.config)
		if err != nil {
			return err
		}
		f.cfg = cfg
		if !f.dbSet && os.Getenv("TALLY_DB") == "" {
			*f.db = cfg.Database
		}
	}
	return nil
}

// syncConfig is the sync section from the config file with the flags laid
// over it.
func (f *syncFlags) syncConfig() agent.SyncConfig {
	var sc agent.SyncConfig
	if f.cfg != nil {
		sc = f.cfg.Sync
	}
	if !f.withSinks {
		return sc
	}
	sc.Sinks = maps.Clone(sc.Sinks)
	if sc.Sinks == nil {
		sc.Sinks = map[string]sinks.Config{}
	}
	if *f.webhookURL != "" {
		sc.Sinks["webhook"] = &webhook.Config{URL: *f.webhookURL, SecretFile: *f.secretFile}
	} else if w, ok := sc.Sinks["webhook"].(*webhook.Config); ok && *f.secretFile != "" {
		w2 := *w
		w2.SecretFile = *f.secretFile
		sc.Sinks["webhook"] = &w2
	}
	if *f.exportDir != "" {
		sc.Sinks["export"] = &export.Config{Dir: *f.exportDir}
	}
	return sc
}

// openRelay opens the database, a writer and a relay over the configured
// sinks; close releases them.
func (f *syncFlags) openRelay(ctx context.Context) (*relay.Relay, func(), error) {
	sc := f.syncConfig()
	db, err := openDB(ctx, *f.db)
	if err != nil {
		return nil, nil, err
	}
	var lookup func(string) (catalog.Item, bool)
	if _, ok := sc.Sinks["export"]; ok {
		ix, err := db.LoadIndex(ctx)
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		lookup = ix.Get
	}
	sinks, err := agent.Sinks(sc, lookup)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	if len(sinks) == 0 {
		db.Close()
		return nil, nil, errors.New("no sink configured: give --export-dir FOLDER or --webhook-url URL, or --config tally.yaml with a sync section (see tally.example.yaml)")
	}
	w := db.NewWriter(0)
	opts := relay.Opts{}
	if sc.Interval > 0 {
		opts.PollInterval = time.Duration(sc.Interval)
	}
	r, err := relay.New(ctx, store.Outbox{DB: db, W: w}, sinks, opts)
	if err != nil {
		w.Close()
		db.Close()
		return nil, nil, err
	}
	return r, func() { w.Close(); db.Close() }, nil
}

// onceJSON is what `tally sync once --json` prints
// (schema/sync-once.schema.json).
type onceJSON struct {
	relay.Summary
	MaxTimeReached bool               `json:"max_time_reached"` // stopped by --max-time (run out, or the next attempt after it) with rows left
	Sinks          []relay.SinkStatus `json:"sinks"`
}

func cmdSyncOnce(ctx context.Context, args []string) error {
	f := newSyncFlags("once", "[flags]", `
Delivers to every sink until nothing is pending or --max-time passes, then
exits: for cron, or to push an inventory's results by hand. Failed requests
are retried meanwhile (soon while most succeed; after the sink's back-off or
Retry-After when it is down). It says what is left and when it is next due;
a running agent or the next run delivers it. Rejected rows become dead letters.`, true)
	maxTime := f.fs.Duration("max-time", 5*time.Minute, "stop delivering after this `duration` (what is left waits for the next run)")
	asJSON := f.fs.Bool("json", false, "print the summary as JSON")
	if err := f.parse(args); err != nil {
		return err
	}
	if *maxTime <= 0 {
		return fmt.Errorf("--max-time %v: give a positive duration such as 5m", *maxTime)
	}
	r, closeFn, err := f.openRelay(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	dctx, cancel := context.WithTimeout(ctx, *maxTime)
	tot, err := r.Drain(dctx)
	cancel()
	if err != nil {
		return err
	}
	// What is left, from the store: a pass the deadline cut short has no
	// backlog figures of its own.
	st, err := r.Status(context.WithoutCancel(ctx))
	if err != nil {
		return err
	}
	tot.Pending, tot.Dead, tot.Next = 0, 0, time.Time{}
	for _, s := range st.Sinks {
		tot.Pending += s.Pending
		tot.Dead += s.Dead
		if due := sinkDue(s); s.Pending > 0 && (tot.Next.IsZero() || due.Before(tot.Next)) {
			tot.Next = due
		}
	}
	// With rows left and no Ctrl-C, Drain stopped for --max-time: it ran
	// out, or the next attempt falls after it.
	timedOut := ctx.Err() == nil && !tot.Paused && tot.Pending > 0
	if *asJSON {
		return json.NewEncoder(stdout).Encode(onceJSON{Summary: tot, MaxTimeReached: timedOut, Sinks: st.Sinks})
	}
	fmt.Fprintf(stdout, "delivered %d, retried %d, rejected %d", tot.Delivered, tot.Retried, tot.Rejected)
	if tot.Skipped > 0 {
		fmt.Fprintf(stdout, ", skipped %d (kinds a sink does not take)", tot.Skipped)
	}
	fmt.Fprintf(stdout, "; %d pending, %d dead letters\n", tot.Pending, tot.Dead)
	if tot.Pending > 0 {
		why := "stopped"
		if timedOut {
			why = "stopped within --max-time " + maxTime.String()
		}
		fmt.Fprintf(stdout, "%s with %d left; the next run or a running agent delivers it:\n", why, tot.Pending)
		now := time.Now()
		for _, s := range st.Sinks {
			if s.Pending == 0 {
				continue
			}
			due := sinkDue(s)
			when := "due now"
			if due.After(now) {
				when = "next due " + due.Local().Format("2006-01-02 15:04:05") + " (in " + due.Sub(now).Round(time.Second).String() + ")"
			}
			fmt.Fprintf(stdout, "  %s: %d pending, %s", s.Sink, s.Pending, when)
			if s.LastError != "" && s.LastErrorAt.After(s.LastOK) {
				fmt.Fprintf(stdout, "; last error: %s", shorten(s.LastError, 120))
			}
			fmt.Fprintln(stdout)
		}
	}
	if tot.Dead > 0 {
		fmt.Fprintf(stdout, "see the dead letters with: tally sync status; put them back with: tally sync retry [ID...]\n")
	}
	return nil
}

// sinkDue is when a sink's next attempt falls due: its earliest row, or
// the end of its back-off; now when nothing holds it.
func sinkDue(s relay.SinkStatus) time.Time {
	due := s.NextDue
	if s.BackoffUntil.After(due) {
		due = s.BackoffUntil
	}
	if due.IsZero() {
		due = time.Now()
	}
	return due
}

func cmdSyncRun(ctx context.Context, args []string) error {
	f := newSyncFlags("run", "[flags]", `
Delivers in the foreground until Ctrl-C: new rows as they come, retries with
back-off. "tally run" does this by itself; use this for an agent that only syncs.`, true)
	if err := f.parse(args); err != nil {
		return err
	}
	r, closeFn, err := f.openRelay(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	fmt.Fprintf(os.Stderr, "tally sync: delivering to %s; Ctrl-C stops\n", strings.Join(r.Sinks(), ", "))
	return r.Run(ctx)
}

func cmdSyncRetry(ctx context.Context, args []string) error {
	f := newSyncFlags("retry", "[flags] [ID...]", `
Puts dead letters back in the queue: the rows given by ID (see tally sync
status), or all of them. A running agent sends them at its next pass; or run
tally sync once.`, false)
	f.maxArgs = -1
	if err := f.parse(args); err != nil {
		return err
	}
	var ids []int64
	for _, a := range f.fs.Args() {
		id, err := strconv.ParseInt(strings.TrimPrefix(a, "#"), 10, 64)
		if err != nil || id <= 0 {
			return fmt.Errorf("%q is not an outbox row id: give the ids tally sync status lists", a)
		}
		ids = append(ids, id)
	}
	db, err := openDB(ctx, *f.db)
	if err != nil {
		return err
	}
	defer db.Close()
	w := db.NewWriter(0)
	defer w.Close()
	n, err := db.RetryDeadDeliveries(ctx, w, ids...)
	if err != nil {
		return err
	}
	if len(ids) > 0 && n < len(ids) {
		fmt.Fprintf(stdout, "%d of %d rows were dead letters and are back in the queue\n", n, len(ids))
		return nil
	}
	fmt.Fprintf(stdout, "%d dead letters back in the queue\n", n)
	return nil
}

// syncStatus is what `tally sync status --json` prints
// (schema/sync-status.schema.json): snake_case keys; unset times left out.
type syncStatus struct {
	Outbox store.OutboxStats `json:"outbox"`
	Sinks  []sinkStatusJSON  `json:"sinks"`
	Dead   []relay.Delivery  `json:"dead_letters"`
}

type sinkStatusJSON struct {
	relay.SinkStats
	OldestAgeSeconds float64 `json:"oldest_age_seconds"`
}

func cmdSyncStatus(ctx context.Context, args []string) error {
	f := newSyncFlags("status", "[flags]", `
Shows the outbox and, per sink, what waits, the age of the oldest waiting row,
the last success and the last error; then the dead letters with the upstream's
message. Reads the database only: safe while the agent runs.`, false)
	limit := f.fs.Int("limit", 20, "list at most this many dead letters per sink")
	asJSON := f.fs.Bool("json", false, "print as JSON")
	if err := f.parse(args); err != nil {
		return err
	}
	db, err := openReadOnly(ctx, *f.db)
	if err != nil {
		return err
	}
	defer db.Close()
	st := syncStatus{Sinks: []sinkStatusJSON{}}
	if st.Outbox, err = db.OutboxStatus(ctx); err != nil {
		return err
	}
	sinks, err := db.SinkStatus(ctx, nil)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, s := range sinks {
		j := sinkStatusJSON{SinkStats: s}
		if !s.OldestPending.IsZero() {
			j.OldestAgeSeconds = now.Sub(s.OldestPending).Seconds()
		}
		st.Sinks = append(st.Sinks, j)
	}
	if st.Dead, err = db.DeadDeliveries(ctx, nil, *limit); err != nil {
		return err
	}
	if st.Dead == nil {
		st.Dead = []relay.Delivery{}
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(st)
	}
	fmt.Fprintf(stdout, "outbox: %d pending, %d done, %d dead\n", st.Outbox.Pending, st.Outbox.Done, st.Outbox.Dead)
	if len(st.Sinks) == 0 {
		if st.Outbox.Pending > 0 {
			fmt.Fprintf(stdout, "no sink has run yet: configure sync in tally.yaml and start tally run, or try tally sync once --export-dir FOLDER\n")
		}
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nSINK\tPENDING\tOLDEST\tDEAD\tDONE\tSKIPPED\tLAST OK\tLAST ERROR")
	for _, s := range st.Sinks {
		oldest := "-"
		if !s.OldestPending.IsZero() {
			oldest = now.Sub(s.OldestPending).Round(time.Second).String()
		}
		lastErr := "-"
		if s.LastError != "" {
			lastErr = when(s.LastErrorAt) + " " + shorten(s.LastError, 80)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%d\t%s\t%s\n", s.Sink, s.Pending, oldest, s.Dead, s.Done, s.Skipped, when(s.LastOK), lastErr)
	}
	tw.Flush()
	if len(st.Dead) > 0 {
		fmt.Fprintf(stdout, "\ndead letters (put back with: tally sync retry ID...):\n")
		tw = tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSINK\tKIND\tBARCODE\tATTEMPTS\tERROR")
		for _, d := range st.Dead {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\n", d.ID, d.Sink, d.Kind, d.Barcode, d.SinkAttempts, d.SinkError)
		}
		tw.Flush()
	}
	return nil
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
