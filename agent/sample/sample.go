// Package sample generates a realistic school library collection — books
// across Dewey, fiction, easy, biography and reference shelves, with the
// statuses real catalogs carry, and carts of equipment — for `tally demo`,
// tests and benchmarks. The same seed always gives the same collection.
package sample

import (
	_ "embed"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tally-inventory/tally/agent/callnumber"
	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/drivers/barcode"
)

// Opts shapes a generated collection.
type Opts struct {
	Books       int    // number of books
	Carts       int    // equipment carts
	PerCart     int    // devices per cart
	Library     string // branch code
	Institution string // 4-digit institution code in the barcodes
	Seed        uint64
	Today       time.Time // "now" for due and last-seen dates
}

// DefaultOpts is the demo's collection: 40,000 books and a dozen carts.
var DefaultOpts = Opts{Books: 40000, Carts: 12, PerCart: 30, Library: "MAIN", Institution: "0234", Seed: 1,
	Today: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)}

// censusSurnames is the head of the U.S. Census Bureau's 1990 surname
// list ("Frequently Occurring Names in the U.S. — 1990", dist.all.last: name,
// per cent of people, cumulative per cent, rank), its first 3,000 of 88,799
// lines, as kept in github.com/nullstyle/name-database at
// sources/census-1990/dist.all.last, commit 46d2e01a4953b8f54e8625c9111cf5b372d80b49.
// Authors drawn from it spread over the cutters as on a real shelf: many
// call numbers with a handful of books, a few (SMI, WIL, JOH) with dozens.
//
//go:embed testdata/dist.all.last.top3000
var censusSurnames string

// surnames and their cumulative weights, for a weighted pick.
var surnames, surnameCum = parseSurnames(censusSurnames)

func parseSurnames(s string) ([]string, []float64) {
	var names []string
	var cum []float64
	total := 0.0
	for i, line := range strings.Split(strings.TrimSpace(s), "\n") {
		f := strings.Fields(line)
		if len(f) != 4 {
			panic(fmt.Sprintf("sample: surname table line %d: %d fields, want 4", i+1, len(f)))
		}
		p, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			panic(fmt.Sprintf("sample: surname table line %d: %v", i+1, err))
		}
		total += p
		names = append(names, f[0][:1]+strings.ToLower(f[0][1:]))
		cum = append(cum, total)
	}
	return names, cum
}

// surname picks a surname with the census's frequencies.
func surname(r *rand.Rand) string {
	x := r.Float64() * surnameCum[len(surnameCum)-1]
	return surnames[min(sort.SearchFloat64s(surnameCum, x), len(surnames)-1)]
}

// author is one writer of the generated collection.
type author struct {
	surname string
	initial string
}

// BooksPerAuthor is the mean number of books a section holds per author.
const BooksPerAuthor = 3

var words = []string{"River", "Secret", "Dragon", "Garden", "Ocean", "Star", "Winter", "Forest", "Journey", "Island",
	"Mystery", "Shadow", "Light", "Mountain", "City", "Friend", "Storm", "Moon", "Clock", "Bridge", "Planet",
	"Castle", "Whale", "Robot", "Map", "Summer", "Fire", "Voyage", "Kingdom", "Wolf"}

var dewey = []struct {
	class    int
	subjects string
}{
	{0o04, "Computers"}, {133, "The Unexplained"}, {232, "Religions"}, {302, "Society"}, {332, "Money"},
	{398, "Folktales"}, {507, "Science Projects"}, {520, "Astronomy"}, {551, "Weather"}, {567, "Dinosaurs"},
	{581, "Plants"}, {590, "Animals"}, {597, "Fish and Reptiles"}, {599, "Mammals"}, {612, "Human Body"},
	{629, "Cars and Planes"}, {636, "Pets"}, {641, "Cooking"}, {704, "Art"}, {741, "Drawing and Comics"},
	{780, "Music"}, {796, "Sports"}, {808, "Writing"}, {811, "Poetry"}, {910, "Geography"}, {940, "European History"},
	{973, "American History"}, {976, "States"},
}

// pubYear draws a publication year: ages fall off exponentially, with the
// mean age school collections tend to have per section (nonfiction and
// reference older than fiction, easy books in between); one in fifty
// has no year, as records without 008 or 260 do.
func pubYear(r *rand.Rand, today time.Time, prefix string) int {
	mean := map[string]float64{"": 17, "REF": 15, "B": 14, "E": 11}[prefix]
	if mean == 0 {
		mean = 9
	}
	if r.IntN(50) == 0 {
		return 0
	}
	return today.Year() - min(int(r.ExpFloat64()*mean), 70)
}

// Section is a shelving location of the generated library.
type Section struct {
	Location string
	Prefix   string // call-number prefix
	Share    float64
}

// Sections of the generated library and their share of the books.
var Sections = []Section{
	{"Fiction", "FIC", 0.30}, {"Easy", "E", 0.15}, {"Nonfiction", "", 0.35}, {"Biography", "B", 0.06},
	{"Reference", "REF", 0.04}, {"Young Adult", "YA FIC", 0.07}, {"Graphic Novels", "GN", 0.03},
}

// Generate returns the collection, books in shelf order within each
// section, then equipment.
func Generate(o Opts) []catalog.Item {
	r := rand.New(rand.NewPCG(o.Seed, o.Seed*7919+1))
	// Publication years from a stream of their own, so that adding them
	// changed nothing else the seed gives.
	ry := rand.New(rand.NewPCG(o.Seed^0x59454152, 1))
	items := make([]catalog.Item, 0, o.Books+o.Carts*o.PerCart)
	seq := 0
	nextBarcode := func() string {
		seq++
		s := fmt.Sprintf("3%s%08d", o.Institution, seq)
		c, _ := barcode.LibraryCheckDigit(s)
		return s + string(c)
	}
	for si, sec := range Sections {
		n := int(float64(o.Books) * sec.Share)
		if si == len(Sections)-1 {
			n = o.Books - len(items)
		}
		start := len(items)
		// The section's authors, each with a handful of books.
		pool := make([]author, max(1, n/BooksPerAuthor))
		for i := range pool {
			pool[i] = author{surname(r), string(rune('A' + r.IntN(26)))}
		}
		for i := 0; i < n; i++ {
			a := pool[r.IntN(len(pool))]
			author, first := a.surname, a.initial
			title := "The " + words[r.IntN(len(words))] + " " + words[r.IntN(len(words))]
			var cn, itype string
			switch sec.Prefix {
			case "":
				d := dewey[r.IntN(len(dewey))]
				title = d.subjects + ": " + title
				cn = fmt.Sprintf("%03d.%d %s", d.class, r.IntN(1000), cutter(author))
				itype = "BK"
			case "B":
				subject := surname(r)
				cn = "B " + cutter(subject)
				title = "The Life of " + first + ". " + subject
				itype = "BK"
			case "REF":
				d := dewey[r.IntN(len(dewey))]
				cn = fmt.Sprintf("REF %03d %s", d.class, cutter(author))
				itype = "REF"
			default:
				cn = sec.Prefix + " " + cutter(author)
				itype = "BK"
				if sec.Prefix == "GN" {
					itype = "GN"
				}
			}
			it := catalog.Item{Title: title, Author: author + ", " + first + ".", CallNumber: cn,
				Library: o.Library, Location: sec.Location, Collection: sec.Location, ItemType: itype,
				Status: catalog.StatusAvailable, Kind: catalog.KindBook, Price: int64(800 + r.IntN(2500)),
				LastSeen: o.Today.AddDate(0, 0, -r.IntN(700)-1), Year: pubYear(ry, o.Today, sec.Prefix)}
			switch x := r.Float64(); {
			case x < 0.04:
				it.Status, it.DueDate = catalog.StatusCheckedOut, o.Today.AddDate(0, 0, r.IntN(21)-7)
			case x < 0.045:
				it.Status = catalog.StatusLost
			case x < 0.048:
				it.Status = catalog.StatusMissing
			case x < 0.050:
				it.Status = catalog.StatusWithdrawn
			case x < 0.053:
				it.Status = catalog.StatusDamaged
			case x < 0.056:
				it.HoldWaiting = true
			}
			items = append(items, it)
		}
		sec := items[start:]
		// Shelf order as shelvers keep it: call number, then author, then title.
		sort.SliceStable(sec, func(a, b int) bool {
			if c := callnumber.Compare(sec[a].CallNumber, sec[b].CallNumber); c != 0 {
				return c < 0
			}
			if sec[a].Author != sec[b].Author {
				return sec[a].Author < sec[b].Author
			}
			return sec[a].Title < sec[b].Title
		})
		for i := range sec {
			sec[i].Barcode = nextBarcode()
		}
	}
	models := []string{"Chromebook 3110", "Chromebook 3110", "Chromebook 3110", "Hotspot MF833", "TI-84 Plus CE"}
	for c := 1; c <= o.Carts; c++ {
		cart := fmt.Sprintf("CART-%02d", c)
		model := models[(c-1)%len(models)]
		for d := 1; d <= o.PerCart; d++ {
			tag := fmt.Sprintf("DAB-%02d%02d", c, d)
			it := catalog.Item{Barcode: tag, AssetTag: tag, Serial: fmt.Sprintf("SN%X%05d", c, r.IntN(100000)),
				Title: model + " #" + fmt.Sprint(d), ItemType: model, Library: o.Library, Location: "Tech Room",
				Status: catalog.StatusAvailable, Kind: catalog.KindEquipment, Container: cart,
				Price: 25900, RFID: fmt.Sprintf("E280%04X%016X", c*100+d, r.Uint64())}
			if r.Float64() < 0.03 {
				it.Status = catalog.StatusInRepair
			}
			items = append(items, it)
		}
	}
	return items
}

// cutter makes a school-style three-letter cutter from a surname.
func cutter(name string) string {
	b := []rune(name)
	if len(b) > 3 {
		b = b[:3]
	}
	out := make([]rune, len(b))
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		out[i] = c
	}
	return string(out)
}

// WalkOpts says what mistakes a simulated walk along a section makes.
type WalkOpts struct {
	Skip      float64 // share of books not on the shelf (they will be missing)
	Misshelve int     // books moved somewhere else in the section
	Strays    int     // books from other sections found here
	Unknown   int     // barcodes not in the catalog
	Misreads  int     // barcodes with one digit wrong (fail the check digit)
	Rescans   int     // the same book scanned twice in a row
	// Swaps: two neighbouring books of different call numbers shelved the
	// wrong way round (within one call number it is no mistake). Drawn
	// last, so a walk without them is the same as before they existed.
	Swaps int
	Seed  uint64
}

// DefaultWalk is a realistic day at the shelf.
var DefaultWalk = WalkOpts{Skip: 0.03, Misshelve: 4, Strays: 3, Unknown: 2, Misreads: 2, Rescans: 3, Seed: 7}

// Walk returns the barcodes a student assistant scans walking a section
// (the items given, in shelf order) with the mistakes of o. others are
// books from elsewhere to stray in.
func Walk(section, others []catalog.Item, o WalkOpts) []string {
	r := rand.New(rand.NewPCG(o.Seed, 17))
	var seq []string
	for _, it := range section {
		if it.Status == catalog.StatusCheckedOut || it.Status == catalog.StatusLost {
			// Mostly not on the shelf; a few are, which is the point of looking.
			if r.Float64() < 0.8 {
				continue
			}
		}
		if r.Float64() < o.Skip {
			continue
		}
		seq = append(seq, it.Barcode)
	}
	move := func(v string) {
		if len(seq) < 10 {
			seq = append(seq, v)
			return
		}
		to := r.IntN(len(seq))
		seq = append(seq[:to], append([]string{v}, seq[to:]...)...)
	}
	for i := 0; i < o.Misshelve && len(seq) > 10; i++ {
		from := r.IntN(len(seq))
		v := seq[from]
		seq = append(seq[:from], seq[from+1:]...)
		move(v)
	}
	for i := 0; i < o.Strays && len(others) > 0; i++ {
		move(others[r.IntN(len(others))].Barcode)
	}
	for i := 0; i < o.Unknown; i++ {
		s := fmt.Sprintf("3%04d%08d", 9000+r.IntN(999), r.IntN(1e8))
		c, _ := barcode.LibraryCheckDigit(s)
		move(s + string(c))
	}
	for i := 0; i < o.Misreads && len(seq) > 0; i++ {
		bc := []byte(seq[r.IntN(len(seq))])
		if len(bc) == 14 {
			p := 5 + r.IntN(8)
			bc[p] = '0' + (bc[p]-'0'+1+byte(r.IntN(8)))%10
			move(string(bc))
		}
	}
	for i := 0; i < o.Rescans && len(seq) > 0; i++ {
		p := r.IntN(len(seq))
		seq = append(seq[:p+1], append([]string{seq[p]}, seq[p+1:]...)...)
	}
	call := map[string]string{}
	if o.Swaps > 0 {
		for _, it := range section {
			call[it.Barcode] = it.CallNumber
		}
	}
	for i := 0; i < o.Swaps && len(seq) > 1; i++ {
		for try := 0; try < 100; try++ {
			p := r.IntN(len(seq) - 1)
			if a, b := call[seq[p]], call[seq[p+1]]; a != "" && b != "" && a != b {
				seq[p], seq[p+1] = seq[p+1], seq[p]
				break
			}
		}
	}
	return seq
}
