package crc16

import (
	"bufio"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// model is a catalogue entry: the Rocksoft (Williams) parameters.
type model struct {
	name               string
	poly, init, xorout uint16
	refin, refout      bool
	check              uint16
}

func loadCatalogue(t *testing.T) map[string]model {
	t.Helper()
	f, err := os.Open("testdata/catalogue.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ms := map[string]model{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		var m model
		for _, field := range strings.Fields(text) {
			k, v, _ := strings.Cut(field, "=")
			num := func() uint16 {
				n, err := strconv.ParseUint(v, 0, 16)
				if err != nil {
					t.Fatalf("catalogue.txt:%d: %s: %v", line, k, err)
				}
				return uint16(n)
			}
			switch k {
			case "width":
				if v != "16" {
					t.Fatalf("catalogue.txt:%d: width %s, want 16", line, v)
				}
			case "poly":
				m.poly = num()
			case "init":
				m.init = num()
			case "xorout":
				m.xorout = num()
			case "check":
				m.check = num()
			case "refin":
				m.refin = v == "true"
			case "refout":
				m.refout = v == "true"
			case "name":
				m.name = strings.Trim(v, `"`)
			}
		}
		ms[m.name] = m
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ms
}

func reflect8(b byte) byte {
	var r byte
	for i := range 8 {
		if b&(1<<i) != 0 {
			r |= 0x80 >> i
		}
	}
	return r
}

func reflect16(c uint16) uint16 {
	return uint16(reflect8(byte(c)))<<8 | uint16(reflect8(byte(c>>8)))
}

// compute is the catalogue's definition, bit by bit and table-free, so the
// tables above are held to something they share no code with.
func (m model) compute(p []byte) uint16 {
	c := m.init
	for _, b := range p {
		if m.refin {
			b = reflect8(b)
		}
		c ^= uint16(b) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ m.poly
			} else {
				c <<= 1
			}
		}
	}
	if m.refout {
		c = reflect16(c)
	}
	return c ^ m.xorout
}

var implementations = map[string]func([]byte) uint16{
	"CRC-16/MCRF4XX":  MCRF4XX,
	"CRC-16/IBM-3740": CCITTFalse,
	"CRC-16/GENIBUS":  Genibus,
	// The augmented register flushed with two zero bytes.
	"CRC-16/SPI-FUJITSU": func(p []byte) uint16 { return Augmented(append(append([]byte(nil), p...), 0, 0)) },
}

func TestCatalogue(t *testing.T) {
	cat := loadCatalogue(t)
	if len(cat) != len(implementations) {
		t.Fatalf("catalogue.txt has %d entries, the package implements %d", len(cat), len(implementations))
	}
	check := []byte("123456789")
	rng := rand.New(rand.NewPCG(1, 2))
	for name, fn := range implementations {
		m, ok := cat[name]
		if !ok {
			t.Errorf("%s is not in testdata/catalogue.txt", name)
			continue
		}
		if got := m.compute(check); got != m.check {
			t.Fatalf("%s: the test's bitwise model gives 0x%04X, the catalogue's check is 0x%04X", name, got, m.check)
		}
		if got := fn(check); got != m.check {
			t.Errorf("%s(\"123456789\") = 0x%04X, catalogue check 0x%04X", name, got, m.check)
		}
		for range 200 {
			p := make([]byte, rng.IntN(300))
			for i := range p {
				p[i] = byte(rng.UintN(256))
			}
			if got, want := fn(p), m.compute(p); got != want {
				t.Fatalf("%s(% X) = 0x%04X, bitwise model 0x%04X", name, p, got, want)
			}
		}
	}
}

func TestUpdateInPieces(t *testing.T) {
	p := []byte("RFID tag data model")
	for i := range p {
		if got, want := Update(Update(0xFFFF, p[:i]), p[i:]), CCITTFalse(p); got != want {
			t.Fatalf("split at %d: 0x%04X, want 0x%04X", i, got, want)
		}
	}
}

func BenchmarkMCRF4XX(b *testing.B) {
	p := make([]byte, 256)
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		MCRF4XX(p)
	}
}
