// Command genudev writes firmware-configs/udev/70-tally.rules from the
// profiles on disk. It runs from firmware-configs/ through go generate.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/tally-inventory/tally/drivers/profile"
)

func main() {
	out := flag.String("o", "udev/70-tally.rules", "file to write")
	dir := flag.String("dir", ".", "directory holding the profiles")
	group := flag.String("group", "tally", "group given access to the devices")
	flag.Parse()
	profiles, err := profile.LoadDir(os.DirFS(*dir))
	if err != nil {
		fmt.Fprintf(os.Stderr, "genudev: fix the profiles first:\n%v\n", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, profile.UdevRules(profiles, *group), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "genudev: %v\n", err)
		os.Exit(1)
	}
}
