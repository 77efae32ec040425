package feedback

import (
	"time"

	"periph.io/x/conn/v3/physic"
)

// Outcome names, as the agent's reconcile stage reports them, plus
// the two that are not reconcile outcomes: patron_card (a person's library
// card scanned during an inventory) and error (the read was not stored).
const (
	OK                = "ok"
	Duplicate         = "duplicate"
	Unknown           = "unknown"
	Invalid           = "invalid"
	PatronCard        = "patron_card"
	Error             = "error"
	WrongLocation     = "wrong_location"
	OutOfOrder        = "out_of_order"
	Swap              = "swap" // two neighbours just read are shelved the wrong way round
	Pull              = "pull" // on the inventory's pull list: take it off the shelf
	CheckedOutOnShelf = "checked_out_on_shelf"
	Found             = "found"
	WithdrawnOnShelf  = "withdrawn_on_shelf"
	HoldPickup        = "hold_pickup"
	Present           = "present"
	Foreign           = "foreign"
	Missing           = "missing"

	// Control barcodes (`tally sheet control`): what a scanned command did.
	SessionStarted = "session_started"
	SessionPaused  = "session_paused"
	SessionResumed = "session_resumed"
	SessionEnded   = "session_ended"
	Undone         = "undone"
	OperatorSet    = "operator"
	ControlRefused = "control_refused"
)

// Light is the colour of the outcome LED; amber lights green and red.
type Light uint8

const (
	Dark  Light = 0
	Green Light = 1
	Red   Light = 2
	Amber       = Green | Red
)

func (l Light) String() string {
	return [...]string{"dark", "green", "red", "amber"}[l&3]
}

// Step is one beep and the silence after it.
type Step struct {
	On  time.Duration    // buzzer sounds
	Off time.Duration    // silence after
	Hz  physic.Frequency // pitch on a PWM-driven (passive) buzzer; an active buzzer has its own
}

// Pattern is what one outcome sounds and looks like.
type Pattern struct {
	Steps []Step
	Light Light // lit from the first beep until Opts.LEDHold after the last
	// Alarm marks outcomes the operator must hear in full: a newer routine
	// signal waits for an alarm to finish instead of cutting it short.
	Alarm bool
}

// Duration is how long the sound lasts.
func (p Pattern) Duration() time.Duration {
	var d time.Duration
	for _, s := range p.Steps {
		d += s.On + s.Off
	}
	return d
}

// Pitches, chosen around a piezo's resonance: high is the loudest.
const (
	High = 2700 * physic.Hertz
	Mid  = 2000 * physic.Hertz
	Low  = 900 * physic.Hertz
)

const ms = time.Millisecond

// Patterns is the one table of outcome signals. Each is distinct by rhythm
// alone, so an active buzzer (one pitch) still tells them apart; pitch on
// a passive buzzer and the LED colour add to that.
//
//	outcome               sound (ms; H/M/L pitch)          light  alarm  meaning
//	ok                    60H                              green  -      counted
//	present               100H                             green  -      device belongs in this cart
//	duplicate             40M 60 40M                       green  -      already counted (soft double)
//	unknown               500L                             red    yes    not in the catalog
//	invalid               500L 80 80L                      red    yes    fails its check digit
//	patron_card           500L 80 80H 40 80H               red    yes    a person's card, not an item
//	error                 1000L                            red    yes    NOT saved: scan it again
//	wrong_location        150H 50 150L                     amber  yes    belongs elsewhere: pull it
//	out_of_order          100L 50 100H 50 100L             amber  yes    misshelved in this range
//	swap                  100H 50 100L 150 100L 50 100H    amber  yes    the two books just read: swap them
//	checked_out_on_shelf  80L 30 80M 30 80H                amber  yes    rising: check it in
//	found                 60L 20 60M 20 60H 20 200H        amber  yes    rising, long end: was lost
//	withdrawn_on_shelf    300L 60 300L                     red    yes    withdrawn: pull it
//	hold_pickup           80H 80 80H 80 80H                amber  yes    hold waiting: pull it
//	pull                  80M 40 80M 40 250H               amber  yes    on the pull list: take it off the shelf
//	foreign               200M 50 200L                     red    yes    belongs to another cart
//	missing               400L 100 400L 100 400L           red    yes    cart closed with devices missing
//	session_started       60M 40 60H 40 200H               green  -      control: session started, scanner bound
//	session_paused        200H 100 200L                    amber  -      control: paused (falling)
//	session_resumed       200L 50 100H 50 100H             green  -      control: resumed (rising, quickening)
//	session_ended         300H 100 300M 100 300L           green  -      control: ended (long, falling)
//	undone                40H 40 40H 40 40H 40 40H         amber  -      control: last read taken back
//	operator              120M 60 40H                      green  -      control: badge, reads now carry the name
//	control_refused       250L 50 250L 50 250L             red    yes    control: not done (no session, finalized…)
var Patterns = map[string]Pattern{
	OK:                {Light: Green, Steps: []Step{{60 * ms, 0, High}}},
	Present:           {Light: Green, Steps: []Step{{100 * ms, 0, High}}},
	Duplicate:         {Light: Green, Steps: []Step{{40 * ms, 60 * ms, Mid}, {40 * ms, 0, Mid}}},
	Unknown:           {Light: Red, Alarm: true, Steps: []Step{{500 * ms, 0, Low}}},
	Invalid:           {Light: Red, Alarm: true, Steps: []Step{{500 * ms, 80 * ms, Low}, {80 * ms, 0, Low}}},
	PatronCard:        {Light: Red, Alarm: true, Steps: []Step{{500 * ms, 80 * ms, Low}, {80 * ms, 40 * ms, High}, {80 * ms, 0, High}}},
	Error:             {Light: Red, Alarm: true, Steps: []Step{{1000 * ms, 0, Low}}},
	WrongLocation:     {Light: Amber, Alarm: true, Steps: []Step{{150 * ms, 50 * ms, High}, {150 * ms, 0, Low}}},
	OutOfOrder:        {Light: Amber, Alarm: true, Steps: []Step{{100 * ms, 50 * ms, Low}, {100 * ms, 50 * ms, High}, {100 * ms, 0, Low}}},
	Swap:              {Light: Amber, Alarm: true, Steps: []Step{{100 * ms, 50 * ms, High}, {100 * ms, 150 * ms, Low}, {100 * ms, 50 * ms, Low}, {100 * ms, 0, High}}},
	CheckedOutOnShelf: {Light: Amber, Alarm: true, Steps: []Step{{80 * ms, 30 * ms, Low}, {80 * ms, 30 * ms, Mid}, {80 * ms, 0, High}}},
	Found:             {Light: Amber, Alarm: true, Steps: []Step{{60 * ms, 20 * ms, Low}, {60 * ms, 20 * ms, Mid}, {60 * ms, 20 * ms, High}, {200 * ms, 0, High}}},
	WithdrawnOnShelf:  {Light: Red, Alarm: true, Steps: []Step{{300 * ms, 60 * ms, Low}, {300 * ms, 0, Low}}},
	HoldPickup:        {Light: Amber, Alarm: true, Steps: []Step{{80 * ms, 80 * ms, High}, {80 * ms, 80 * ms, High}, {80 * ms, 0, High}}},
	Pull:              {Light: Amber, Alarm: true, Steps: []Step{{80 * ms, 40 * ms, Mid}, {80 * ms, 40 * ms, Mid}, {250 * ms, 0, High}}},
	Foreign:           {Light: Red, Alarm: true, Steps: []Step{{200 * ms, 50 * ms, Mid}, {200 * ms, 0, Low}}},
	Missing:           {Light: Red, Alarm: true, Steps: []Step{{400 * ms, 100 * ms, Low}, {400 * ms, 100 * ms, Low}, {400 * ms, 0, Low}}},
	SessionStarted:    {Light: Green, Steps: []Step{{60 * ms, 40 * ms, Mid}, {60 * ms, 40 * ms, High}, {200 * ms, 0, High}}},
	SessionPaused:     {Light: Amber, Steps: []Step{{200 * ms, 100 * ms, High}, {200 * ms, 0, Low}}},
	SessionResumed:    {Light: Green, Steps: []Step{{200 * ms, 50 * ms, Low}, {100 * ms, 50 * ms, High}, {100 * ms, 0, High}}},
	SessionEnded:      {Light: Green, Steps: []Step{{300 * ms, 100 * ms, High}, {300 * ms, 100 * ms, Mid}, {300 * ms, 0, Low}}},
	Undone:            {Light: Amber, Steps: []Step{{40 * ms, 40 * ms, High}, {40 * ms, 40 * ms, High}, {40 * ms, 40 * ms, High}, {40 * ms, 0, High}}},
	OperatorSet:       {Light: Green, Steps: []Step{{120 * ms, 60 * ms, Mid}, {40 * ms, 0, High}}},
	ControlRefused:    {Light: Red, Alarm: true, Steps: []Step{{250 * ms, 50 * ms, Low}, {250 * ms, 50 * ms, Low}, {250 * ms, 0, Low}}},
}
