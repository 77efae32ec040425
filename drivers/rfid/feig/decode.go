package feig

import "github.com/tally-inventory/tally/drivers/tagdata"

// defaultDecode detects the tag's data model (ISO 28560-3, -2, 3M…) and
// returns its item identifier; the pipeline keys on Code.
func defaultDecode(data []byte) (string, string, error) {
	t, err := tagdata.Detect(data)
	if err != nil {
		return "", "", err
	}
	return t.ID, string(t.Model), nil
}
