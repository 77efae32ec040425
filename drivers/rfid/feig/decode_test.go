package feig

import (
	"testing"
)

// The default decoder (drivers/tagdata) agrees with the local encoder,
// also on byte-reversed blocks and zero-padded SLIX memory.
func TestDefaultDecode(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"basic block", danish("11223344", "DE705", 32)},
		{"SLIX memory", danish("30012345678", "US-InU-Mu", 112)},
		{"reversed blocks", func() []byte { b := danish("30012345679", "DK-710100", 32); ReverseBlocks(b, 4); return b }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, model, err := DefaultOpts.Decode(tc.data)
			want, _, _ := danishID(tc.data)
			if tc.name == "reversed blocks" {
				want = "30012345679"
			}
			if err != nil || code != want || model != "iso28560-3" {
				t.Fatalf("Decode = %q, %q, %v; want %q", code, model, err, want)
			}
		})
	}
	if _, _, err := DefaultOpts.Decode(make([]byte, 32)); err == nil {
		t.Error("a blank tag decoded")
	}
}
