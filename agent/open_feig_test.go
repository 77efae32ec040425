package agent

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/sim"
)

// A FEIG profile's block_order and blocks reach the driver through the
// factory: the tag of the ID CPR manual's Annex F (3 blocks, memory
// 01 02 03 04 | 11 12 13 14 | 21 22 23 24) comes out in memory order
// whether the reader sends blocks MSB first, as FEIG readers do, or (with
// block_order: lsb-first) in memory order.
func TestFEIGProfileSettings(t *testing.T) {
	mem := []byte{0x01, 0x02, 0x03, 0x04, 0x11, 0x12, 0x13, 0x14, 0x21, 0x22, 0x23, 0x24}
	uid := []byte{0xE0, 0x07, 0x00, 0x00, 0x01, 0x47, 0x67, 0x7E}
	for _, order := range []string{"msb-first", "lsb-first"} {
		t.Run(order, func(t *testing.T) {
			yaml := strings.Join([]string{
				"name: feig-annex-f", "vendor: FEIG", "model: ID CPR", "kind: rfid",
				"serial:", "  port: /dev/ttyUSB0", "  baud: 38400", "  parity: even",
				"protocol: feig", "block_order: " + order, "blocks: 3", "tag_data: [uid]", "",
			}, "\n")
			p, err := profile.Load("feig-annex-f.yaml", []byte(yaml))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			pty, err := sim.OpenPty()
			if err != nil {
				t.Skipf("no pty: %v", err)
			}
			defer pty.Close()
			s := sim.NewFEIG(pty.Master, sim.FEIGOpts{Tags: []sim.Tag{{UID: uid, Blocks: mem, BlockSize: 4}}, LSBFirst: order == "lsb-first"})
			done := make(chan struct{})
			go func() { defer close(done); s.Serve(ctx) }()
			defer func() { cancel(); <-done }()
			cfg := &Config{Devices: []DeviceConfig{{Name: "pad", Profile: p.Name, Port: pty.Path}}}
			specs, err := DeviceSpecsEnv(cfg, []*profile.Profile{p}, OpenEnv{})
			if err != nil {
				t.Fatal(err)
			}
			r, err := specs[0].Open(ctx)
			if err != nil {
				t.Fatal(err)
			}
			rd := firstRead(t, ctx, r)
			if rd.TagUID != "E00700000147677E" || !bytes.Equal(rd.Raw, mem) {
				t.Errorf("read %s % X, want tag memory % X", rd.TagUID, rd.Raw, mem)
			}
		})
	}
}
