package profile

import (
	"io"
	"testing"

	"go.yaml.in/yaml/v3"
)

// BenchmarkYAMLDecode is the baseline: a plain strict decode, no validation.
func BenchmarkYAMLDecode(b *testing.B) {
	b.ReportAllocs()
	data := []byte(goodRFID)
	for b.Loop() {
		var r rawProfile
		if err := yaml.Unmarshal(data, &r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad is a full load: node walk, strict decode, validation.
func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	data := []byte(goodRFID)
	for b.Loop() {
		if _, err := Load("test-rfid.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSheet(b *testing.B) {
	ps, err := Builtin()
	if err != nil {
		b.Fatal(err)
	}
	p, err := Find(ps, "honeywell-voyager-1250g-keyboard")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Sheet(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
