// Package weed chooses items for weeding review by rules a librarian sets:
// a call-number range, an age, no checkout since a day, a condition. The
// rules follow the CREW method's formula (Texas State Library and Archives
// Commission, "CREW: A Weeding Manual for Modern Libraries"): per part of
// the collection, years since publication and years without a checkout,
// with MUSTIE's factors (Misleading, Ugly, Superseded, Trivial, Irrelevant,
// Elsewhere) judged by the librarian once the book is in hand. The result
// is a pull list with a reason per item; nothing is withdrawn.
package weed

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tally-inventory/tally/agent/callnumber"
	"github.com/tally-inventory/tally/agent/catalog"
)

// Rules choose items; every rule set must hold (CREW's "X years old and
// Y years without a checkout"). The zero Rules choose nothing.
type Rules struct {
	// CallFrom–CallTo is a call-number range in shelf order (see
	// callnumber.NewRange): "000"–"099" is the 000s, "599" includes
	// "599.75 ROW". Either end may be open.
	CallFrom, CallTo string
	// PublishedBefore chooses items published before this year.
	PublishedBefore int
	// NotCirculatedSince chooses items whose last checkout was before this
	// day. Items whose last checkout is unknown are not chosen: the export
	// may simply not carry it (see Counts.NoLastCheckout).
	NotCirculatedSince time.Time
	// Conditions chooses items whose condition is one of these (case does
	// not matter); "damaged" also chooses items with the damaged status.
	Conditions []string
}

// Empty reports whether no rule is set (the range alone is not a rule: it
// says where, not what).
func (r Rules) Empty() bool {
	return r.PublishedBefore == 0 && r.NotCirculatedSince.IsZero() && len(r.Conditions) == 0
}

// ParseCallRange reads "000-099" (or "FIC A..FIC C" when the call numbers
// have hyphens) into its ends; "500-" and "-599" leave one end open.
func ParseCallRange(s string) (from, to string, err error) {
	s = strings.TrimSpace(s)
	if a, b, ok := strings.Cut(s, ".."); ok {
		return strings.TrimSpace(a), strings.TrimSpace(b), nil
	}
	if strings.Count(s, "-") != 1 {
		return "", "", fmt.Errorf("call-number range %q: write it as FROM-TO (e.g. 000-099), or FROM..TO when the call numbers have hyphens", s)
	}
	a, b, _ := strings.Cut(s, "-")
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if a == "" && b == "" {
		return "", "", fmt.Errorf("call-number range %q has neither end", s)
	}
	return a, b, nil
}

// OlderThan turns "older than n years" into PublishedBefore as of now:
// published more than n whole years before this year.
func OlderThan(n int, now time.Time) int { return now.Year() - n }

// ParseYear reads a four-digit year for --published-before.
func ParseYear(s string) (int, error) {
	y, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || y < 1000 || y > 9999 {
		return 0, fmt.Errorf("%q is not a four-digit year", s)
	}
	return y, nil
}

// Hit is an item chosen and why, in words for the operator.
type Hit struct {
	Item   catalog.Item
	Reason string // "weeding review: published 1998; last checkout 2016-03-02; condition poor"
}

// Counts say what the rules did, for a dry run before anything is
// attached: how many items each rule alone would choose, and how many it
// could not judge.
type Counts struct {
	InRange        int // books in the call-number range
	Chosen         int // chosen by every rule
	ByYear         int // published before the year
	ByCirculation  int // last checkout before the day
	ByCondition    int // condition listed
	NoYear         int // in range, publication year unknown (not chosen by a year rule)
	NoLastCheckout int // in range, last checkout unknown (not chosen by a circulation rule)
}

// Selector applies Rules to items one at a time.
type Selector struct {
	r      Rules
	rng    callnumber.Range
	conds  map[string]bool
	Counts Counts
}

// NewSelector prepares r for many items.
func NewSelector(r Rules) *Selector {
	s := &Selector{r: r, rng: callnumber.NewRange(r.CallFrom, r.CallTo), conds: map[string]bool{}}
	for _, c := range r.Conditions {
		s.conds[strings.ToLower(strings.TrimSpace(c))] = true
	}
	return s
}

// Check reports whether the rules choose it, and why; it counts it in
// s.Counts either way.
func (s *Selector) Check(it catalog.Item) (Hit, bool) {
	if (s.r.CallFrom != "" || s.r.CallTo != "") && !s.rng.Contains(callnumber.Key(it.CallNumber)) {
		return Hit{}, false
	}
	s.Counts.InRange++
	var why []string
	all := !s.r.Empty()
	if y := s.r.PublishedBefore; y != 0 {
		switch {
		case it.Year == 0:
			s.Counts.NoYear++
			all = false
		case it.Year < y:
			s.Counts.ByYear++
			why = append(why, fmt.Sprintf("published %d", it.Year))
		default:
			all = false
		}
	}
	if d := s.r.NotCirculatedSince; !d.IsZero() {
		switch {
		case it.LastBorrowed.IsZero():
			s.Counts.NoLastCheckout++
			all = false
		case it.LastBorrowed.Before(d):
			s.Counts.ByCirculation++
			why = append(why, "last checkout "+it.LastBorrowed.Format("2006-01-02"))
		default:
			all = false
		}
	}
	if len(s.conds) > 0 {
		c := strings.ToLower(it.Condition)
		switch {
		case c != "" && s.conds[c]:
			s.Counts.ByCondition++
			why = append(why, "condition "+it.Condition)
		case s.conds["damaged"] && it.Status == catalog.StatusDamaged:
			s.Counts.ByCondition++
			why = append(why, "damaged")
		default:
			all = false
		}
	}
	if !all {
		return Hit{}, false
	}
	s.Counts.Chosen++
	return Hit{Item: it, Reason: "weeding review: " + strings.Join(why, "; ")}, true
}
