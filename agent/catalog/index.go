package catalog

import (
	"hash/maphash"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/tally-inventory/tally/agent/callnumber"
)

// Ref names an item inside an Index. It stays valid until the item is
// removed; removed slots are reused by later additions.
type Ref uint32

// NoRef is the Ref of nothing.
const NoRef Ref = ^Ref(0)

// rec is the fixed-width, pointer-free form of an Item: one cache line
// (64 bytes, see TestRecLayout) holding everything the per-read rules read
// and the first bytes of the barcode, so a lookup that hits touches its
// hash slot and this line only. The item's own strings (barcode, call
// number, sort key, title, author, in that order) lie back to back in the
// index's arena at off; the repeated ones (library, location, collection,
// item type, container) are interned ids into the pool. Having no pointers,
// a million recs cost the garbage collector nothing to scan.
type rec struct {
	bc     [recBC]byte  // the barcode's first bytes, for the probe's compare
	off    uint32       // arena offset of the item's strings
	n      [nStr]uint16 // their lengths
	lib    uint32       // pool ids
	loc    uint32
	coll   uint32
	itype  uint32
	cont   uint32
	due    int32 // days since 1970-01-01, 0 = none
	seen   int32
	year   int16 // publication year, 0 = unknown
	status uint8 // statusCode
	flags  uint8
}

const (
	recBC = 16
	// The item's strings in the arena, in this order.
	sBarcode, sCall, sKey, sTitle, sAuthor, nStr = 0, 1, 2, 3, 4, 5
	maxStr                                       = 1<<16 - 1
)

const (
	fLive  = 1 << iota
	fEquip // Kind equipment
	fHold  // HoldWaiting
	fExt   // has RFID, asset tag or serial (in Index.ext)
)

// oddStatus is the status code of a status outside Statuses (kept in
// Index.odd); 0 is "" and 1… are Statuses in order.
const oddStatus = 255

func statusCode(s Status) uint8 {
	if s == "" {
		return 0
	}
	for i, t := range Statuses {
		if s == t {
			return uint8(i + 1)
		}
	}
	return oddStatus
}

// recExt holds the identifiers most books do not have.
type recExt struct{ rfid, asset, serial string }

// slot is one place of the hash table.
type slot struct {
	h   uint32 // the barcode's hash: its low bits are the home slot, the rest a tag that spares most probes a look at the rec
	ref uint32 // Ref+1, 0 = empty
	// off is the rec's arena offset, so that a lookup fetches the item's
	// strings from memory alongside its rec rather than after it.
	off uint32
	_   uint32
}

// Index is the in-memory collection every read is checked against. Lookups
// are safe from many goroutines; changes take a write lock.
type Index struct {
	mu    sync.RWMutex
	seed  maphash.Seed
	recs  []rec
	price []int64 // beside recs: only reports read it
	free  []Ref
	slots []slot // open addressing over recs by barcode
	n     int
	pool  strPool
	arena arena
	ext   map[Ref]recExt // side identifiers, only for items that have them
	odd   map[Ref]Status // statuses outside Statuses
	// Identifiers other than the barcode, only for items that have them.
	rfid, asset, serial map[string]Ref
	// containers lists the members of each cart (by interned name).
	containers map[uint32][]Ref
}

// NewIndex returns an empty index sized for about n items.
func NewIndex(n int) *Index {
	x := &Index{seed: maphash.MakeSeed(), rfid: map[string]Ref{}, asset: map[string]Ref{},
		serial: map[string]Ref{}, containers: map[uint32][]Ref{}, ext: map[Ref]recExt{}, odd: map[Ref]Status{}}
	x.recs = make([]rec, 0, n)
	x.price = make([]int64, 0, n)
	x.slots = make([]slot, tableSize(n))
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

func (x *Index) hash(barcode string) uint32 {
	return uint32(maphash.String(x.seed, barcode) >> 32)
}

// find returns the slot for barcode and the Ref there (NoRef when empty).
// The caller holds a lock.
func (x *Index) find(barcode string) (int, Ref) {
	i, ref, _ := x.probe(barcode)
	return i, ref
}

// probe is find that also returns the first byte of the item's strings,
// loaded before the rec is compared so the two come from memory together.
func (x *Index) probe(barcode string) (int, Ref, byte) {
	h := x.hash(barcode)
	mask := len(x.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		s := &x.slots[i]
		if s.ref == 0 {
			return i, NoRef, 0
		}
		if s.h == h {
			warm := x.arena.first(s.off)
			if x.isBarcode(Ref(s.ref-1), barcode) {
				return i, Ref(s.ref - 1), warm
			}
		}
	}
}

func (x *Index) isBarcode(ref Ref, bc string) bool {
	r := &x.recs[ref]
	n := int(r.n[sBarcode])
	if n != len(bc) {
		return false
	}
	if n <= recBC {
		return string(r.bc[:n]) == bc
	}
	return string(r.bc[:]) == bc[:recBC] && x.str(r, sBarcode) == bc
}

// str returns one of the item's strings; it shares the arena's memory.
func (x *Index) str(r *rec, i int) string {
	off := r.off
	for j := range i {
		off += uint32(r.n[j])
	}
	return x.arena.str(off, int(r.n[i]))
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
	strs := [nStr]string{clip(it.Barcode), clip(it.CallNumber), clip(key), clip(it.Title), clip(it.Author)}
	it.Barcode = strs[sBarcode]
	if (x.n+1)*2 > len(x.slots) {
		x.grow()
	}
	i, ref := x.find(it.Barcode)
	e, odd := extOf(&it), oddOf(&it)
	if ref != NoRef {
		old := &x.recs[ref]
		nr := x.pack(&it, e)
		if x.sameStrs(old, &strs) {
			nr.off, nr.n = old.off, old.n
		} else {
			x.arena.waste += x.strBytes(old)
			x.setStrs(&nr, &strs)
		}
		nr.bc = old.bc
		if nr == *old && x.price[ref] == it.Price && x.ext[ref] == e && x.odd[ref] == odd {
			return ref, Unchanged
		}
		x.unlinkSide(ref)
		x.recs[ref] = nr
		x.slots[i].off = nr.off
		x.price[ref] = it.Price
		x.linkSide(ref, e, odd)
		return ref, Updated
	}
	r := x.pack(&it, e)
	x.setStrs(&r, &strs)
	copy(r.bc[:], it.Barcode)
	if n := len(x.free); n > 0 {
		ref = x.free[n-1]
		x.free = x.free[:n-1]
		x.recs[ref] = r
		x.price[ref] = it.Price
	} else {
		ref = Ref(len(x.recs))
		x.recs = append(x.recs, r)
		x.price = append(x.price, it.Price)
	}
	x.slots[i] = slot{h: x.hash(it.Barcode), ref: uint32(ref + 1), off: r.off}
	x.n++
	x.linkSide(ref, e, odd)
	return ref, Added
}

// clip cuts a string to the 64 KiB a rec can say, at a character boundary;
// no real title or call number comes near.
func clip(s string) string {
	if len(s) <= maxStr {
		return s
	}
	n := maxStr
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func (x *Index) sameStrs(r *rec, strs *[nStr]string) bool {
	for i := range strs {
		if int(r.n[i]) != len(strs[i]) {
			return false
		}
	}
	for i := range strs {
		if x.str(r, i) != strs[i] {
			return false
		}
	}
	return true
}

func (x *Index) setStrs(r *rec, strs *[nStr]string) {
	for i, s := range strs {
		r.n[i] = uint16(len(s))
	}
	r.off = x.arena.add(strs)
}

func (x *Index) grow() {
	old := x.slots
	x.slots = make([]slot, len(old)*2)
	mask := len(x.slots) - 1
	for _, s := range old {
		if s.ref == 0 {
			continue
		}
		i := int(s.h) & mask
		for x.slots[i].ref != 0 {
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

// Saw records a sighting of the item with this (normalized) barcode: its
// last-seen day and, when status is not "", its new status (which ends a
// loan's due date). Unlike a Put of a copy, it leaves whatever else a
// catalog refresh changed meanwhile alone and touches no strings.
func (x *Index) Saw(barcode string, at time.Time, status Status) {
	x.mu.Lock()
	defer x.mu.Unlock()
	_, ref := x.find(barcode)
	if ref == NoRef {
		return
	}
	r := &x.recs[ref]
	r.seen = toDays(at)
	if status != "" {
		r.status, r.due = statusCode(status), 0
		delete(x.odd, ref)
		if r.status == oddStatus {
			x.odd[ref] = status
		}
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
	x.arena.waste += x.strBytes(&x.recs[ref])
	x.recs[ref] = rec{}
	x.price[ref] = 0
	x.free = append(x.free, ref)
	x.n--
	// Backward-shift deletion keeps probe chains intact without tombstones.
	mask := len(x.slots) - 1
	x.slots[i] = slot{}
	for j := (i + 1) & mask; x.slots[j].ref != 0; j = (j + 1) & mask {
		s := x.slots[j]
		home := int(s.h) & mask
		// Move s into the hole at i when its home is not in (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			x.slots[i] = s
			x.slots[j] = slot{}
			i = j
		}
	}
	return true
}

func (x *Index) strBytes(r *rec) int {
	n := 0
	for _, l := range r.n {
		n += int(l)
	}
	return n
}

func extOf(it *Item) recExt {
	if it.RFID == "" && it.AssetTag == "" && it.Serial == "" {
		return recExt{}
	}
	return recExt{NormalizeID(it.RFID), NormalizeID(it.AssetTag), NormalizeID(it.Serial)}
}

func oddOf(it *Item) Status {
	if statusCode(it.Status) == oddStatus {
		return it.Status
	}
	return ""
}

func (x *Index) linkSide(ref Ref, e recExt, odd Status) {
	r := &x.recs[ref]
	if e != (recExt{}) {
		x.ext[ref] = e
		x.linkIDs(ref, e)
	}
	if odd != "" {
		x.odd[ref] = odd
	}
	if c := r.cont; c != 0 {
		x.containers[c] = append(x.containers[c], ref)
	}
}

func (x *Index) linkIDs(ref Ref, e recExt) {
	for _, kv := range [...]struct {
		m map[string]Ref
		k string
	}{{x.rfid, e.rfid}, {x.asset, e.asset}, {x.serial, e.serial}} {
		if kv.k != "" {
			kv.m[kv.k] = ref
		}
	}
}

func (x *Index) unlinkSide(ref Ref) {
	r := &x.recs[ref]
	if e, ok := x.ext[ref]; ok {
		for _, kv := range [...]struct {
			m map[string]Ref
			k string
		}{{x.rfid, e.rfid}, {x.asset, e.asset}, {x.serial, e.serial}} {
			if kv.k != "" && kv.m[kv.k] == ref {
				delete(kv.m, kv.k)
			}
		}
		delete(x.ext, ref)
	}
	delete(x.odd, ref)
	if c := r.cont; c != 0 {
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

// Lookup finds an item by any of its identifiers: barcode first, then RFID,
// asset tag and serial number. id is normalized here.
func (x *Index) Lookup(id string) (Ref, bool) {
	id = NormalizeID(id)
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.lookup(id)
}

func (x *Index) lookup(id string) (Ref, bool) {
	ref, ok, _ := x.lookupWarm(id)
	return ref, ok
}

func (x *Index) lookupWarm(id string) (Ref, bool, byte) {
	if _, ref, warm := x.probe(id); ref != NoRef {
		return ref, true, warm
	}
	if len(x.ext) > 0 {
		for _, m := range [...]map[string]Ref{x.rfid, x.asset, x.serial} {
			if ref, ok := m[id]; ok {
				return ref, true, 0
			}
		}
	}
	return NoRef, false, 0
}

// Hit is an item as the per-read rules see it (reconcile.Evaluate, the
// scope's Home and Expects), read out of the index without building an
// Item: its strings share the index's memory or its pool, no bytes are
// copied, and nothing is allocated.
type Hit struct {
	Ref                                                Ref
	Barcode, CallNumber, SortKey, Title                string
	Library, Location, Collection, ItemType, Container string
	Status                                             Status
	Kind                                               Kind
	HoldWaiting                                        bool
	DueDay, SeenDay                                    int32 // days since 1970-01-01, 0 = none
	warm                                               byte  // keeps probe's early load of the strings
}

// DueDate is when the item is due back, zero when not on loan.
func (h *Hit) DueDate() time.Time { return fromDays(h.DueDay) }

// LastSeen is the day the item was last seen, zero when never.
func (h *Hit) LastSeen() time.Time { return fromDays(h.SeenDay) }

// Find is Lookup for the read path: id must already be normalized
// (NormalizeID), and what the rules need comes back with the Ref.
func (x *Index) Find(id string) (Hit, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	ref, ok, warm := x.lookupWarm(id)
	if !ok {
		return Hit{Ref: NoRef}, false
	}
	r := &x.recs[ref]
	p := x.pool.strs
	h := Hit{Ref: ref, warm: warm, Library: p[r.lib], Location: p[r.loc], Collection: p[r.coll], ItemType: p[r.itype],
		Container: p[r.cont], Status: x.status(ref, r), Kind: KindBook, HoldWaiting: r.flags&fHold != 0,
		DueDay: r.due, SeenDay: r.seen}
	if r.flags&fEquip != 0 {
		h.Kind = KindEquipment
	}
	off := r.off
	h.Barcode = x.arena.str(off, int(r.n[sBarcode]))
	off += uint32(r.n[sBarcode])
	h.CallNumber = x.arena.str(off, int(r.n[sCall]))
	off += uint32(r.n[sCall])
	h.SortKey = x.arena.str(off, int(r.n[sKey]))
	off += uint32(r.n[sKey])
	h.Title = x.arena.str(off, int(r.n[sTitle]))
	return h, true
}

func (x *Index) status(ref Ref, r *rec) Status {
	switch c := r.status; {
	case c == 0:
		return ""
	case c == oddStatus:
		return x.odd[ref]
	default:
		return Statuses[c-1]
	}
}

// Get returns the item with this identifier.
func (x *Index) Get(id string) (Item, bool) {
	id = NormalizeID(id)
	x.mu.RLock()
	defer x.mu.RUnlock()
	ref, ok := x.lookup(id)
	if !ok {
		return Item{}, false
	}
	return x.item(ref), true
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
	return x.str(&x.recs[ref], sKey)
}

// SortKeyOf returns the call-number sort key of the item with this barcode,
// "" when there is none.
func (x *Index) SortKeyOf(barcode string) string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if _, ref := x.find(NormalizeID(barcode)); ref != NoRef {
		return x.str(&x.recs[ref], sKey)
	}
	return ""
}

// Barcode returns the barcode of the item at ref.
func (x *Index) Barcode(ref Ref) string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.str(&x.recs[ref], sBarcode)
}

// Each calls fn for every item, in no particular order, under a read lock:
// fn must not call back into the index for writing.
func (x *Index) Each(fn func(Ref, *Item) bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var it Item
	for i := range x.recs {
		if x.recs[i].flags&fLive == 0 {
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
		r := &x.recs[i]
		if r.flags&fLive == 0 || skip(x.str(r, sBarcode)) {
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
		if r := &x.recs[i]; r.flags&fLive != 0 {
			out = append(out, x.str(r, sBarcode))
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

// pack fills a rec's fixed fields (not its strings) from an item.
func (x *Index) pack(it *Item, e recExt) rec {
	r := rec{
		lib: x.pool.intern(it.Library), loc: x.pool.intern(it.Location), coll: x.pool.intern(it.Collection),
		itype: x.pool.intern(it.ItemType), cont: x.pool.intern(NormalizeID(it.Container)),
		due: toDays(it.DueDate), seen: toDays(it.LastSeen), year: int16(it.Year),
		status: statusCode(it.Status), flags: fLive,
	}
	if it.Kind == KindEquipment {
		r.flags |= fEquip
	}
	if it.HoldWaiting {
		r.flags |= fHold
	}
	if e != (recExt{}) {
		r.flags |= fExt
	}
	return r
}

func (x *Index) item(ref Ref) Item {
	r := &x.recs[ref]
	p := x.pool.strs
	it := Item{
		Barcode: x.str(r, sBarcode), Title: x.str(r, sTitle), Author: x.str(r, sAuthor), CallNumber: x.str(r, sCall),
		Library: p[r.lib], Location: p[r.loc], Collection: p[r.coll], ItemType: p[r.itype],
		Container: p[r.cont], DueDate: fromDays(r.due), LastSeen: fromDays(r.seen),
		Price: x.price[ref], Status: x.status(ref, r), Kind: KindBook, HoldWaiting: r.flags&fHold != 0, Year: int(r.year),
	}
	if r.flags&fEquip != 0 {
		it.Kind = KindEquipment
	}
	if r.flags&fExt != 0 {
		e := x.ext[ref]
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

// arena holds the items' strings back to back in chunks of at most 16 MiB:
// an offset's high bits name the chunk, its low bits the place in it. Bytes
// once written never change (a changed item's strings are written anew), so
// the strings handed out stay valid; a chunk may be the snapshot file's
// own memory.
type arena struct {
	chunks [][]byte
	waste  int // bytes of removed or replaced strings, dropped when a snapshot is written
}

const (
	chunkBits = 24
	chunkSize = 1 << chunkBits
)

func (a *arena) str(off uint32, n int) string {
	if n == 0 {
		return ""
	}
	c := a.chunks[off>>chunkBits]
	o := int(off & (chunkSize - 1))
	return unsafe.String(&c[o : o+n][0], n)
}

func (a *arena) size() int {
	n := 0
	for _, c := range a.chunks {
		n += len(c)
	}
	return n
}

// first returns the byte at off, or 0 past the end.
func (a *arena) first(off uint32) byte {
	c := a.chunks[off>>chunkBits]
	if o := int(off & (chunkSize - 1)); o < len(c) {
		return c[o]
	}
	return 0
}

// add appends the strings and returns the offset of the first.
func (a *arena) add(strs *[nStr]string) uint32 {
	n := 0
	for _, s := range strs {
		n += len(s)
	}
	k := len(a.chunks) - 1
	if k < 0 || len(a.chunks[k])+n > chunkSize {
		a.chunks = append(a.chunks, nil)
		k++
	}
	c := a.chunks[k]
	if cap(c)-len(c) < n {
		// Grown by hand to at most a chunk: strings already handed out keep
		// the old array alive and unchanged.
		nc := make([]byte, len(c), min(max(2*cap(c), len(c)+n, 1<<12), chunkSize))
		copy(nc, c)
		c = nc
	}
	off := uint32(k)<<chunkBits | uint32(len(c))
	for _, s := range strs {
		c = append(c, s...)
	}
	a.chunks[k] = c
	return off
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
