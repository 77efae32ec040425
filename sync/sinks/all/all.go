// Package all links in every sink, as Telegraf's plugins/outputs/all does:
// the runtime imports it for their registrations.
package all

import (
	// One line per sink: each registers itself with sinks.Add.
	_ "github.com/tally-inventory/tally/sync/export"
	_ "github.com/tally-inventory/tally/sync/koha"
	_ "github.com/tally-inventory/tally/sync/sip2"
	_ "github.com/tally-inventory/tally/sync/snipeit"
	_ "github.com/tally-inventory/tally/sync/webhook"
)
