// Package firmwareconfigs embeds the shipped device profiles and udev rules
// so that the tally binary carries them: a Pi needs no files beside it.
//
// Profiles are one YAML file per model (and interface mode) in scanners/ and
// rfid/; drivers/profile loads and validates them. udev/70-tally.rules is
// generated from the profiles: run `go generate ./firmware-configs` after
// adding or changing a profile's match rules.
package firmwareconfigs

import "embed"

//go:generate go run ../drivers/profile/internal/genudev -o udev/70-tally.rules

// FS holds scanners/*.yaml, rfid/*.yaml and udev/70-tally.rules.
//
//go:embed scanners/*.yaml rfid/*.yaml udev/70-tally.rules
var FS embed.FS

// UdevRulesPath is where the generated rules live inside FS and the repository.
const UdevRulesPath = "udev/70-tally.rules"
