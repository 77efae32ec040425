package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tally-inventory/tally/agent"
	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/hidscanner"
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/readers"
	"github.com/tally-inventory/tally/drivers/transcript"
)

// replayPath is the device path a replayed transcript is opened at.
const replayPath = "transcript"

func cmdReplay(ctx context.Context, args []string) error {
	fs := newFlags("replay", "FILE [--profile NAME] [--session ID [--db PATH]]", `
Plays a transcript (from `+"`tally capture`"+`, or written from a manual) through the
driver of its profile, RFID dedupe (on the transcript's clock) and the tag
decoder, and prints each read: "read" when it goes on to the engine, "repeat"
when dedupe drops it. The driver must write exactly what the transcript says
it wrote; any difference, or bytes the driver never asked for, is an error
naming the transcript line.

With --session the reads are also decided by the engine in that session
(they are journaled like scans), and each line shows the outcome.`)
	prof := fs.String("profile", "", "profile `name` or file; default: the transcript's")
	config := fs.String("config", "", "config `file` whose profiles_dir holds your own profiles")
	db := dbFlag(fs)
	sid := fs.Int64("session", 0, "decide the reads in this session `id` (writes to the database)")
	stall := fs.Duration("stall", 10*time.Second, "give up when the driver makes no progress for this long")
	speed := fs.Float64("speed", 1, "play the device's replies at this multiple of the recorded pace; 0: as fast as the driver reads")
	if err := parseArgs(fs, args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("name one transcript file, e.g. `tally replay capture.txt`")
	}
	tr, err := transcript.Load(fs.Arg(0))
	if err != nil {
		return err
	}
	name := *prof
	if name == "" {
		name = tr.Profile
	}
	if name == "" {
		return fmt.Errorf("%s: the transcript names no profile; give --profile", tr.Name)
	}
	p, err := findProfile(name, *config)
	if err != nil {
		return err
	}
	// How the device hangs up after the last event: drivers that read and
	// decode in order get an EOF on their next read; polling drivers on
	// their next command, which shows they handled the last reply.
	end := transcript.HangUpOnWrite
	if p.Kind == profile.KindScanner || p.Protocol == profile.ProtoASCII {
		end = transcript.HangUpOnRead
	}
	pb := transcript.NewPlayback(tr, end)
	defer pb.Close()
	env := agent.OpenEnv{
		Serial: func(string, profile.Serial) (io.ReadWriteCloser, error) { return pb, nil },
		HID:    replayBus{info: replayInfo(p), dev: pb},
	}
	spec, err := oneSpec(agent.DeviceConfig{Name: "replay", Profile: p.Name, DeviceConfig: readers.DeviceConfig{Port: replayPath, Path: replayPath}}, p, env)
	if err != nil {
		return err
	}
	var e *engine.Engine
	if *sid != 0 {
		eng, done, err := openEngine(ctx, *db)
		if err != nil {
			return err
		}
		defer done()
		e = eng
	}
	// The stages after the driver run on the transcript's clock: dedupe
	// then sees the gaps between reads that the capture had.
	clock := pb.Now
	if *speed > 0 {
		start := time.Now()
		pb.Pace(*speed)
		clock = func() time.Duration { return time.Duration(float64(time.Since(start)) * *speed) }
	}
	epoch := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	pr := newReadPrinter(stdout, spec, e, *sid, func() time.Time { return epoch.Add(clock()) })
	pr.at = clock

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r, err := spec.Open(ctx)
	if err != nil {
		return err
	}
	// Unbuffered: each read is stamped when the driver hands it over.
	reads := make(chan drivers.Read)
	fmt.Fprintf(stdout, "replaying %s (%d events) with profile %s\n", tr.Name, len(tr.Events), p.Name)
	if err := r.Start(ctx, reads); err != nil {
		r.Stop()
		return fmt.Errorf("%w\n%s", err, verdict(pb))
	}
	// Ticks well inside --stall: an event that falls due just after a tick
	// still gets most of the stall time before it counts as stuck.
	tick := time.NewTicker(min(time.Second, max(*stall/4, time.Millisecond)))
	defer tick.Stop()
	last, lastAt := -1, time.Now()
	var devErr error
	stalled := false
loop:
	for {
		select {
		case rd := <-reads:
			if err := pr.read(ctx, rd); err != nil {
				return err
			}
		case err, ok := <-r.Err():
			if ok {
				devErr = err
			}
			break loop
		case <-tick.C:
			// Progress, or a paced reply not yet due, is not a stall.
			next, more := pb.Next()
			if n := pb.Played(); n != last || (*speed > 0 && more && next.At > clock()) {
				last, lastAt = n, time.Now()
			} else if time.Since(lastAt) >= *stall {
				stalled = true
				break loop
			}
		case <-ctx.Done():
			break loop
		}
	}
	drainStop(r, reads, pr)
	var de *transcript.DeviceError
	switch {
	case errors.As(devErr, &de):
		fmt.Fprintf(stdout, "device failed at %s:%d, as recorded: %s\n", tr.Name, de.Line, de.Msg)
	case devErr != nil && !errors.Is(devErr, io.EOF) && pb.Err() == nil:
		fmt.Fprintf(stdout, "driver stopped: %v\n", devErr)
	}
	fmt.Fprintf(stdout, "%d reads, %d after dedupe\n", pr.reads, pr.passed)
	if err := pb.Err(); err != nil {
		if stalled {
			return fmt.Errorf("the driver made no progress for %s: %w", *stall, err)
		}
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	fmt.Fprintf(stdout, "transcript played to the end: the driver wrote what it says\n")
	return nil
}

// drainStop stops r while taking the reads still in flight: a driver
// delivers every read before it reports the error that ended it, and Stop
// waits for the ones being delivered.
func drainStop(r drivers.Reader, reads <-chan drivers.Read, pr *readPrinter) {
	stopped := make(chan struct{})
	go func() { r.Stop(); close(stopped) }()
	for {
		select {
		case rd := <-reads:
			pr.read(context.Background(), rd)
		case <-stopped:
			for len(reads) > 0 {
				pr.read(context.Background(), <-reads)
			}
			return
		}
	}
}

func verdict(pb *transcript.Playback) string {
	if err := pb.Err(); err != nil {
		return err.Error()
	}
	return "transcript played to the end"
}

// replayInfo is the HID device a replayed scanner transcript appears as:
// the profile's first match rule, at replayPath.
func replayInfo(p *profile.Profile) hidscanner.DeviceInfo {
	info := hidscanner.DeviceInfo{Path: replayPath, Product: "transcript"}
	if len(p.Match) > 0 {
		m := p.Match[0]
		info.VID, info.PID, info.UsagePage = m.VID, m.PID, m.UsagePage
		if m.Interface >= 0 {
			info.Interface = m.Interface
		}
	}
	return info
}

// replayBus is a HID bus with one device, the transcript.
type replayBus struct {
	info hidscanner.DeviceInfo
	dev  hidscanner.Device
}

func (b replayBus) Enumerate(vid, pid uint16) ([]hidscanner.DeviceInfo, error) {
	return []hidscanner.DeviceInfo{b.info}, nil
}

func (b replayBus) Open(info hidscanner.DeviceInfo) (hidscanner.Device, error) { return b.dev, nil }
