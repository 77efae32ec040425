package catalog

// Publication years, for the collection report's ages.

// Years outside this range are typing errors ("0", "9999", a price), not
// publication dates.
const (
	minYear = 1000
	maxYear = 2999
)

// FirstYear returns the first run of exactly four digits in s that is a
// plausible year: "c1998." → 1998, "[2004]" → 2004, "©2011" → 2011,
// "1998, c1997" → 1998, "p1983" → 1983. Partial dates such as "[199-?]" or
// "19--" and roman numerals give 0: the year is unknown.
func FirstYear(s string) int {
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j-i == 4 {
			y := int(s[i]-'0')*1000 + int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')
			if y >= minYear && y <= maxYear {
				return y
			}
		}
		i = j
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// year008 reads the publication year from a MARC 21 bibliographic 008
// (Library of Congress, MARC 21 Format for Bibliographic Data, 008 - All
// Materials, https://www.loc.gov/marc/bibliographic/bd008a.html):
//
//   - 008/06, Type of date/Publication status, says what 008/07-10 (Date 1)
//     holds. b (no dates given; B.C. date involved) and n (dates unknown)
//     leave it blank, and | (no attempt to code) leaves it unfilled: no
//     year. Every other code puts a year there: s single known/probable
//     date, t publication date (copyright date in Date 2), r the date of
//     the reprint or reissue (the copy on the shelf; the original's is Date
//     2), e detailed date, p date of distribution/release, q the earliest
//     possible date, m i k c d u the first or beginning date.
//   - "Missing digits in the date are represented by the character u"
//     ("199u", "19uu"). A known decade ("199u") returns its middle year
//     (1995) with exact false, so that a 260/264 $c year can be preferred;
//     an unknown decade ("19uu", "uuuu") or blanks or fill characters in
//     Date 1 give no year.
func year008(f string) (year int, exact bool) {
	if len(f) < 11 {
		return 0, false
	}
	switch f[6] {
	case 'b', 'n', '|', ' ':
		return 0, false
	}
	d := f[7:11]
	if !isDigit(d[0]) || !isDigit(d[1]) || !isDigit(d[2]) {
		return 0, false
	}
	y := int(d[0]-'0')*1000 + int(d[1]-'0')*100 + int(d[2]-'0')*10
	switch {
	case isDigit(d[3]):
		y += int(d[3] - '0')
		exact = true
	case d[3] == 'u':
		y += 5
	default:
		return 0, false
	}
	if y < minYear || y > maxYear {
		return 0, false
	}
	return y, exact
}
