package hidscanner

import "testing"

func TestZZSmokeList(t *testing.T) {
	l, err := List()
	t.Logf("List: %d devices, err %v", len(l), err)
	_, err = Open("x", Match{VID: 0x0c2e}, Opts{})
	t.Logf("Open: %v", err)
}
