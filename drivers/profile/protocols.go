package profile

import (
	"slices"
	"strings"
	"sync"
)

// protocols are the RFID protocols a profile may name: those this package
// has rules for, and those a driver registered (drivers/readers).
var protocols = struct {
	sync.RWMutex
	known map[Protocol]bool
}{known: map[Protocol]bool{ProtoChafon: true, ProtoThingMagic: true, ProtoFEIG: true, ProtoASCII: true}}

// AddProtocol makes p a protocol profiles may name. The reader registry
// calls it for each RFID protocol a driver registers, so a new driver's
// profiles load without a change here; the rules this package keeps for
// the protocols it knows (addresses, power, tag data, init frames) do not
// apply to it.
func AddProtocol(p Protocol) {
	protocols.Lock()
	protocols.known[p] = true
	protocols.Unlock()
}

func knownProtocol(p Protocol) bool {
	protocols.RLock()
	defer protocols.RUnlock()
	return protocols.known[p]
}

// protocolWords lists the known protocols for a message: "a, b or c".
func protocolWords() string {
	protocols.RLock()
	var names []string
	for p := range protocols.known {
		names = append(names, string(p))
	}
	protocols.RUnlock()
	slices.Sort(names)
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
