package export_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-inventory/tally/sync/export"
	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/relay"
	"github.com/tally-inventory/tally/sync/sinktest"
)

// folder is the export's upstream: a change is a barcode's line in the
// inventory's seen list. A folder never rejects, throttles or drops a
// connection, so those cases are skipped.
type folder struct{ s *export.Sink }

func (f folder) Changes(bc string) int {
	dir := f.s.Dir(1)
	if dir == "" {
		return 0
	}
	b, err := os.ReadFile(filepath.Join(dir, "seen-barcodes.txt"))
	if err != nil {
		return 0
	}
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) == bc {
			n++
		}
	}
	return n
}

func TestContract(t *testing.T) {
	sinktest.Run(t, sinktest.Harness{
		Start: func(t *testing.T, _ []string) (relay.Sink, sinktest.Upstream) {
			s, err := export.New(t.TempDir(), export.Opts{})
			if err != nil {
				t.Fatal(err)
			}
			return s, folder{s}
		},
		Event: func(id int64, bc string) outbox.Event { return ev(id, 1, "seen", bc, nil) },
	})
}
