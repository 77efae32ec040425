package feig

import "github.com/tally-inventory/tally/drivers/tagdata"

// DefaultDecode returns the item identifier of a tag's data. A DSFID of
// 0x06 says the tag holds ISO 28560-2 data, so that model is used alone;
// otherwise the model is detected (ISO 28560-3, 3M RFID 501, -2…).
func DefaultDecode(dsfid byte, data []byte) (string, string, error) {
	var t *tagdata.Tag
	var err error
	if dsfid == DSFID28560_2 {
		t, err = tagdata.Decode(tagdata.ModelISO28560_2, data)
	} else {
		t, err = tagdata.Detect(data)
	}
	if err != nil {
		return "", "", err
	}
	return t.ID, string(t.Model), nil
}
