package callnumber

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestZZDebug(t *testing.T) {
	in := os.Getenv("CN")
	if in == "" {
		t.Skip()
	}
	for _, s := range strings.Split(in, "|") {
		c := Parse(s)
		fmt.Printf("%-28q %-6s pre=%q class=%q cut=%q suf=%q key=%q\n", s, c.Scheme, c.Prefix, c.Class, c.Cutters, c.Suffix, Key(s))
	}
}
