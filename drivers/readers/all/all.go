// Package all links in every reader protocol, as Telegraf's
// plugins/inputs/all does: the runtime imports it for their registrations.
package all

import (
	// One line per driver: each registers its protocols with readers.Add.
	_ "github.com/tally-inventory/tally/drivers/hidscanner"
	_ "github.com/tally-inventory/tally/drivers/rfid/ascii"
	_ "github.com/tally-inventory/tally/drivers/rfid/chafon"
	_ "github.com/tally-inventory/tally/drivers/rfid/feig"
	_ "github.com/tally-inventory/tally/drivers/rfid/thingmagic"
)
