package feig

import "errors"

// defaultDecode is used when Opts.Decode is nil: without a tag data
// decoder the identifier is the UID.
func defaultDecode([]byte) (string, string, error) {
	return "", "", errors.New("feig: no tag data decoder configured")
}
