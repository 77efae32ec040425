package catalog

import (
	"flag"
	"os"
	"testing"
)

// TestMain gives each new interesting fuzz input at most a second of
// minimizing, unless -fuzzminimizetime says otherwise. Go's default is a
// minute per input, and its minimizer tries removing every span of the
// input, so its cost grows with the square of the input's length: on the
// MARCXML seeds (kilobytes of XML) each interesting input took the whole
// minute, the fuzzer counts no execs meanwhile, and a 20-second
// `go test -fuzz=FuzzParseMARCXML` stopped after a dozen execs (see
// golang/go#48820 and #51484).
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.fuzzminimizetime" })
	if fz := flag.Lookup("test.fuzz"); !set && fz != nil && fz.Value.String() != "" {
		if err := flag.Set("test.fuzzminimizetime", "1s"); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
