package mapping

import (
	"errors"
	"slices"
	"time"
)

// A decision at a moment depends on the moment through a few yes-or-no
// facts: whether each rule's until has passed, and whether the room is
// open, or opens within each rule's early. Between two moments at which
// one of those facts changes (a boundary), every fact holds still, so
// every decision does too. moments returns a moment in every such stretch
// that two rooms' facts make, so that comparing decisions at those
// moments alone misses no change over time.
//
// Untils and one-off dates are finite. Weekly windows repeat: within a
// stretch between two finite boundaries the week repeats on the room's
// clock, so eight days of it show every combination, unless the two rooms
// keep different time zones, whose offsets drift apart and back with
// daylight saving time: then eight days more are taken after each such
// change within a year.

// stretchDays is how much of a stretch between finite boundaries is
// sampled for weekly boundaries: a week, and a day for windows that cross
// midnight.
const stretchDays = 8

// maxMoments bounds the moments of one room; a pair of rooms with more
// boundaries than this is refused rather than compared incompletely.
const maxMoments = 100_000

// errTooManyMoments says a room's hours are too many to compare exactly.
var errTooManyMoments = errors.New("too many opening-hours boundaries to compare every moment")

// anchor is where the stretch before any finite boundary is sampled when
// there is none: any week serves, and a fixed one keeps Diff a function of
// the files alone.
var anchor = time.Date(2026, time.January, 5, 0, 0, 0, 0, time.UTC)

// timed reports whether the room's decisions can depend on the moment.
func (r *Room) timed() bool {
	if r.Open != nil {
		return true
	}
	for i := range r.Rules {
		if !r.Rules[i].Until.IsZero() {
			return true
		}
	}
	return false
}

// moments returns the moments at which to compare o and n: nil when
// neither depends on the moment (Decide then says all).
func moments(o, n *Room) ([]time.Time, error) {
	if !o.timed() && !n.timed() {
		return nil, nil
	}
	earlies := []time.Duration{0}
	var finite []time.Time
	for _, r := range [2]*Room{o, n} {
		for i := range r.Rules {
			if u := r.Rules[i].Until; !u.IsZero() {
				finite = append(finite, u)
			}
			if e := r.Rules[i].Early; e > 0 && !slices.Contains(earlies, e) {
				earlies = append(earlies, e)
			}
		}
	}
	var out []time.Time
	opening := func(start, end time.Time) {
		for _, e := range earlies {
			out = append(out, start.Add(-e), end)
		}
	}
	for _, r := range [2]*Room{o, n} {
		if r.Open == nil {
			continue
		}
		for _, d := range r.Open.Dates {
			start, end := civilMoment(r.Open.Zone, d.From), civilMoment(r.Open.Zone, d.To)
			finite = append(finite, start, end)
			opening(start, end)
		}
	}
	slices.SortFunc(finite, time.Time.Compare)
	finite = slices.Compact(finite)

	// The stretches to sample: before the first finite boundary, and from
	// each one on.
	var starts []time.Time
	if len(finite) == 0 {
		starts = append(starts, anchor)
	} else {
		starts = append(starts, finite[0].Add(-stretchDays*24*time.Hour))
		starts = append(starts, finite...)
	}
	if o.Open != nil && n.Open != nil && o.Open.Zone.String() != n.Open.Zone.String() {
		for _, s := range slices.Clone(starts) {
			starts = append(starts, offsetChanges(o.Open.Zone, n.Open.Zone, s)...)
		}
	}
	for _, s := range starts {
		for _, r := range [2]*Room{o, n} {
			if r.Open == nil {
				continue
			}
			for _, w := range r.Open.Weekly {
				weekly(r.Open.Zone, w, s, opening)
			}
		}
		if len(out) > maxMoments {
			return nil, errTooManyMoments
		}
	}
	out = append(out, finite...)
	slices.SortFunc(out, time.Time.Compare)
	out = slices.Compact(out)
	// And a moment before every boundary.
	return append([]time.Time{out[0].Add(-time.Minute)}, out...), nil
}

// civilMoment is the first moment zone's clock shows the civil minute m.
func civilMoment(zone *time.Location, m int64) time.Time {
	y, mo, d := civilDate(m / 1440)
	return firstShowing(zone, y, mo, d, int(m%1440))
}

// weekly calls opening with the start and end of each opening of w on the
// days of zone's clock from a day before from to stretchDays after it.
func weekly(zone *time.Location, w WeeklyWindow, from time.Time, opening func(start, end time.Time)) {
	y, m, d := from.In(zone).Date()
	first := daysFromCivil(y, m, d) - 1
	for day := first; day <= first+stretchDays+1; day++ {
		wd := time.Weekday((day%7 + 11) % 7) // 1970-01-01 was a Thursday
		if !w.Days[wd] {
			continue
		}
		to := day*1440 + int64(w.To)
		if w.To <= w.From {
			to += 1440
		}
		opening(civilMoment(zone, day*1440+int64(w.From)), civilMoment(zone, to))
	}
}

// offsetChanges returns, within a year of from, each moment after which
// the two zones' offsets from UTC differ from what they were before it, at
// a day's precision, as stretches to sample.
func offsetChanges(a, b *time.Location, from time.Time) []time.Time {
	diff := func(t time.Time) int {
		_, oa := t.In(a).Zone()
		_, ob := t.In(b).Zone()
		return oa - ob
	}
	var out []time.Time
	last := diff(from)
	for t := from; t.Sub(from) < 366*24*time.Hour; t = t.Add(24 * time.Hour) {
		if d := diff(t); d != last {
			out = append(out, t.Add(-24*time.Hour))
			last = d
		}
	}
	return out
}
