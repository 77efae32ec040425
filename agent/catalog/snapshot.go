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

// A snapshot is the packed index as a file, so that start-up reads one
// file instead of scanning a million SQLite rows through cgo. The layout
// (all integers little-endian or varints):
//
//	"TALLYIDX" | version u32 | len(stamp) u32 | stamp | items u32 |
//	pool size u32 | pool strings | records | CRC-32C of all before u32
//
// The stamp is the caller's: what the snapshot was taken from (the store
// puts its database id and change counters there) so that a stale snapshot
// can be told from a current one. A record holds its strings inline and
// its repeated values (library, location…) as ids into the pool.
const (
	snapMagic   = "TALLYIDX"
	snapVersion = 1
)

var snapCRC = crc32.MakeTable(crc32.Castagnoli)

// ErrSnapshot wraps every reason a snapshot cannot be used: the caller
// rebuilds the index from its source then.
var ErrSnapshot = errors.New("index snapshot unusable")

// WriteSnapshot writes the index with stamp to w.
func (x *Index) WriteSnapshot(w io.Writer, stamp []byte) error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	h := crc32.New(snapCRC)
	bw := bufio.NewWriterSize(io.MultiWriter(w, h), 1<<16)
	var tmp [binary.MaxVarintLen64]byte
	u32 := func(v uint32) { bw.Write(binary.LittleEndian.AppendUint32(tmp[:0], v)) }
	uv := func(v uint64) { bw.Write(binary.AppendUvarint(tmp[:0], v)) }
	sv := func(v int64) { bw.Write(binary.AppendVarint(tmp[:0], v)) }
	str := func(s string) { uv(uint64(len(s))); bw.WriteString(s) }

	bw.WriteString(snapMagic)
	u32(snapVersion)
	u32(uint32(len(stamp)))
	bw.Write(stamp)
	u32(uint32(x.n))
	u32(uint32(len(x.pool.strs) - 1)) // id 0 is always ""
	for _, s := range x.pool.strs[1:] {
		str(s)
	}
	for i := range x.recs {
		r := &x.recs[i]
		if r.flags&fLive == 0 {
			continue
		}
		it := x.item(Ref(i))
		var flags byte
		if it.Kind == KindEquipment {
			flags |= 1
		}
		if it.HoldWaiting {
			flags |= 2
		}
		if r.flags&fExt != 0 {
			flags |= 4
		}
		bw.WriteByte(flags)
		for _, s := range [...]string{it.Barcode, it.Title, it.Author, it.CallNumber, x.str(r, sKey), string(it.Status)} {
			str(s)
		}
		for _, id := range [...]uint32{r.lib, r.loc, r.coll, r.itype, r.cont} {
			uv(uint64(id))
		}
		sv(int64(r.due))
		sv(int64(r.seen))
		sv(it.Price)
		sv(int64(r.year))
		if r.flags&fExt != 0 {
			str(it.RFID)
			str(it.AssetTag)
			str(it.Serial)
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

// SnapshotStamp returns the stamp of a snapshot after checking its
// checksum, without decoding the items.
func SnapshotStamp(data []byte) ([]byte, error) {
	d, err := openSnapshot(data)
	if err != nil {
		return nil, err
	}
	return d.stamp, nil
}

// ReadSnapshot decodes a snapshot. The index's strings share data's
// memory: the caller must not change data afterwards. Any damage —
// truncation, a flipped bit, another version — is an error wrapping
// ErrSnapshot that says what was wrong and at which byte.
func ReadSnapshot(data []byte) (*Index, []byte, error) {
	d, err := openSnapshot(data)
	if err != nil {
		return nil, nil, err
	}
	x := NewIndex(d.items)
	pool := d.u32()
	if d.err == nil && uint64(pool) > uint64(len(d.s)-d.off) {
		d.fail("pool of %d strings in a file of %d bytes", pool, len(data))
	}
	for i := uint32(0); i < pool && d.err == nil; i++ {
		s := d.str()
		if _, dup := x.pool.ids[s]; dup || s == "" {
			d.fail("pool string %q twice", s)
			break
		}
		x.pool.strs = append(x.pool.strs, s)
		x.pool.ids[s] = uint32(len(x.pool.strs) - 1)
	}
	np := uint64(len(x.pool.strs))
	for i := 0; i < d.items && d.err == nil; i++ {
		at := d.off
		flags := d.byte()
		it := Item{Kind: KindBook, HoldWaiting: flags&2 != 0}
		if flags&1 != 0 {
			it.Kind = KindEquipment
		}
		it.Barcode, it.Title, it.Author, it.CallNumber = d.str(), d.str(), d.str(), d.str()
		key := d.str()
		it.Status = Status(d.str())
		ids := [5]uint64{d.uv(), d.uv(), d.uv(), d.uv(), d.uv()}
		for _, id := range ids {
			if id >= np {
				d.fail("item at byte %d names pool string %d of %d", at, id, np)
			}
		}
		if d.err != nil {
			break
		}
		p := x.pool.strs
		it.Library, it.Location, it.Collection, it.ItemType, it.Container = p[ids[0]], p[ids[1]], p[ids[2]], p[ids[3]], p[ids[4]]
		it.DueDate, it.LastSeen, it.Price, it.Year = fromDays(int32(d.sv())), fromDays(int32(d.sv())), d.sv(), int(int16(d.sv()))
		if flags&4 != 0 {
			it.RFID, it.AssetTag, it.Serial = d.str(), d.str(), d.str()
		}
		if flags&^7 != 0 {
			d.fail("item at byte %d has unknown flags %#x", at, flags)
		}
		if d.err != nil {
			break
		}
		if it.Barcode == "" || NormalizeID(it.Barcode) != it.Barcode {
			d.fail("item at byte %d has barcode %q, not a normalized one", at, it.Barcode)
			break
		}
		if _, ch := x.putKeyed(it, key); ch != Added {
			d.fail("barcode %q twice (byte %d)", it.Barcode, at)
			break
		}
	}
	if d.err == nil && d.off != len(d.s) {
		d.fail("%d bytes after the last item", len(d.s)-d.off)
	}
	if d.err != nil {
		return nil, nil, d.err
	}
	return x, d.stamp, nil
}

// snapDecoder reads a snapshot's body; the first error sticks.
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
		return nil, bad("version %d, this tally reads version %d", v, snapVersion)
	}
	n := d.u32()
	if uint64(n) > uint64(len(d.s)-d.off) {
		return nil, bad("stamp of %d bytes at byte %d overruns the file", n, d.off)
	}
	d.stamp = []byte(d.s[d.off : d.off+int(n)])
	d.off += int(n)
	items := d.u32()
	// Each item takes at least 17 bytes: bounds the allocation NewIndex makes.
	if d.err == nil && uint64(items)*17 > uint64(len(d.s)) {
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

func (d *snapDecoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.s) {
		d.fail("cut short at byte %d", d.off)
		return 0
	}
	d.off++
	return d.s[d.off-1]
}

func (d *snapDecoder) uv() uint64 {
	if d.err != nil {
		return 0
	}
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		if d.off >= len(d.s) {
			d.fail("cut short at byte %d", d.off)
			return 0
		}
		c := d.s[d.off]
		d.off++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
	d.fail("varint too long at byte %d", d.off)
	return 0
}

func (d *snapDecoder) sv() int64 {
	u := d.uv()
	return int64(u>>1) ^ -int64(u&1)
}

func (d *snapDecoder) str() string {
	n := d.uv()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.s)-d.off) {
		d.fail("string of %d bytes at byte %d overruns the file", n, d.off)
		return ""
	}
	s := d.s[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}
