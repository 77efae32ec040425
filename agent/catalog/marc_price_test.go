package catalog

import (
	"bytes"
	"strings"
	"testing"
)

// MARC holdings read prices as the CSV importer does (lenientPrice): a
// European "12,99" from a Koha set to a comma decimal separator is a price,
// not a dropped value with a warning.
func TestParseMARCPrice(t *testing.T) {
	for _, tc := range []struct {
		name  string
		field mfield
		want  int64
		warn  string
	}{
		{"koha-v", df("952", "pK1", "v12.99"), 1299, ""},
		{"koha-v-comma", df("952", "pK2", "v12,99"), 1299, ""},
		{"koha-g-thousands-comma", df("952", "pK3", "g1.299,00"), 129900, ""},
		{"koha-v-before-g", df("952", "pK4", "g5.00", "v€7,50"), 750, ""},
		{"koha-garbage", df("952", "pK5", "vabout ten"), 0, `$v: price "about ten" is not an amount such as 12.99: imported without a price`},
		{"evergreen-y", df("852", "aC", "bBR1", "jFIC", "p39000000000001", "y$12.00"), 1200, ""},
		{"evergreen-y-comma", df("852", "aC", "bBR1", "jFIC", "p39000000000002", "y12,50"), 1250, ""},
		{"destiny-implied-decimals", df("852", "aNHS", "hFIC", "pD1", "91599"), 1599, ""},
		{"destiny-comma", df("852", "aNHS", "hFIC", "pD2", "915,99"), 1599, ""},
		{"destiny-text", df("852", "aNHS", "hFIC", "pD3", "9P16.95usd"), 0, `$9: price "P16.95usd" is not an amount`},
	} {
		res, err := Read(bytes.NewReader(encodeMARC('a', df("245", "aA title."), tc.field)), "p.mrc", FormatMARC)
		if err != nil || len(res.Errors) > 0 || len(res.Records) != 1 {
			t.Fatalf("%s: %v %v %d records", tc.name, err, res.Errors, len(res.Records))
		}
		if got := res.Records[0].Item.Price; got != tc.want {
			t.Errorf("%s: price %d, want %d", tc.name, got, tc.want)
		}
		var warns []string
		for _, w := range res.Warnings {
			warns = append(warns, w.Msg)
		}
		if got := strings.Join(warns, "; "); tc.warn == "" && got != "" || !strings.Contains(got, tc.warn) {
			t.Errorf("%s: warnings %q, want %q", tc.name, got, tc.warn)
		}
	}
}
