package profile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/boombuler/barcode/code128"
)

func TestSheetGolden(t *testing.T) {
	ps, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Find(ps, "honeywell-voyager-1250g-keyboard")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := p.Sheet(&b); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", p.Name+".sheet.html")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("sheet differs from %s (go test -update to accept):\n%s", golden, b.String())
	}
	for _, w := range []string{"@media print", "<title>Set up Honeywell Voyager 1250g — tally</title>", "USB keyboard (PC)", ">PAP124<", "<svg "} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("sheet lacks %q", w)
		}
	}
	if strings.Contains(b.String(), "<img") || strings.Contains(b.String(), "data:image/png") {
		t.Error("sheet uses a raster image")
	}
}

func TestSheetEscapes(t *testing.T) {
	p := &Profile{Name: "x", Vendor: "<b>V</b>", Model: "M&M", Kind: KindScanner, SetupFormat: SetupPlain,
		Setup: []Setting{{Label: `<script>alert(1)</script>`, Code: "A<B", Explain: `"quoted"`}}}
	var b bytes.Buffer
	if err := p.Sheet(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "<script>") || strings.Contains(b.String(), "<b>V") {
		t.Errorf("unescaped text in sheet:\n%s", b.String())
	}
}

var (
	rectRE    = regexp.MustCompile(`<rect x="(\d+)" y="0" width="(\d+)" height="40"/>`)
	viewBoxRE = regexp.MustCompile(`viewBox="0 0 (\d+) 40"`)
	svgRE     = regexp.MustCompile(`(?s)<svg .*?</svg>`)
)

// TestSheetBarcodesDecode reads every barcode back out of every shipped
// sheet's SVG: the bar positions and widths must equal the library's
// module pattern, and an independent Code 128 decoder must recover the
// symbol's data, check symbol included.
func TestSheetBarcodesDecode(t *testing.T) {
	ps, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	dec := newC128Decoder(t)
	n := 0
	for _, p := range ps {
		var b bytes.Buffer
		if err := p.Sheet(&b); err != nil {
			t.Fatal(err)
		}
		svgs := svgRE.FindAllString(b.String(), -1)
		if len(svgs) != len(p.Setup) {
			t.Fatalf("%s: %d barcodes for %d settings", p.Name, len(svgs), len(p.Setup))
		}
		for i, svg := range svgs {
			sym := p.Symbol(p.Setup[i])
			mods := svgModules(t, svg)
			want, err := Bars(sym)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(mods) != fmt.Sprint(want) {
				t.Errorf("%s step %d: SVG bars differ from the library's pattern", p.Name, i+1)
			}
			got, err := dec.decode(mods)
			if err != nil {
				t.Errorf("%s step %d: %v", p.Name, i+1, err)
			} else if got != sym {
				t.Errorf("%s step %d: decoded %q, want %q", p.Name, i+1, printable(got), printable(sym))
			}
			n++
		}
	}
	if n < 20 {
		t.Errorf("only %d barcodes checked", n)
	}
	// The decoder is not vacuous: a flipped bar fails.
	mods, _ := Bars("PAP124")
	mods[30] = !mods[30]
	if _, err := dec.decode(mods); err == nil {
		t.Error("decoder accepted a damaged symbol")
	}
}

// svgModules turns the SVG rects back into modules, checking the quiet zones.
func svgModules(t *testing.T, svg string) []bool {
	t.Helper()
	vb := viewBoxRE.FindStringSubmatch(svg)
	if vb == nil {
		t.Fatalf("no viewBox in %s", svg)
	}
	w, _ := strconv.Atoi(vb[1])
	all := make([]bool, w)
	for _, m := range rectRE.FindAllStringSubmatch(svg, -1) {
		x, _ := strconv.Atoi(m[1])
		bw, _ := strconv.Atoi(m[2])
		if x+bw > w {
			t.Fatalf("bar at %d+%d beyond width %d", x, bw, w)
		}
		for i := x; i < x+bw; i++ {
			all[i] = true
		}
	}
	for i := 0; i < quiet; i++ {
		if all[i] || all[w-1-i] {
			t.Fatalf("bar in the quiet zone")
		}
	}
	return all[quiet : w-quiet]
}

// c128Decoder decodes Code 128 module patterns. Its symbol table is read
// from the library's own encodings of known strings; the decoding logic
// (code sets, shifts, check symbol) is written here independently.
type c128Decoder struct {
	value map[string]int // 11-module pattern -> symbol value
	stop  string
}

func patternAt(mods []bool, sym int) string {
	var b strings.Builder
	for _, m := range mods[sym*11 : sym*11+11] {
		b.WriteByte("01"[btoi(m)])
	}
	return b.String()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func newC128Decoder(t *testing.T) *c128Decoder {
	d := &c128Decoder{value: map[string]int{}}
	learn := func(data string, sym, value int) {
		mods, err := Bars(data)
		if err != nil {
			t.Fatal(err)
		}
		p := patternAt(mods, sym)
		if v, ok := d.value[p]; ok && v != value {
			t.Fatalf("pattern %s is both %d and %d", p, v, value)
		}
		d.value[p] = value
		var s strings.Builder
		for _, m := range mods[len(mods)-13:] {
			s.WriteByte("01"[btoi(m)])
		}
		d.stop = s.String()
	}
	for c := 0x20; c <= 0x7e; c++ {
		learn(string(rune(c)), 1, c-0x20) // Start B, char
	}
	learn("a", 0, 104)
	learn("\x01", 0, 103)
	learn("1234", 0, 105)
	learn("\x7f", 1, 95)
	learn(string(code128.FNC3), 1, 96)
	learn("9797", 1, 97)
	learn("9898", 1, 98)
	learn("9999", 1, 99)
	learn("\x01a", 2, 100) // A then Code B
	learn("a\x01", 2, 101) // B then Code A
	learn(string(code128.FNC1), 1, 102)
	if len(d.value) != 106 {
		t.Fatalf("learned %d symbol patterns, want 106", len(d.value))
	}
	return d
}

func (d *c128Decoder) decode(mods []bool) (string, error) {
	if len(mods) < 11*3+13 || (len(mods)-13)%11 != 0 {
		return "", fmt.Errorf("%d modules is not a Code 128 symbol", len(mods))
	}
	var stop strings.Builder
	for _, m := range mods[len(mods)-13:] {
		stop.WriteByte("01"[btoi(m)])
	}
	if stop.String() != d.stop {
		return "", fmt.Errorf("no stop pattern")
	}
	n := (len(mods) - 13) / 11
	vals := make([]int, n)
	for i := range vals {
		v, ok := d.value[patternAt(mods, i)]
		if !ok {
			return "", fmt.Errorf("symbol %d: unknown pattern %s", i, patternAt(mods, i))
		}
		vals[i] = v
	}
	sum := vals[0]
	for i := 1; i < n-1; i++ {
		sum += i * vals[i]
	}
	if sum%103 != vals[n-1] {
		return "", fmt.Errorf("check symbol %d, want %d", vals[n-1], sum%103)
	}
	set := map[int]byte{103: 'A', 104: 'B', 105: 'C'}[vals[0]]
	if set == 0 {
		return "", fmt.Errorf("no start symbol")
	}
	var out strings.Builder
	fn := map[int]rune{96: code128.FNC3, 97: code128.FNC2, 102: code128.FNC1}
	for _, v := range vals[1 : n-1] {
		switch {
		case set == 'C' && v < 100:
			fmt.Fprintf(&out, "%02d", v)
		case set == 'C' && v == 100, set == 'A' && v == 100:
			set = 'B'
		case set == 'C' && v == 101, set == 'B' && v == 101:
			set = 'A'
		case v == 99:
			set = 'C'
		case fn[v] != 0:
			out.WriteRune(fn[v])
		case set == 'A' && v < 64, set == 'B' && v < 96:
			out.WriteByte(byte(v + 0x20))
		case set == 'A' && v < 96:
			out.WriteByte(byte(v - 64))
		default:
			return "", fmt.Errorf("symbol value %d unsupported in set %c", v, set)
		}
	}
	return out.String(), nil
}
