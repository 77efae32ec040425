package agent

import (
	"errors"
	"fmt"

	"github.com/tally-inventory/tally/drivers/feedback"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"
)

// GPIOFeedback opens the configured pins through periph.io; nil when no
// pin is configured.
func GPIOFeedback(fc FeedbackConfig) (*feedback.Dev, error) {
	if fc.Buzzer == "" && fc.Green == "" && fc.Red == "" {
		return nil, nil
	}
	pins, err := GPIOPins(fc)
	if err != nil {
		return nil, err
	}
	o := feedback.DefaultOpts
	o.PWM = fc.PWM
	return feedback.New(pins[0], pins[1], pins[2], o)
}

// GPIOPins finds the configured buzzer, green and red pins (nil for one not
// configured) without touching them; `tally config check` uses it too.
func GPIOPins(fc FeedbackConfig) ([3]gpio.PinOut, error) {
	var pins [3]gpio.PinOut
	if _, err := host.Init(); err != nil {
		return pins, fmt.Errorf("feedback: open GPIO: %w", err)
	}
	var errs []error
	for i, name := range []string{fc.Buzzer, fc.Green, fc.Red} {
		if name == "" {
			continue
		}
		p := gpioreg.ByName(name)
		if p == nil {
			key := []string{"feedback.buzzer", "feedback.green", "feedback.red"}[i]
			errs = append(errs, fmt.Errorf("%s: no GPIO pin named %q on this machine (e.g. GPIO18)", key, name))
			continue
		}
		pins[i] = p
	}
	return pins, errors.Join(errs...)
}
