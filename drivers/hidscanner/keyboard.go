package hidscanner

import (
	"fmt"
	"unicode/utf8"
)

// keyboardDecoder decodes boot keyboard reports typed by a scanner.
//
// Key-up rule: a usage is a new keystroke only if it was not in the
// previous report, so a held key is not repeated and a repeated character
// ("00") arrives as press, release, press. Modifiers are taken from the
// report in which the key appears (a scanner may press Shift in a report of
// its own first).
type keyboardDecoder struct {
	keys     *keymap
	layout   string
	termEnt  bool // Enter ends a code
	termTab  bool // Tab ends a code
	reportID int
	max      int

	prev    [6]byte
	buf     []byte // the code being typed
	done    []byte // the last completed code (swapped with buf)
	damaged *DecodeError
}

func newKeyboardDecoder(o Opts) *keyboardDecoder {
	return &keyboardDecoder{
		keys:     layouts[o.Layout],
		layout:   o.Layout,
		termEnt:  o.Terminator != TermTab,
		termTab:  o.Terminator != TermEnter,
		reportID: o.ReportID,
		max:      o.MaxCode,
		buf:      make([]byte, 0, min(o.MaxCode+utf8.UTFMax, 256)),
		done:     make([]byte, 0, min(o.MaxCode+utf8.UTFMax, 256)),
	}
}

func (d *keyboardDecoder) Reset() {
	d.prev = [6]byte{}
	d.buf = d.buf[:0]
	d.damaged = nil
}

func (d *keyboardDecoder) Decode(p []byte) (Decoded, error) {
	var r []byte // the 8-byte boot report
	off := 0     // offset of r in p, for error messages
	switch {
	case len(p) == 8 && d.reportID == 0:
		r = p
	case len(p) >= 9 && (d.reportID == 0 && len(p) == 9 || d.reportID != 0 && int(p[0]) == d.reportID):
		r, off = p[1:9], 1
	case len(p) >= 9 && d.reportID != 0:
		return Decoded{}, nil // another report of a composite device (consumer keys, …)
	default:
		return Decoded{}, &DecodeError{Mode: ModeKeyboard, Offset: 0,
			What: fmt.Sprintf("%d bytes, want 8 (boot report) or 9 (report id first)", len(p)),
			Fix:  "check that the scanner is in USB keyboard mode, or set report_id"}
	}
	keys := r[2:8]
	for _, k := range keys {
		if k >= 0x01 && k <= 0x03 { // ErrorRollOver, POSTFail, ErrorUndefined: phantom state
			return Decoded{}, nil
		}
	}
	mods := r[0]
	var out Decoded
	var err error
	for i, k := range keys {
		if k == 0 || d.held(k) {
			continue
		}
		o, e := d.press(k, mods, off+2+i)
		if o.Done {
			if out.Done { // two codes completed in one report: keep the first
				e = &DecodeError{Mode: ModeKeyboard, Offset: off + 2 + i,
					What: "a second terminator in the same report; code dropped"}
			} else {
				out = o
			}
		}
		if e != nil && err == nil {
			err = e
		}
	}
	copy(d.prev[:], keys)
	return out, err
}

func (d *keyboardDecoder) held(k byte) bool {
	for _, p := range d.prev {
		if p == k {
			return true
		}
	}
	return false
}

// press handles one new keystroke at report offset off.
func (d *keyboardDecoder) press(k, mods byte, off int) (Decoded, error) {
	enter := k == keyEnter || k == keyKPEnter
	if enter && d.termEnt || k == keyTab && d.termTab {
		return d.finish(k)
	}
	var c rune
	switch {
	case enter:
		c = '\r'
	case k == keyTab:
		c = '\t'
	case k >= 0xE0 && k <= 0xE7, k == keyCapsLock:
		return Decoded{}, nil // modifier as a usage; caps lock: scanners shift explicitly
	case k >= keyMaxMapped || (k >= 0x29 && k <= 0x2A) || (k >= 0x3A && k <= 0x53):
		return Decoded{}, nil // Esc, Backspace, F-keys, navigation: not part of a code
	default:
		c = d.char(k, mods)
	}
	if c == 0 {
		if d.damaged == nil {
			d.damaged = &DecodeError{Mode: ModeKeyboard, Offset: off,
				What: fmt.Sprintf("key usage 0x%02x with modifiers 0x%02x types nothing in layout %q", k, mods, d.layout),
				Fix:  "set the scanner's keyboard country to match the profile's layout (US is safest)"}
		}
		return Decoded{}, nil
	}
	if len(d.buf)+utf8.RuneLen(c) > d.max {
		if d.damaged == nil {
			d.damaged = &DecodeError{Mode: ModeKeyboard, Offset: off,
				What: fmt.Sprintf("code longer than %d bytes without a terminator", d.max),
				Fix:  "check that the scanner sends the profile's terminator suffix, or raise max_code"}
		}
		return Decoded{}, nil
	}
	d.buf = utf8.AppendRune(d.buf, c)
	return Decoded{}, nil
}

// char returns the character usage k types with mods, 0 if none.
func (d *keyboardDecoder) char(k, mods byte) rune {
	v := d.keys[k]
	if mods&modCtrl != 0 {
		// Ctrl+letter and Ctrl+[ \ ] are how scanners type control
		// characters (GS 0x1D separates GS1 fields).
		switch c := v[0]; {
		case c >= 'a' && c <= 'z':
			return c - 'a' + 1
		case c >= '[' && c <= ']':
			return c - '[' + 0x1B
		}
		return 0
	}
	i := 0
	if mods&modShift != 0 {
		i |= 1
	}
	if mods&modAltGr != 0 {
		i |= 2
	}
	return v[i]
}

func (d *keyboardDecoder) finish(k byte) (Decoded, error) {
	if d.damaged != nil {
		err := d.damaged
		err.What += fmt.Sprintf("; code %q dropped", d.buf)
		d.damaged = nil
		d.buf = d.buf[:0]
		return Decoded{}, err
	}
	if len(d.buf) == 0 {
		return Decoded{}, nil // a bare terminator is not a code
	}
	term := byte('\r')
	if k == keyTab {
		term = '\t'
	}
	d.done = append(d.done[:0], d.buf...)
	n := len(d.done)
	d.done = append(d.done, term)
	d.buf = d.buf[:0]
	return Decoded{Done: true, Raw: d.done, Code: d.done[:n]}, nil
}
