package readers

import "fmt"

// DeviceConfig is where a device is: the keys of a tally.yaml device entry
// besides its name, profile and session. Zero values leave the choice to
// the profile.
type DeviceConfig struct {
	// Port is the serial port of an RFID reader (overrides the profile).
	Port string `yaml:"port"`
	// Baud overrides the profile's serial speed.
	Baud int `yaml:"baud"`
	// Serial picks one scanner, or one reader's USB-serial bridge, by its
	// USB serial number when several of one model are plugged in.
	Serial string `yaml:"serial"`
	// Path picks a scanner by its HID path.
	Path string `yaml:"path"`
	// VID and PID pick the device by its USB ids ("0x0c2e"), overriding the
	// profile's match rule: a scanner's HID interface, or the USB-serial
	// bridge of a reader when no port is given.
	VID string `yaml:"vid"`
	PID string `yaml:"pid"`
}

// FieldError is a problem with one key of a device entry.
type FieldError struct {
	Field string // "baud", "vid", …
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// Validate checks what needs nothing but the entry of the device called
// name, each problem naming its key.
func (c DeviceConfig) Validate(name string) []*FieldError {
	var errs []*FieldError
	bad := func(field, format string, a ...any) {
		errs = append(errs, &FieldError{Field: field, Err: fmt.Errorf(format, a...)})
	}
	if c.Baud < 0 {
		bad("baud", "%d is negative: give the reader's speed, e.g. 57600, or 0 for the profile's", c.Baud)
	}
	for _, f := range []struct{ key, v string }{{"vid", c.VID}, {"pid", c.PID}} {
		if _, err := ParseUSBID(f.v); err != nil {
			bad(f.key, "device %s: %v", name, err)
		}
	}
	if c.PID != "" && c.VID == "" {
		bad("pid", "device %s: a pid needs its vid", name)
	}
	return errs
}

// USBIDs are the configured vid and pid, 0 for none (or for one Validate
// refuses).
func (c DeviceConfig) USBIDs() (vid, pid uint16) {
	vid, _ = ParseUSBID(c.VID)
	pid, _ = ParseUSBID(c.PID)
	return vid, pid
}
