package sim

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers/internal/crc16"
)

func chafonUnhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// exchange sends cmd and reads exactly len(want) bytes of answer.
func chafonExchange(t *testing.T, c net.Conn, cmd, want string) {
	t.Helper()
	if _, err := c.Write(chafonUnhex(t, cmd)); err != nil {
		t.Fatal(err)
	}
	w := chafonUnhex(t, want)
	got := make([]byte, len(w))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("after % X: %v", cmd, err)
	}
	if !bytes.Equal(got, w) {
		t.Fatalf("answer to %s = % X, want % X", cmd, got, w)
	}
}

// The simulator answers byte for byte as github.com/wabson/chafon-rfid's
// tests expect a reader to (tests/test_base.py RESP_READER_INFO,
// tests/test_uhfreader288.py RESP_NO_TAGS).
func TestChafonVectors(t *testing.T) {
	host, dev := net.Pipe()
	defer host.Close()
	pop := NewPopulation([]Tag{{EPC: chafonUnhex(t, "000000000000000000000313")}}, 1)
	s := NewChafon(dev, ChafonOpts{Type: 0x0C, Field: pop})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()

	chafonExchange(t, host, "04 FF 21 19 95", "11 00 21 00 00 16 0C 03 4E 00 1E 0A 01 00 00 00 E6 51")
	inv := "0D FF 01 04 00 01 00 00 00 00 80 0A" // 288 inventory: Q4 S0 EPC mask none, ant 1, 1 s
	inv += " " + chafonCRCHex(t, inv)
	chafonExchange(t, host, inv, "07 00 01 01 01 00 1E 4B") // no tag
	pop.EnterAll()
	b := []byte{0x15, 0x00, 0x01, 0x01, 0x01, 0x01, 0x0C}
	b = append(b, chafonUnhex(t, "000000000000000000000313")...)
	// RSSI is random; read the frame and check everything around it.
	host.Write(chafonUnhex(t, inv))
	got := make([]byte, 22)
	io.ReadFull(host, got)
	if !bytes.Equal(got[:19], b) || crc16.MCRF4XX(got[:20]) != uint16(got[20])|uint16(got[21])<<8 {
		t.Fatalf("inventory answer % X", got)
	}
	chafonExchange(t, host, "05 00 2F 1A "+chafonCRCHex(t, "05 00 2F 1A"), "05 00 2F 00 "+chafonCRCHex(t, "05 00 2F 00"))
	chafonExchange(t, host, "05 00 2F 1F "+chafonCRCHex(t, "05 00 2F 1F"), "05 00 2F FF "+chafonCRCHex(t, "05 00 2F FF")) // 31 dBm: parameter error
	chafonExchange(t, host, "06 00 22 4E 00 "+chafonCRCHex(t, "06 00 22 4E 00"), "05 00 22 00 "+chafonCRCHex(t, "05 00 22 00"))
	chafonExchange(t, host, "04 00 77 "+chafonCRCHex(t, "04 00 77"), "05 00 77 FE "+chafonCRCHex(t, "05 00 77 FE")) // illegal command
	// Garbage and a command for another address are ignored.
	host.Write([]byte{0x00, 0xFF, 0x13})
	host.Write(chafonUnhex(t, "04 05 21 "+chafonCRCHex(t, "04 05 21")))
	chafonExchange(t, host, "04 00 21 D9 6A", "11 00 21 00 00 16 0C 03 4E 00 1A 0A 01 00 00 00 "+chafonCRCHex(t, "11 00 21 00 00 16 0C 03 4E 00 1A 0A 01 00 00 00"))
	if st := s.Settings(); st.Power != 26 {
		t.Fatalf("settings %+v", st)
	}
	if s.Stats().BadCommands == 0 {
		t.Fatal("garbage not counted")
	}
	s.Unplug()
	if err := <-done; err == nil {
		t.Fatal("Serve returned nil after Unplug")
	}
}

func chafonCRCHex(t *testing.T, s string) string {
	c := crc16.MCRF4XX(chafonUnhex(t, s))
	return hex.EncodeToString([]byte{byte(c), byte(c >> 8)})
}

// A large field is split over frames: 0x03 on all but the last.
func TestChafonMultiFrame(t *testing.T) {
	host, dev := net.Pipe()
	defer host.Close()
	pop := NewPopulation(CartTags(40, 1), 1)
	pop.EnterAll()
	s := NewChafon(dev, ChafonOpts{Field: pop}) // UHFReader18 layout
	go s.Serve(context.Background())
	defer s.Unplug()
	host.Write(chafonUnhex(t, "04 00 01 DB 4B"))
	tags := 0
	for {
		var l [1]byte
		io.ReadFull(host, l[:])
		f := make([]byte, int(l[0]))
		io.ReadFull(host, f)
		frame := append(l[:], f...)
		if crc16.MCRF4XX(frame[:len(frame)-2]) != uint16(frame[len(frame)-2])|uint16(frame[len(frame)-1])<<8 {
			t.Fatalf("bad CRC in % X", frame)
		}
		if len(frame) > 256 {
			t.Fatalf("frame of %d bytes", len(frame))
		}
		tags += int(frame[4])
		if frame[3] == 0x01 {
			break
		}
		if frame[3] != 0x03 {
			t.Fatalf("status 0x%02X", frame[3])
		}
	}
	if tags != 40 {
		t.Fatalf("%d tags over all frames, want 40", tags)
	}
}

// A UHFReader86 answers in the 288 layout (the chafon-rfid "no tags"
// answer, byte for byte); status 0xF8 when its antenna is missing; a reader
// in scan mode refuses inventory until answer mode is set.
func TestChafonTypesAndModes(t *testing.T) {
	inv := "0D FF 01 04 00 01 00 00 00 00 80 14 0D 93" // chafon-rfid G2InventoryCommand(q_value=4, antenna=0x80)
	for _, tc := range []struct {
		name string
		o    ChafonOpts
		talk [][2]string
	}{
		{"UHFReader86", ChafonOpts{Type: 0x10}, [][2]string{{inv, "07 00 01 01 01 00 1E 4B"}}},
		{"antenna error", ChafonOpts{Type: 0x0F, AntennaError: true}, [][2]string{{inv, "05 00 01 F8 69 0F"}}},
		{"scan mode", ChafonOpts{Type: 0x0C, ScanMode: true}, [][2]string{
			{inv, "05 00 01 FE " + chafonCRCHex(t, "05 00 01 FE")}, {"05 FF 76 00 91 0F", "05 00 76 00 " + chafonCRCHex(t, "05 00 76 00")}, {inv, "07 00 01 01 01 00 1E 4B"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host, dev := net.Pipe()
			defer host.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go NewChafon(dev, tc.o).Serve(ctx)
			for _, x := range tc.talk {
				chafonExchange(t, host, x[0], x[1])
			}
		})
	}
}
