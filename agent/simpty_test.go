package agent

import (
	"context"
	"os"
	"testing"

	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/readers"
	"github.com/tally-inventory/tally/drivers/sim"
)

// openOnPty serves a simulated reader (made by serve on the pty's master)
// and opens the device of profile p on the pty's slave through the factory
// `tally run` uses. Cleanup stops the simulator and closes the pty; the
// caller stops the reader.
func openOnPty(t *testing.T, ctx context.Context, p *profile.Profile, serve func(master *os.File) func(context.Context) error) (drivers.Reader, engine.DeviceSpec) {
	t.Helper()
	pty, err := sim.OpenPty()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	srvCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); serve(pty.Master)(srvCtx) }()
	t.Cleanup(func() { stop(); <-done; pty.Close() })
	cfg := &Config{Devices: []DeviceConfig{{Name: "dev", Profile: p.Name, DeviceConfig: readers.DeviceConfig{Port: pty.Path}}}}
	specs, err := DeviceSpecsEnv(cfg, []*profile.Profile{p}, OpenEnv{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := specs[0].Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return r, specs[0]
}

// normalizedReads starts r and returns the normalized reads by tag UID
// until n distinct tags were read; a tag read with two codes fails.
func normalizedReads(t *testing.T, ctx context.Context, r drivers.Reader, spec engine.DeviceSpec, n int) map[string]drivers.Read {
	t.Helper()
	out := make(chan drivers.Read, 256)
	if err := r.Start(ctx, out); err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	got := map[string]drivers.Read{}
	for len(got) < n {
		select {
		case rd := <-out:
			if spec.Normalize != nil {
				rd = spec.Normalize(rd)
			}
			if prev, seen := got[rd.TagUID]; seen && prev.Code != rd.Code {
				t.Errorf("tag %s read as %q and %q", rd.TagUID, prev.Code, rd.Code)
			}
			got[rd.TagUID] = rd
		case <-ctx.Done():
			t.Fatalf("reads so far %v, want %d tags", got, n)
		}
	}
	return got
}
