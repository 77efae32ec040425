package sim

import (
	"bufio"
	"context"
	"io"
	"testing"
)

func TestASCIIOutput(t *testing.T) {
	tests := []struct {
		name string
		opts ASCIIOpts
		tag  Tag
		want string
	}{
		{"rdm6300 vector", ASCIIOpts{Format: ASCIIRDM6300}, Tag{UID: []byte{0x13, 0x00, 0x5D, 0x1D, 0xA5}}, "\x0213005D1DA5F6\x03"},
		{"epc line", ASCIIOpts{}, Tag{EPC: []byte{0xE2, 0x80, 0x11, 0x70}}, "E2801170\r\n"},
		{"prefix and LF", ASCIIOpts{Prefix: "ID:", Suffix: ";", Terminator: "\n"}, Tag{UID: []byte{4, 0xA2, 0xB3, 0xC4}}, "ID:04A2B3C4;\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			pop := NewPopulation([]Tag{tt.tag}, 1)
			pop.EnterAll()
			o := tt.opts
			o.Field = pop
			s := NewASCII(pw, o)
			ctx, cancel := context.WithCancel(context.Background())
			go s.Serve(ctx)
			got := make([]byte, len(tt.want))
			if _, err := io.ReadFull(bufio.NewReader(pr), got); err != nil {
				t.Fatal(err)
			}
			cancel()
			if string(got) != tt.want {
				t.Fatalf("output %q, want %q", got, tt.want)
			}
		})
	}
}
