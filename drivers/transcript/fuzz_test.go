package transcript

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParse: garbage never panics and always gets a located *Error; what
// parses writes out and parses back to the same text.
func FuzzParse(f *testing.F) {
	f.Add([]byte(pollScript))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := Parse("fuzz.txt", data)
		if err != nil {
			var te *Error
			if !errors.As(err, &te) || te.File != "fuzz.txt" || te.Msg == "" {
				t.Fatalf("error %v (%T) is not located", err, err)
			}
			return
		}
		var first bytes.Buffer
		if _, err := tr.WriteTo(&first); err != nil {
			t.Fatal(err)
		}
		back, err := Parse("again.txt", first.Bytes())
		if err != nil {
			t.Fatalf("written transcript does not parse: %v\n%s", err, first.String())
		}
		if len(back.Events) != len(tr.Events) {
			t.Fatalf("%d events, then %d", len(tr.Events), len(back.Events))
		}
		for i, ev := range tr.Events {
			b := back.Events[i]
			if b.Dir != ev.Dir || !bytes.Equal(b.Data, ev.Data) {
				t.Fatalf("event %d: %+v, then %+v", i, ev, b)
			}
		}
		var second bytes.Buffer
		back.WriteTo(&second)
		if first.String() != second.String() {
			t.Fatalf("not stable:\n%s\nthen\n%s", first.String(), second.String())
		}
	})
}
