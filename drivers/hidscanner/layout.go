package hidscanner

import "sort"

// A keyboard scanner turns each character into a key usage using its own
// configured keyboard country; the OS keymap is bypassed when we read the
// device, so we must apply the same table in reverse. Library barcodes are
// digits, which US and DE agree on; FR (AZERTY) needs Shift for digits.
//
// Dead keys (DE ´ `, FR ^ ¨) are mapped to their characters; a scanner
// typing an accent then a space yields both. Barcodes rarely contain them.

// Usages with a fixed meaning in every layout.
const (
	keyEnter     = 0x28
	keyTab       = 0x2B
	keySpace     = 0x2C
	keyCapsLock  = 0x39
	keyKPEnter   = 0x58
	keyMaxMapped = 0x68 // usages at or above this (except modifiers) are not characters
)

// Modifier bits of byte 0 of a boot report.
const (
	modCtrl  = 0x01 | 0x10 // LCtrl, RCtrl
	modShift = 0x02 | 0x20 // LShift, RShift
	modAltGr = 0x40        // RAlt; AltGr on European layouts
)

// keymap maps a usage to its character without modifiers, with Shift, with
// AltGr and with Shift+AltGr; 0 means the key does not type a character in
// that state.
type keymap [keyMaxMapped][4]rune

var layouts = map[string]*keymap{
	"us": usLayout(),
	"de": deLayout(),
	"fr": frLayout(),
}

// Layouts lists the keyboard layout names Opts.Layout accepts.
func Layouts() []string {
	names := make([]string, 0, len(layouts))
	for n := range layouts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func usLayout() *keymap {
	var m keymap
	for i := range 26 {
		m[0x04+i] = [4]rune{rune('a' + i), rune('A' + i)}
	}
	for i, c := range "1234567890" {
		m[0x1E+i] = [4]rune{c, rune("!@#$%^&*()"[i])}
	}
	m[keySpace] = [4]rune{' ', ' '}
	const base, shift = "-=[]\\#;'`,./", "_+{}|~:\"~<>?"
	for i := range len(base) {
		m[0x2D+i] = [4]rune{rune(base[i]), rune(shift[i])}
	}
	// Keypad, NumLock on; Shift does not change what a scanner means.
	for i, c := range "/*-+" {
		m[0x54+i] = [4]rune{c, c}
	}
	for i, c := range "1234567890." {
		m[0x59+i] = [4]rune{c, c}
	}
	m[0x64] = [4]rune{'\\', '|'} // Non-US backslash
	m[0x67] = [4]rune{'=', '='}  // keypad =
	return &m
}

func deLayout() *keymap {
	m := usLayout()
	set := func(k byte, r ...rune) {
		var v [4]rune
		copy(v[:], r)
		m[k] = v
	}
	set(0x1C, 'z', 'Z') // QWERTZ: Y and Z swap
	set(0x1D, 'y', 'Y')
	set(0x14, 'q', 'Q', '@')
	set(0x08, 'e', 'E', '€')
	set(0x10, 'm', 'M', 'µ')
	set(0x1E, '1', '!')
	set(0x1F, '2', '"', '²')
	set(0x20, '3', '§', '³')
	set(0x21, '4', '$')
	set(0x22, '5', '%')
	set(0x23, '6', '&')
	set(0x24, '7', '/', '{')
	set(0x25, '8', '(', '[')
	set(0x26, '9', ')', ']')
	set(0x27, '0', '=', '}')
	set(0x2D, 'ß', '?', '\\')
	set(0x2E, '´', '`')
	set(0x2F, 'ü', 'Ü')
	set(0x30, '+', '*', '~')
	set(0x31, '#', '\'')
	set(0x32, '#', '\'')
	set(0x33, 'ö', 'Ö')
	set(0x34, 'ä', 'Ä')
	set(0x35, '^', '°')
	set(0x36, ',', ';')
	set(0x37, '.', ':')
	set(0x38, '-', '_')
	set(0x63, ',', ',') // keypad decimal
	set(0x64, '<', '>', '|')
	return m
}

func frLayout() *keymap {
	m := usLayout()
	set := func(k byte, r ...rune) {
		var v [4]rune
		copy(v[:], r)
		m[k] = v
	}
	set(0x04, 'q', 'Q') // AZERTY: A/Q and Z/W swap, M moves
	set(0x14, 'a', 'A')
	set(0x1A, 'z', 'Z')
	set(0x1D, 'w', 'W')
	set(0x10, ',', '?')
	set(0x33, 'm', 'M')
	set(0x08, 'e', 'E', '€')
	// Digits need Shift on AZERTY.
	set(0x1E, '&', '1')
	set(0x1F, 'é', '2', '~')
	set(0x20, '"', '3', '#')
	set(0x21, '\'', '4', '{')
	set(0x22, '(', '5', '[')
	set(0x23, '-', '6', '|')
	set(0x24, 'è', '7', '`')
	set(0x25, '_', '8', '\\')
	set(0x26, 'ç', '9', '^')
	set(0x27, 'à', '0', '@')
	set(0x2D, ')', '°', ']')
	set(0x2E, '=', '+', '}')
	set(0x2F, '^', '¨')
	set(0x30, '$', '£', '¤')
	set(0x31, '*', 'µ')
	set(0x32, '*', 'µ')
	set(0x34, 'ù', '%')
	set(0x35, '²')
	set(0x36, ';', '.')
	set(0x37, ':', '/')
	set(0x38, '!', '§')
	set(0x64, '<', '>')
	return m
}
