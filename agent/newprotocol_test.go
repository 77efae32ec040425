package agent

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/readers"
)

// lineDev is a driver of a made-up protocol: one tag UID, in hex, per line.
// It stands for a protocol added after this package was written.
type lineDev struct {
	name string
	port io.Reader
	errc chan error
	wg   sync.WaitGroup
}

func (d *lineDev) Name() string { return d.name }
func (d *lineDev) Start(ctx context.Context, out chan<- drivers.Read) error {
	d.errc = make(chan error, 1)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		sc := bufio.NewScanner(d.port)
		for sc.Scan() {
			uid := strings.ToUpper(strings.TrimSpace(sc.Text()))
			select {
			case out <- drivers.Read{Device: d.name, Kind: drivers.KindRFID, Code: uid, TagUID: uid, Time: time.Now()}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return nil
}
func (d *lineDev) Stop() error       { d.wg.Wait(); return nil }
func (d *lineDev) Err() <-chan error { return d.errc }

// The protocol's whole registration, as its package's init would hold it.
func init() {
	readers.AddSerial("test-lines", readers.Serial[struct{}, *lineDev]{
		Opts: func(*profile.Profile) (struct{}, error) { return struct{}{}, nil },
		New: func(name string, port io.ReadWriter, _ struct{}) (*lineDev, error) {
			return &lineDev{name: name, port: port}, nil
		},
		Open: func(name, path string, _ int, _ struct{}) (*lineDev, error) {
			f, err := os.Open(path)
			if err != nil {
				return nil, err
			}
			return &lineDev{name: name, port: f}, nil
		},
	})
}

type linePort struct{ io.Reader }

func (linePort) Write(b []byte) (int, error) { return len(b), nil }
func (linePort) Close() error                { return nil }

// TestRegisteredProtocolRuns: a protocol registered from outside the
// runtime (its registration above, nothing else) is one a school's profile
// may name: the profile loads from profiles_dir, the config check takes
// the device, and its reads reach the pipeline through the factory `tally
// run` uses, on a port from Env.Serial as for capture and replay.
func TestRegisteredProtocolRuns(t *testing.T) {
	dir := t.TempDir()
	pdir := filepath.Join(dir, "profiles")
	os.Mkdir(pdir, 0o755)
	prof := "name: acme-lines\nvendor: Acme\nmodel: Lines\nkind: rfid\nserial: {port: /dev/ttyUSB*, baud: 9600}\nprotocol: test-lines\ntag_data: [uid]\n"
	os.WriteFile(filepath.Join(pdir, "acme-lines.yaml"), []byte(prof), 0o644)
	cfgText := "database: tally.db\nprofiles_dir: profiles\ndevices:\n  - name: door\n    profile: acme-lines\n    port: /dev/ttyS9\n"
	path := filepath.Join(dir, "tally.yaml")
	os.WriteFile(path, []byte(cfgText), 0o644)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := Profiles(cfg)
	if err != nil {
		t.Fatalf("a profile naming a registered protocol: %v", err)
	}
	var opened string
	env := OpenEnv{Serial: func(path string, line profile.Serial) (io.ReadWriteCloser, error) {
		opened = path
		return linePort{strings.NewReader("e0040100aabbccdd\n")}, nil
	}}
	specs, err := DeviceSpecsEnv(cfg, ps, env)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := specs[0].Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan drivers.Read, 1)
	if err := r.Start(ctx, out); err != nil {
		t.Fatal(err)
	}
	select {
	case rd := <-out:
		if rd.Code != "E0040100AABBCCDD" || rd.Device != "door" || opened != "/dev/ttyS9" {
			t.Errorf("read %+v on %q", rd, opened)
		}
	case <-ctx.Done():
		t.Fatal("no read")
	}
	r.Stop()
}
