package barcode

import "strings"

// ControlPrefix starts every tally control barcode (`tally sheet control`,
// operator badges). '#' is outside Code 39's and Codabar's character sets
// and outside the digits of library, EAN and UPC codes, so no printed item
// barcode starts with it, and Normalize leaves it in place.
const ControlPrefix = "#TALLY:"

// ClassControl is a tally control barcode: a command for the agent, never an item.
const ClassControl Class = "control"

// IsControl reports whether a normalized code is a tally control barcode.
func IsControl(code string) bool { return strings.HasPrefix(code, ControlPrefix) }
