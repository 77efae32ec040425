package barcode_test

import (
	"fmt"

	"github.com/tally-inventory/tally/drivers/barcode"
)

func ExampleCheck() {
	for _, raw := range []string{"A30234000517861B\r", "3 0234 00051 7862", "0306406152", "20234000123456"} {
		r := barcode.Check(barcode.Normalize(raw), barcode.DefaultOpts)
		fmt.Printf("%s %s valid=%v %q\n", r.Code, r.Class, r.Valid, r.Problem)
	}
	// Output:
	// 30234000517861 item valid=true ""
	// 30234000517862 item valid=false "check digit is 2, expected 1"
	// 9780306406157 isbn valid=true ""
	// 20234000123456 patron valid=true ""
}
