package catalog

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"unsafe"
)

// A snapshot is the index as a file, laid out as the index lies in memory,
// so that start-up reads one file instead of scanning a million SQLite rows
// through cgo, and decoding it is a checksum, a loop over fixed-width
// records and rebuilding the hash table: the items' strings are the file's
// own bytes (the arena's chunks), nothing is copied or normalized again.
// All integers are little-endian:
//
//	"TALLYIDX" | version u32 | len(stamp) u32 | stamp | items u32 |
//	pool: count u32, then len u32 + bytes each |
//	chunks: count u32, then each one's length u32 |
//	side identifiers: count u32, then ref u32 + rfid, asset tag, serial (len u32 + bytes) each |
//	odd statuses: count u32, then ref u32 + status (len u32 + bytes) each |
//	records: items × snapRec bytes | arena: the chunks' bytes back to back |
//	CRC-32C of all before u32
//
// A record is a rec without its inline barcode bytes (taken again from the
// arena) plus the price: off u32, the five string lengths u16, library,
// location, collection, item type and container pool ids u32, due and seen
// days i32, year i16, status code u8, flags u8, price i64. Refs are the
// records' order. The stamp is the caller's: what the snapshot was taken
// from (the store puts its database id and change counters there) so that a
// stale snapshot can be told from a current one.
const (
	snapMagic   = "TALLYIDX"
	snapVersion = 2
	snapRec     = 4 + 2*nStr + 4*5 + 4 + 4 + 2 + 1 + 1 + 8
)

var snapCRC = crc32.MakeTable(crc32.Castagnoli)

// ErrSnapshot wraps every reason a snapshot cannot be used: the caller
// rebuilds the index from its source then.
var ErrSnapshot = errors.New("index snapshot unusable")

// WriteSnapshot writes the index with stamp to w. The arena is written
// compacted: strings of removed or changed items are left behind.
func (x *Index) WriteSnapshot(w io.Writer, stamp []byte) error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	h := crc32.New(snapCRC)
	bw := bufio.NewWriterSize(io.MultiWriter(w, h), 1<<16)
	var tmp [snapRec]byte
	u32 := func(v uint32) { bw.Write(binary.LittleEndian.AppendUint32(tmp[:0], v)) }
	str := func(s string) { u32(uint32(len(s))); bw.WriteString(s) }

	// The compacted arena: where each live item's strings go.
	var chunks []uint32
	offs := make([]uint32, 0, x.n)
	for i := range x.recs {
		r := &x.recs[i]
		if r.flags&fLive == 0 {
			continue
		}
		n := uint32(x.strBytes(r))
		if k := len(chunks) - 1; k < 0 || chunks[k]+n > chunkSize {
			chunks = append(chunks, 0)
		}
		k := len(chunks) - 1
		offs = append(offs, uint32(k)<<chunkBits|chunks[k])
		chunks[k] += n
	}

	bw.WriteString(snapMagic)
	u32(snapVersion)
	u32(uint32(len(stamp)))
	bw.Write(stamp)
	u32(uint32(x.n))
	u32(uint32(len(x.pool.strs) - 1)) // id 0 is always ""
	for _, s := range x.pool.strs[1:] {
		str(s)
	}
	u32(uint32(len(chunks)))
	for _, n := range chunks {
		u32(n)
	}
	// Side identifiers and odd statuses, by their item's place in the file.
	for _, pass := range [...]struct {
		flag bool
		n    int
	}{{true, len(x.ext)}, {false, len(x.odd)}} {
		u32(uint32(pass.n))
		j := uint32(0)
		for i := range x.recs {
			r := &x.recs[i]
			if r.flags&fLive == 0 {
				continue
			}
			switch {
			case pass.flag && r.flags&fExt != 0:
				e := x.ext[Ref(i)]
				u32(j)
				str(e.rfid)
				str(e.asset)
				str(e.serial)
			case !pass.flag && r.status == oddStatus:
				u32(j)
				str(string(x.odd[Ref(i)]))
			}
			j++
		}
	}
	j := 0
	for i := range x.recs {
		r := &x.recs[i]
		if r.flags&fLive == 0 {
			continue
		}
		b := binary.LittleEndian.AppendUint32(tmp[:0], offs[j])
		for _, n := range r.n {
			b = binary.LittleEndian.AppendUint16(b, n)
		}
		for _, id := range [...]uint32{r.lib, r.loc, r.coll, r.itype, r.cont} {
			b = binary.LittleEndian.AppendUint32(b, id)
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(r.due))
		b = binary.LittleEndian.AppendUint32(b, uint32(r.seen))
		b = binary.LittleEndian.AppendUint16(b, uint16(r.year))
		b = append(b, r.status, r.flags)
		b = binary.LittleEndian.AppendUint64(b, uint64(x.price[i]))
		bw.Write(b)
		j++
	}
	for i := range x.recs {
		if r := &x.recs[i]; r.flags&fLive != 0 {
			bw.WriteString(x.arena.str(r.off, x.strBytes(r)))
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write index snapshot: %w", err)
	}
	if _, err := w.Write(binary.LittleEndian.AppendUint32(nil, h.Sum32())); err != nil {
		return fmt.Errorf("write index snapshot: %w", err)
	}
	return nil
}

// Snapshot is a snapshot whose checksum and version were checked: its
// stamp can be read before its items are decoded, without checking the
// whole file a second time.
type Snapshot struct {
	d    *snapDecoder
	data []byte
}

// OpenSnapshot checks a snapshot's checksum and version.
func OpenSnapshot(data []byte) (*Snapshot, error) {
	d, err := openSnapshot(data)
	if err != nil {
		return nil, err
	}
	return &Snapshot{d, data}, nil
}

// Stamp is the stamp the snapshot was written with.
func (s *Snapshot) Stamp() []byte { return s.d.stamp }

// Index decodes the snapshot's items, as ReadSnapshot does.
func (s *Snapshot) Index() (*Index, error) {
	x, _, err := s.d.decode(s.data)
	return x, err
}

// ReadSnapshot decodes a snapshot. The index's strings share data's
// memory: the caller must not change data afterwards (the index never
// writes to it). Any damage — truncation, a flipped bit, another version —
// is an error wrapping ErrSnapshot that says what was wrong and at which
// byte.
func ReadSnapshot(data []byte) (*Index, []byte, error) {
	d, err := openSnapshot(data)
	if err != nil {
		return nil, nil, err
	}
	return d.decode(data)
}

// decode reads the items after openSnapshot has checked the file.
func (d *snapDecoder) decode(data []byte) (*Index, []byte, error) {
	x := NewIndex(0)
	items := d.items
	x.slots = make([]slot, tableSize(items))

	pool := d.u32()
	if d.err == nil && uint64(pool) > uint64(len(d.s)-d.off)/4 {
		d.fail("pool of %d strings at byte %d in a file of %d bytes", pool, d.off, len(data))
	}
	for i := uint32(0); i < pool && d.err == nil; i++ {
		at := d.off
		s := d.str()
		if _, dup := x.pool.ids[s]; d.err == nil && (dup || s == "") {
			d.fail("pool string %q twice (byte %d)", s, at)
			break
		}
		x.pool.strs = append(x.pool.strs, s)
		x.pool.ids[s] = uint32(len(x.pool.strs) - 1)
	}
	np := uint32(len(x.pool.strs))

	nchunks := d.u32()
	if d.err == nil && uint64(nchunks) > uint64(len(d.s)-d.off)/4 {
		d.fail("%d arena chunks at byte %d in a file of %d bytes", nchunks, d.off, len(data))
	}
	lens := make([]uint32, 0, min(nchunks, 1<<10))
	arenaLen := 0
	for i := uint32(0); i < nchunks && d.err == nil; i++ {
		at := d.off
		n := d.u32()
		if n > chunkSize || n == 0 && d.err == nil {
			d.fail("arena chunk %d of %d bytes (byte %d)", i, n, at)
		}
		lens = append(lens, n)
		arenaLen += int(n)
	}

	type side struct {
		ref uint32
		e   recExt
	}
	type odd struct {
		ref uint32
		s   Status
	}
	var sides []side
	var odds []odd
	for _, pass := range [...]string{"side identifiers", "odd statuses"} {
		n := d.u32()
		if d.err == nil && uint64(n) > uint64(items) {
			d.fail("%d %s for %d items (byte %d)", n, pass, items, d.off-4)
		}
		for i := uint32(0); i < n && d.err == nil; i++ {
			at := d.off
			ref := d.u32()
			if d.err == nil && ref >= uint32(items) {
				d.fail("%s at byte %d name item %d of %d", pass, at, ref, items)
			}
			if pass == "odd statuses" {
				s := Status(d.str())
				if d.err == nil && statusCode(s) != oddStatus {
					d.fail("odd status %q at byte %d", s, at)
				}
				odds = append(odds, odd{ref, s})
				continue
			}
			e := recExt{d.str(), d.str(), d.str()}
			for _, id := range [...]string{e.rfid, e.asset, e.serial} {
				if d.err == nil && NormalizeID(id) != id {
					d.fail("identifier %q at byte %d is not a normalized one", id, at)
				}
			}
			if d.err == nil && e == (recExt{}) {
				d.fail("empty side identifiers at byte %d", at)
			}
			sides = append(sides, side{ref, e})
		}
	}

	recAt := d.off
	if d.err == nil && (len(d.s)-d.off)/snapRec < items {
		d.fail("%d items of %d bytes at byte %d overrun the file", items, snapRec, d.off)
	}
	if d.err == nil && len(d.s)-d.off-items*snapRec != arenaLen {
		d.fail("%d bytes after the items, the chunks say %d", len(d.s)-d.off-items*snapRec, arenaLen)
	}
	if d.err != nil {
		return nil, nil, d.err
	}
	// The arena is the file: a chunk's capacity ends where it does, so
	// strings added later never write into it.
	pos := recAt + items*snapRec
	x.arena.chunks = make([][]byte, len(lens))
	for i, n := range lens {
		x.arena.chunks[i] = data[pos : pos+int(n) : pos+int(n)]
		pos += int(n)
	}

	x.recs = make([]rec, items)
	x.price = make([]int64, items)
	keys := make([]slot, items)
	le := binary.LittleEndian
	for i := range items {
		at := recAt + i*snapRec
		b := data[at : at+snapRec]
		r := &x.recs[i]
		r.off = le.Uint32(b)
		for j := range r.n {
			r.n[j] = le.Uint16(b[4+2*j:])
		}
		b = b[4+2*nStr:]
		r.lib, r.loc, r.coll, r.itype, r.cont = le.Uint32(b), le.Uint32(b[4:]), le.Uint32(b[8:]), le.Uint32(b[12:]), le.Uint32(b[16:])
		r.due, r.seen, r.year = int32(le.Uint32(b[20:])), int32(le.Uint32(b[24:])), int16(le.Uint16(b[28:]))
		r.status, r.flags = b[30], b[31]
		x.price[i] = int64(le.Uint64(b[32:]))
		if msg := x.checkRec(r, np); msg != "" {
			d.fail("item %d at byte %d: %s", i, at, msg)
			return nil, nil, d.err
		}
		bc := x.str(r, sBarcode)
		copy(r.bc[:], bc)
		keys[i] = slot{h: x.hash(bc), ref: uint32(i + 1), off: r.off}
		if r.cont != 0 {
			x.containers[r.cont] = append(x.containers[r.cont], Ref(i))
		}
	}
	if ref, ok := x.fill(keys); !ok {
		d.fail("barcode %q twice (item %d at byte %d)", x.str(&x.recs[ref], sBarcode), ref, recAt+int(ref)*snapRec)
		return nil, nil, d.err
	}
	x.n = items
	for _, s := range sides {
		ref := Ref(s.ref)
		if _, dup := x.ext[ref]; dup || x.recs[ref].flags&fExt == 0 {
			d.fail("side identifiers for item %d, which has none or has them twice", ref)
			return nil, nil, d.err
		}
		x.ext[ref] = s.e
		x.linkIDs(ref, s.e)
	}
	for _, o := range odds {
		ref := Ref(o.ref)
		if _, dup := x.odd[ref]; dup || x.recs[ref].status != oddStatus {
			d.fail("odd status for item %d, which has none or has it twice", ref)
			return nil, nil, d.err
		}
		x.odd[ref] = o.s
	}
	var ne, no int
	for i := range x.recs {
		if x.recs[i].flags&fExt != 0 {
			ne++
		}
		if x.recs[i].status == oddStatus {
			no++
		}
	}
	if ne != len(x.ext) || no != len(x.odd) {
		d.fail("%d items with side identifiers and %d with odd statuses, the file lists %d and %d", ne, no, len(x.ext), len(x.odd))
		return nil, nil, d.err
	}
	return x, d.stamp, nil
}

// fill puts the slots of a new index into its empty table. Inserting them
// in the order of their records would take a cache miss per item; sorted
// first by the region of the table they go to (one counting-sort pass),
// each region's inserts stay within the processor's cache. It returns the
// Ref of a barcode found twice.
func (x *Index) fill(keys []slot) (Ref, bool) {
	mask := len(x.slots) - 1
	shift := 0
	for len(x.slots)>>shift > 1<<10 {
		shift++
	}
	var count [1<<10 + 1]int
	for _, k := range keys {
		count[int(k.h)&mask>>shift+1]++
	}
	for i := 1; i < len(count); i++ {
		count[i] += count[i-1]
	}
	sorted := make([]slot, len(keys))
	for _, k := range keys {
		b := int(k.h) & mask >> shift
		sorted[count[b]] = k
		count[b]++
	}
	for _, k := range sorted {
		i := int(k.h) & mask
		for ; x.slots[i].ref != 0; i = (i + 1) & mask {
			if s := x.slots[i]; s.h == k.h && x.str(&x.recs[s.ref-1], sBarcode) == x.str(&x.recs[k.ref-1], sBarcode) {
				return Ref(k.ref - 1), false
			}
		}
		x.slots[i] = k
	}
	return NoRef, true
}

// checkRec says what is wrong with a decoded rec, "" when nothing: its
// flags, status, pool ids and strings must be ones the writer makes.
func (x *Index) checkRec(r *rec, np uint32) string {
	if r.flags&fLive == 0 || r.flags&^(fLive|fEquip|fHold|fExt) != 0 {
		return fmt.Sprintf("flags %#x", r.flags)
	}
	if r.status > uint8(len(Statuses)) && r.status != oddStatus {
		return fmt.Sprintf("status code %d", r.status)
	}
	for _, id := range [...]uint32{r.lib, r.loc, r.coll, r.itype, r.cont} {
		if id >= np {
			return fmt.Sprintf("pool string %d of %d", id, np)
		}
	}
	k := int(r.off >> chunkBits)
	if k >= len(x.arena.chunks) || int(r.off&(chunkSize-1))+x.strBytes(r) > len(x.arena.chunks[k]) {
		return fmt.Sprintf("strings at arena offset %#x overrun their chunk", r.off)
	}
	if bc := x.str(r, sBarcode); !normalASCII(bc) && (bc == "" || NormalizeID(bc) != bc) {
		return fmt.Sprintf("barcode %q is not a normalized one", bc)
	}
	return ""
}

// normalASCII reports, without NormalizeID's work, whether s is a
// non-empty ASCII identifier NormalizeID leaves as it is.
func normalASCII(s string) bool {
	if s == "" || isSpace(s[0]) || isSpace(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || 'a' <= c && c <= 'z' {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || '\t' <= c && c <= '\r' }

// snapDecoder reads a snapshot's header; the first error sticks.
type snapDecoder struct {
	s     string // the body, without the checksum; shares the file's memory
	off   int
	err   error
	stamp []byte
	items int
}

func openSnapshot(data []byte) (*snapDecoder, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrSnapshot, fmt.Sprintf(format, a...))
	}
	if len(data) < len(snapMagic)+4+4+4+4+4 || string(data[:len(snapMagic)]) != snapMagic {
		return nil, bad("not a tally index snapshot (no %q header)", snapMagic)
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if got := crc32.Checksum(body, snapCRC); got != sum {
		return nil, bad("checksum %08x, the file says %08x: the file is damaged or was cut short", got, sum)
	}
	d := &snapDecoder{s: unsafe.String(unsafe.SliceData(body), len(body)), off: len(snapMagic)}
	if v := d.u32(); v != snapVersion {
		return nil, bad("version %d at byte %d, this tally reads version %d", v, len(snapMagic), snapVersion)
	}
	n := d.u32()
	if uint64(n) > uint64(len(d.s)-d.off) {
		return nil, bad("stamp of %d bytes at byte %d overruns the file", n, d.off)
	}
	d.stamp = []byte(d.s[d.off : d.off+int(n)])
	d.off += int(n)
	items := d.u32()
	// Bounds the allocations before the records are read.
	if d.err == nil && uint64(items)*snapRec > uint64(len(d.s)) {
		return nil, bad("%d items in a file of %d bytes", items, len(data))
	}
	d.items = int(items)
	return d, d.err
}

func (d *snapDecoder) fail(format string, a ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrSnapshot, fmt.Sprintf(format, a...))
	}
}

func (d *snapDecoder) u32() uint32 {
	if d.err != nil {
		return 0
	}
	if len(d.s)-d.off < 4 {
		d.fail("cut short at byte %d", d.off)
		return 0
	}
	b := d.s[d.off : d.off+4]
	v := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
	d.off += 4
	return v
}

func (d *snapDecoder) str() string {
	n := d.u32()
	if d.err != nil {
		return ""
	}
	if uint64(n) > uint64(len(d.s)-d.off) {
		d.fail("string of %d bytes at byte %d overruns the file", n, d.off)
		return ""
	}
	s := d.s[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}
