package catalog

import (
	"hash/maphash"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tally-inventory/tally/agent/callnumber"
)

// Ref names an item inside an Index. It stays valid until the item is
// removed; removed slots are reused by later additions.
type Ref uint32

// NoRef is the Ref of nothing.
const NoRef Ref = ^Ref(0)

// rec is the compact in-memory form of an Item. A million of them must fit
// in a Raspberry Pi's memory next to everything else, so the repeated
// strings (library, location, collection, item type, container) are
// interned to 32-bit ids, dates are days, and the rare identifiers live in
// side maps. See BenchmarkIndexBuild for the bytes per item this comes to.
type rec struct {
	barcode, title, author, callNumber string
	sortKey                            string // callnumber.Key(callNumber)
	library, location, collection      uint32
	itemType, container                uint32
	due, seen                          int32 // days since 1970-01-01, 0 = none
	price                              int64
	status                             Status
	kind                               uint8 // 0 book, 1 equipment
	hold                               bool
	live                               bool
	year                               int16   // publication year, 0 = unknown (fits the padding before ext)
	ext                                *recExt // nil for most books
}

// recExt holds the identifiers most books do not have.
type recExt struct{ rfid, asset, serial string }

// Index is the in-memory collection every read is checked against. Lookups
// are safe from many goroutines; changes take a write lock.
type Index struct {
	mu    sync.RWMutex
	seed  maphash.Seed
	recs  []rec
	free  []Ref
	slots []uint32 // open addressing over recs by barcode: 0 empty, else Ref+1
	n     int
	pool  strPool
	// Identifiers other than the barcode, only for items that have them.
	rfid, asset, serial map[string]Ref
	// containers lists the members of each cart (by interned name).
	containers map[uint32][]Ref
}

// NewIndex returns an empty index sized for about n items.
func NewIndex(n int) *Index {
	x := &Index{seed: maphash.MakeSeed(), rfid: map[string]Ref{}, asset: map[string]Ref{},
		serial: map[string]Ref{}, containers: map[uint32][]Ref{}}
	x.recs = make([]rec, 0, n)
	x.slots = make([]uint32, tableSize(n))
	x.pool.init()
	return x
}

func tableSize(n int) int {
	s := 16
	for s < n*2 {
		s <<= 1
	}
	return s
}

// Len is the number of items.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.n
}

// find returns the slot for barcode and the Ref there (NoRef when empty).
// The caller holds a lock.
func (x *Index) find(barcode string) (int, Ref) {
	mask := len(x.slots) - 1
	i := int(maphash.String(x.seed, barcode)) & mask
	for {
		s := x.slots[i]
		if s == 0 {
			return i, NoRef
		}
		if x.recs[s-1].barcode == barcode {
			return i, Ref(s - 1)
		}
		i = (i + 1) & mask
	}
}

// Change says what Put did.
type Change int

const (
	Unchanged Change = iota
	Added
	Updated
)

// Put adds the item or, when its barcode is known, updates it in place.
// The item's Barcode must already be normalized (NormalizeID).
func (x *Index) Put(it Item) (Ref, Change) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.put(it)
}

func (x *Index) put(it Item) (Ref, Change) {
	return x.putKeyed(it, callnumber.Key(it.CallNumber))
}

func (x *Index) putKeyed(it Item, key string) (Ref, Change) {
	it.Barcode = NormalizeID(it.Barcode)
	if (x.n+1)*2 > len(x.slots) {
		x.grow()
	}
	i, ref := x.find(it.Barcode)
	if ref != NoRef {
		nr := x.pack(it, key)
		if recEqual(&x.recs[ref], &nr) {
			return ref, Unchanged
		}
		x.unlinkSide(ref)
		x.recs[ref] = nr
		x.linkSide(ref)
		return ref, Updated
	}
	r := x.pack(it, key)
	if n := len(x.free); n > 0 {
		ref = x.free[n-1]
		x.free = x.free[:n-1]
		x.recs[ref] = r
	} else {
		ref = Ref(len(x.recs))
		x.recs = append(x.recs, r)
	}
	x.slots[i] = uint32(ref) + 1
	x.n++
	x.linkSide(ref)
	return ref, Added
}

func (x *Index) grow() {
	old := x.slots
	x.slots = make([]uint32, len(old)*2)
	mask := len(x.slots) - 1
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := int(maphash.String(x.seed, x.recs[s-1].barcode)) & mask
		for x.slots[i] != 0 {
			i = (i + 1) & mask
		}
		x.slots[i] = s
	}
}

// Keyed is an item with its call-number sort key already computed (as the
// store keeps it), for bulk loading.
type Keyed struct {
	Item    Item
	SortKey string
}

// PutBatch adds or updates items whose sort keys are known, under one lock.
func (x *Index) PutBatch(items []Keyed) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for i := range items {
		x.putKeyed(items[i].Item, items[i].SortKey)
	}
}

// Remove deletes the item with this barcode; it reports whether it existed.
func (x *Index) Remove(barcode string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	i, ref := x.find(barcode)
	if ref == NoRef {
		return false
	}
	x.unlinkSide(ref)
	x.recs[ref] = rec{}
	x.free = append(x.free, ref)
	x.n--
	// Backward-shift deletion keeps probe chains intact without tombstones.
	mask := len(x.slots) - 1
	x.slots[i] = 0
	for j := (i + 1) & mask; x.slots[j] != 0; j = (j + 1) & mask {
		s := x.slots[j]
		home := int(maphash.String(x.seed, x.recs[s-1].barcode)) & mask
		// Move s into the hole at i when its home is not in (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			x.slots[i] = s
			x.slots[j] = 0
			i = j
		}
	}
	return true
}

func (x *Index) linkSide(ref Ref) {
	r := &x.recs[ref]
	if e := r.ext; e != nil {
		for _, kv := range [...]struct {
			m map[string]Ref
			k string
		}{{x.rfid, e.rfid}, {x.asset, e.asset}, {x.serial, e.serial}} {
			if kv.k != "" {
				kv.m[kv.k] = ref
			}
		}
	}
	if c := r.container; c != 0 {
		x.containers[c] = append(x.containers[c], ref)
	}
}

func (x *Index) unlinkSide(ref Ref) {
	r := &x.recs[ref]
	if e := r.ext; e != nil {
		for _, kv := range [...]struct {
			m map[string]Ref
			k string
		}{{x.rfid, e.rfid}, {x.asset, e.asset}, {x.serial, e.serial}} {
			if kv.k != "" && kv.m[kv.k] == ref {
				delete(kv.m, kv.k)
			}
		}
	}
	if c := r.container; c != 0 {
		m := x.containers[c]
		for i, v := range m {
			if v == ref {
				m = append(m[:i:i], m[i+1:]...)
				break
			}
		}
		x.containers[c] = m
	}
}

func recEqual(a, b *rec) bool {
	ea, eb := a.ext, b.ext
	if (ea == nil) != (eb == nil) || ea != nil && *ea != *eb {
		return false
	}
	a2, b2 := *a, *b
	a2.ext, b2.ext = nil, nil
	return a2 == b2
}

// Lookup finds an item by any of its identifiers: barcode first, then RFID,
// asset tag and serial number. id is normalized here.
func (x *Index) Lookup(id string) (Ref, bool) {
	id = NormalizeID(id)
	x.mu.RLock()
	defer x.mu.RUnlock()
	if _, ref := x.find(id); ref != NoRef {
		return ref, true
	}
	for _, m := range []map[string]Ref{x.rfid, x.asset, x.serial} {
		if ref, ok := m[id]; ok {
			return ref, true
		}
	}
	return NoRef, false
}

// Get returns the item with this identifier.
func (x *Index) Get(id string) (Item, bool) {
	ref, ok := x.Lookup(id)
	if !ok {
		return Item{}, false
	}
	return x.Item(ref), true
}

// Item returns a copy of the item at ref.
func (x *Index) Item(ref Ref) Item {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.item(ref)
}

// SortKey returns the call-number sort key of the item at ref.
func (x *Index) SortKey(ref Ref) string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.recs[ref].sortKey
}

// SortKeyOf returns the call-number sort key of the item with this barcode,
// "" when there is none.
func (x *Index) SortKeyOf(barcode string) string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if _, ref := x.find(NormalizeID(barcode)); ref != NoRef {
		return x.recs[ref].sortKey
	}
	return ""
}

// Barcode returns the barcode of the item at ref.
func (x *Index) Barcode(ref Ref) string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.recs[ref].barcode
}

// Each calls fn for every item, in no particular order, under a read lock:
// fn must not call back into the index for writing.
func (x *Index) Each(fn func(Ref, *Item) bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var it Item
	for i := range x.recs {
		if !x.recs[i].live {
			continue
		}
		it = x.item(Ref(i))
		if !fn(Ref(i), &it) {
			return
		}
	}
}

// EachUnless is Each over the items for which skip(barcode) is false; it
// builds an Item only for those, so a pass that skips most items (the
// seen ones, at finalize) stays cheap.
func (x *Index) EachUnless(skip func(barcode string) bool, fn func(Ref, *Item) bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var it Item
	for i := range x.recs {
		if !x.recs[i].live || skip(x.recs[i].barcode) {
			continue
		}
		it = x.item(Ref(i))
		if !fn(Ref(i), &it) {
			return
		}
	}
}

// Barcodes returns every barcode, sorted.
func (x *Index) Barcodes() []string {
	x.mu.RLock()
	out := make([]string, 0, x.n)
	for i := range x.recs {
		if x.recs[i].live {
			out = append(out, x.recs[i].barcode)
		}
	}
	x.mu.RUnlock()
	sort.Strings(out)
	return out
}

// Container returns the items that belong in the named cart or kit.
func (x *Index) Container(name string) []Item {
	x.mu.RLock()
	defer x.mu.RUnlock()
	id, ok := x.pool.ids[NormalizeID(name)]
	if !ok {
		return nil
	}
	refs := x.containers[id]
	out := make([]Item, len(refs))
	for i, r := range refs {
		out[i] = x.item(r)
	}
	return out
}

// Containers lists the names of all carts and kits, sorted.
func (x *Index) Containers() []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]string, 0, len(x.containers))
	for id, refs := range x.containers {
		if len(refs) > 0 {
			out = append(out, x.pool.strs[id])
		}
	}
	sort.Strings(out)
	return out
}

func (x *Index) pack(it Item, key string) rec {
	r := rec{
		barcode: it.Barcode, title: it.Title, author: it.Author, callNumber: it.CallNumber,
		sortKey:  key,
		library:  x.pool.intern(it.Library),
		location: x.pool.intern(it.Location), collection: x.pool.intern(it.Collection),
		itemType: x.pool.intern(it.ItemType), container: x.pool.intern(NormalizeID(it.Container)),
		due: toDays(it.DueDate), seen: toDays(it.LastSeen), price: it.Price,
		status: it.Status, hold: it.HoldWaiting, live: true, year: int16(it.Year),
	}
	if it.Kind == KindEquipment {
		r.kind = 1
	}
	if it.RFID != "" || it.AssetTag != "" || it.Serial != "" {
		r.ext = &recExt{NormalizeID(it.RFID), NormalizeID(it.AssetTag), NormalizeID(it.Serial)}
	}
	return r
}

func (x *Index) item(ref Ref) Item {
	r := &x.recs[ref]
	it := Item{
		Barcode: r.barcode, Title: r.title, Author: r.author, CallNumber: r.callNumber,
		Library: x.pool.strs[r.library], Location: x.pool.strs[r.location],
		Collection: x.pool.strs[r.collection], ItemType: x.pool.strs[r.itemType],
		Container: x.pool.strs[r.container], DueDate: fromDays(r.due), LastSeen: fromDays(r.seen),
		Price: r.price, Status: r.status, Kind: KindBook, HoldWaiting: r.hold, Year: int(r.year),
	}
	if r.kind == 1 {
		it.Kind = KindEquipment
	}
	if e := r.ext; e != nil {
		it.RFID, it.AssetTag, it.Serial = e.rfid, e.asset, e.serial
	}
	return it
}

// strPool interns the few distinct values of repeated fields. Id 0 is "".
type strPool struct {
	strs []string
	ids  map[string]uint32
}

func (p *strPool) init() {
	p.strs = []string{""}
	p.ids = map[string]uint32{"": 0}
}

func (p *strPool) intern(s string) uint32 {
	if id, ok := p.ids[s]; ok {
		return id
	}
	id := uint32(len(p.strs))
	p.strs = append(p.strs, strings.Clone(s))
	p.ids[s] = id
	return id
}

func toDays(t time.Time) int32 {
	if t.IsZero() {
		return 0
	}
	y, m, d := t.Date()
	return int32(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func fromDays(d int32) time.Time {
	if d == 0 {
		return time.Time{}
	}
	return time.Unix(int64(d)*86400, 0).UTC()
}
