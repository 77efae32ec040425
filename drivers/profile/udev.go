package profile

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// UdevRules renders udev rules giving group access to the devices the
// profiles match, so the agent runs as an unprivileged user:
//
//   - scanners: the USB device node (karalabe/hid's libusb backend opens
//     /dev/bus/usb/…, detaching the kernel driver; github.com/sstallion/
//     go-hid issue 4) and the hidraw node;
//   - RFID readers with a match rule: the ttyUSB/ttyACM node of their
//     USB-serial bridge.
//
// Profiles without a VID (the generic keyboard wedge) get no rule: tally
// never grants access to every keyboard, which would let it read
// passwords. The output is deterministic; firmware-configs/udev/70-tally.rules
// is this function's output for the built-in profiles (go generate).
func UdevRules(profiles []*Profile, group string) []byte {
	type key struct {
		tty      bool
		vid, pid uint16
	}
	users := map[key][]string{}
	for _, p := range profiles {
		for _, m := range p.Match {
			if m.VID == 0 {
				continue
			}
			k := key{tty: p.Kind == KindRFID, vid: m.VID, pid: m.PID}
			if !containsStr(users[k], p.Name) {
				users[k] = append(users[k], p.Name)
			}
		}
	}
	keys := make([]key, 0, len(users))
	for k := range users {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.tty != b.tty {
			return !a.tty
		}
		if a.vid != b.vid {
			return a.vid < b.vid
		}
		return a.pid < b.pid
	})

	var b bytes.Buffer
	fmt.Fprintf(&b, `# udev rules for tally: let group %q use the scanners and RFID readers
# that tally's profiles describe, so the agent runs without root.
#
# Generated from firmware-configs/*/*.yaml by `+"`go generate ./firmware-configs`"+`; do not edit.
# Install:  sudo groupadd --system %s; sudo usermod -aG %s tally
#           sudo cp 70-tally.rules /etc/udev/rules.d/
#           sudo udevadm control --reload && sudo udevadm trigger
# A scanner whose profile has no VID (the generic keyboard wedge) needs its own
# line here: tally never opens every keyboard.

ACTION=="remove", GOTO="tally_end"
`, group, group, group)
	section := -1
	for _, k := range keys {
		if s := map[bool]int{false: 0, true: 1}[k.tty]; s != section {
			section = s
			if k.tty {
				b.WriteString("\n# RFID readers: the tty of their USB-serial bridge.\n")
			} else {
				b.WriteString("\n# Barcode scanners: the USB device (libusb) and its hidraw node.\n")
			}
		}
		names := users[k]
		sort.Strings(names)
		fmt.Fprintf(&b, "# %s\n", strings.Join(names, ", "))
		attrs := fmt.Sprintf(`ATTRS{idVendor}=="%04x"`, k.vid)
		if k.pid != 0 {
			attrs += fmt.Sprintf(`, ATTRS{idProduct}=="%04x"`, k.pid)
		}
		mode := fmt.Sprintf(`MODE="0660", GROUP="%s"`, group)
		if k.tty {
			fmt.Fprintf(&b, "SUBSYSTEM==\"tty\", KERNEL==\"ttyUSB[0-9]*|ttyACM[0-9]*\", %s, %s\n", attrs, mode)
			continue
		}
		fmt.Fprintf(&b, "SUBSYSTEM==\"usb\", ENV{DEVTYPE}==\"usb_device\", %s, %s\n", strings.ReplaceAll(attrs, "ATTRS", "ATTR"), mode)
		fmt.Fprintf(&b, "SUBSYSTEM==\"hidraw\", KERNEL==\"hidraw[0-9]*\", %s, %s\n", attrs, mode)
	}
	b.WriteString("\nLABEL=\"tally_end\"\n")
	return b.Bytes()
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
