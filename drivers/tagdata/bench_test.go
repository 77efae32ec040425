package tagdata

import "testing"

// benchInputs is one typical tag per model. "raw" (hex of the bytes) is the
// baseline: the least any decoder can cost.
func benchInputs(b *testing.B) []struct {
	name   string
	decode func() (*Tag, error)
} {
	v3 := mustHex(b, vec28560_3)
	rev := ReverseBlocks(v3)
	annex := mustHex(b, vecAnnex)
	bank := mustHex(b, vecEPCBank)
	user := mustHex(b, vecUserBank)
	sgtin := mustHex(b, "3074257BF7194E4000001A85")
	giai := mustHex(b, "341401388000000000000001")
	m3 := mustHex(b, "04 11 00 01 31333032 30303337 36370000 00000000 00000000 00000000 00000000")
	return []struct {
		name   string
		decode func() (*Tag, error)
	}{
		{"raw", func() (*Tag, error) { return Decode(ModelRaw, v3) }},
		{"iso28560-3", func() (*Tag, error) { return Decode(ModelISO28560_3, v3) }},
		{"iso28560-3-reversed", func() (*Tag, error) { return Decode(ModelISO28560_3, rev) }},
		{"iso28560-2", func() (*Tag, error) { return Decode(ModelISO28560_2, annex) }},
		{"iso28560-4", func() (*Tag, error) { return DecodeUHF(0x45C2, bank[4:], nil) }},
		{"iso28560-4+user", func() (*Tag, error) { return DecodeUHF(0x45C2, bank[4:], user) }},
		{"sgtin-96", func() (*Tag, error) { return DecodeUHF(0x3000, sgtin, nil) }},
		{"giai-96", func() (*Tag, error) { return DecodeUHF(0x3000, giai, nil) }},
		{"3m-rfid501", func() (*Tag, error) { return Decode(Model3M, m3) }},
	}
}

// BenchmarkDecode measures decoding one tag with its model known, as a
// reader profile names it.
func BenchmarkDecode(b *testing.B) {
	for _, in := range benchInputs(b) {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := in.decode(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/tag")
		})
	}
}

// BenchmarkDetect measures decoding with the model unknown: the cost of
// the models tried and refused before the right one.
func BenchmarkDetect(b *testing.B) {
	for _, in := range []struct{ name, hex string }{
		{"iso28560-3", vec28560_3},
		{"iso28560-2", vecAnnex},
		{"iso28560-4", vecEPCBank},
		{"sgtin-96", "3074257BF7194E4000001A85"},
		{"3m-rfid501", "04 11 00 01 31333032 30303337 36370000 00000000 00000000 00000000 00000000"},
	} {
		data := mustHex(b, in.hex)
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Detect(data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/tag")
		})
	}
}

// BenchmarkEncode measures the encoders the simulator uses to script a cart.
func BenchmarkEncode(b *testing.B) {
	b.Run("iso28560-3", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Encode28560_3(Tag3{TypeOfUsage: 1, ID: "31234000123456", Owner: "US-MaBoS"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("iso28560-2", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Encode28560_2(Tag2{ContentParameter: true, Elements: annexElements()}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("giai-96", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := EncodeGIAI96(GIAI{CompanyPrefix: "0614141", AssetReference: 12345}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
