package mapping

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the container image has no zone database: roomgate carries its own

	"go.yaml.in/yaml/v3"

	"github.com/roomgate/roomgate/yamlnode"
)

// Hours are a room's opening hours, compiled: outside them a room admits
// no one, however its rules read.
//
// A room is open whenever its clock (the wall clock of Zone) shows a time
// within one of its windows: weekly ones, on the days they name, from From
// to To (a To at or before From ends on the next day, so 22:00 to 02:00
// crosses midnight), and one-off dates. Being about the wall clock, this
// is what people expect on the days daylight saving time changes: on the
// spring-forward day a window from 02:30 opens at 03:00, the first moment
// the clock shows a time past 02:30, and on the fall-back day a window
// from 02:00 to 03:00 is open both times the clock shows 02:xx. Windows may
// overlap; an opening then lasts until the clock leaves the last of them.
type Hours struct {
	Zone   *time.Location
	Weekly []WeeklyWindow
	Dates  []DateWindow
}

// WeeklyWindow is one weekly opening: on each of Days, from From to To,
// in minutes after midnight of the room's clock.
type WeeklyWindow struct {
	Days     [7]bool // by time.Weekday
	From, To int     // 0 to 1440; To <= From crosses midnight
}

// DateWindow is one one-off opening, from From to To on the room's clock,
// as minutes since the Unix epoch of a clock that knows no offsets (civil
// minutes), so that comparing needs no zone arithmetic.
type DateWindow struct {
	From, To int64
}

// civil returns the civil minute of t on loc's wall clock.
func civil(t time.Time, loc *time.Location) (minute int64, weekday time.Weekday, ofDay int) {
	lt := t.In(loc)
	y, m, d := lt.Date()
	ofDay = lt.Hour()*60 + lt.Minute()
	return daysFromCivil(y, m, d)*1440 + int64(ofDay), lt.Weekday(), ofDay
}

// daysFromCivil counts days from 1970-01-01 to y-m-d in the proleptic
// Gregorian calendar (Howard Hinnant's algorithm).
func daysFromCivil(y int, m time.Month, d int) int64 {
	yy := int64(y)
	if m <= 2 {
		yy--
	}
	era := yy / 400
	if yy < 0 && yy%400 != 0 {
		era--
	}
	yoe := yy - era*400
	mm := int64(m)
	var mp int64
	if mm > 2 {
		mp = mm - 3
	} else {
		mp = mm + 9
	}
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// Open reports whether the room's clock shows, at t, a time within one of
// its windows. It allocates nothing.
func (h *Hours) Open(t time.Time) bool {
	if h == nil {
		return true
	}
	minute, wd, ofDay := civil(t, h.Zone)
	for i := range h.Weekly {
		w := &h.Weekly[i]
		if w.To > w.From {
			if w.Days[wd] && ofDay >= w.From && ofDay < w.To {
				return true
			}
			continue
		}
		if w.Days[wd] && ofDay >= w.From || w.Days[(wd+6)%7] && ofDay < w.To {
			return true
		}
	}
	for i := range h.Dates {
		if minute >= h.Dates[i].From && minute < h.Dates[i].To {
			return true
		}
	}
	return false
}

// OpenFor reports whether someone whose rule says early may enter at t:
// the room is open, or opens within early.
func (h *Hours) OpenFor(t time.Time, early time.Duration) bool {
	if h.Open(t) {
		return true
	}
	if early <= 0 {
		return false
	}
	next, ok := h.Next(t)
	return ok && next.Sub(t) <= early
}

// maxLookahead bounds how far Next looks for a weekly opening.
const maxLookahead = 8 * 24 * time.Hour

// Next returns the first moment after t at which the room is open, and
// whether there is one (a room whose only windows have passed has none).
func (h *Hours) Next(t time.Time) (time.Time, bool) {
	if h == nil {
		return t, true
	}
	// Openings begin where a window starts on the wall clock, or where the
	// clock jumps into a window: at a whole minute either way. Candidates
	// are the first moments the clock shows each window's start.
	best, found := time.Time{}, false
	consider := func(c time.Time) {
		if c.After(t) && (!found || c.Before(best)) && h.Open(c) {
			best, found = c, true
		}
	}
	lt := t.In(h.Zone)
	y, m, d := lt.Date()
	for off := -1; off <= 8; off++ {
		day := time.Date(y, m, d+off, 12, 0, 0, 0, h.Zone)
		for i := range h.Weekly {
			w := &h.Weekly[i]
			if w.Days[day.Weekday()] {
				consider(firstShowing(h.Zone, day.Year(), day.Month(), day.Day(), w.From))
			}
		}
		// Midnight can also open a window that crossed it, after a day
		// the window was not on.
		consider(firstShowing(h.Zone, day.Year(), day.Month(), day.Day(), 0))
	}
	for _, dw := range h.Dates {
		days, ofDay := dw.From/1440, int(dw.From%1440)
		cy, cm, cd := civilDate(days)
		consider(firstShowing(h.Zone, cy, cm, cd, ofDay))
	}
	if !found {
		// Only the clock's own jumps are left (a window that begins in a
		// daylight-saving gap): look minute by minute, within bounds.
		start := t.Truncate(time.Minute).Add(time.Minute)
		for c := start; c.Sub(t) <= maxLookahead; c = c.Add(time.Minute) {
			if h.Open(c) {
				return c, true
			}
		}
	}
	return best, found
}

// Until returns the moment the opening that holds t ends, looking at most
// limit ahead: the first moment after t at which the room is closed, or
// t+limit when it stays open that long. It allocates nothing.
func (h *Hours) Until(t time.Time, limit time.Duration) time.Time {
	end := t.Add(limit)
	if h == nil {
		return end
	}
	for c := t.Truncate(time.Minute).Add(time.Minute); c.Before(end); c = c.Add(time.Minute) {
		if !h.Open(c) {
			return c
		}
	}
	return end
}

// firstShowing returns the first moment at which loc's clock shows y-m-d at
// ofDay minutes, or a later time of that day when a daylight-saving jump
// skips it (the moment of the jump).
func firstShowing(loc *time.Location, y int, m time.Month, d, ofDay int) time.Time {
	want := daysFromCivil(y, m, d)*1440 + int64(ofDay)
	g := time.Date(y, m, d, ofDay/60, ofDay%60, 0, 0, loc)
	// A time shown twice (fall back): time.Date may give the second showing.
	// Zones move their clocks back by at most a few hours, in steps of 15
	// minutes or more.
	for back := 3 * time.Hour; back > 0; back -= 15 * time.Minute {
		if c, _, _ := civil(g.Add(-back), loc); c == want {
			g = g.Add(-back)
			break
		}
	}
	// Step back while the clock still shows the wanted time or later, so
	// that a time shown twice (fall back) gives its first showing, and a
	// skipped one (spring forward) the moment of the jump.
	for range 240 {
		prev := g.Add(-time.Minute)
		if c, _, _ := civil(prev, loc); c < want {
			break
		}
		g = prev
	}
	return g
}

// civilDate is daysFromCivil's inverse.
func civilDate(days int64) (int, time.Month, int) {
	t := time.Unix(days*86400, 0).UTC()
	return t.Year(), t.Month(), t.Day()
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

var (
	openKeys   = []string{"timezone", "weekly", "dates"}
	weeklyKeys = []string{"days", "from", "to"}
	dateKeys   = []string{"from", "to"}
)

// hours reads a room's open section.
func (p *parser) hours(n *yaml.Node, a at) *Hours {
	path := a.String()
	f := p.r.Fields(n, path, openKeys...)
	h := &Hours{}
	zone := p.r.String(f["timezone"], yamlnode.Join(path, "timezone"))
	switch {
	case f["timezone"] == nil:
		p.r.Problemf(n, yamlnode.Join(path, "timezone"), "missing; opening hours need an IANA time zone, such as timezone: Europe/Berlin")
	case zone == "" || zone == "Local" || !strings.Contains(zone, "/") && zone != "UTC":
		p.r.Problemf(f["timezone"], yamlnode.Join(path, "timezone"), "want an IANA time zone such as Europe/Berlin or UTC, found %q", zone)
	default:
		loc, err := time.LoadLocation(zone)
		if err != nil {
			p.r.Problemf(f["timezone"], yamlnode.Join(path, "timezone"), "%q is not a time zone roomgate knows (IANA names such as Europe/Berlin, America/New_York)", zone)
		}
		h.Zone = loc
	}
	if h.Zone == nil {
		h.Zone = time.UTC // to read the rest; the file is refused anyway
	}
	for i, wn := range p.r.Items(f["weekly"], yamlnode.Join(path, "weekly")) {
		wp := yamlnode.Index(yamlnode.Join(path, "weekly"), i)
		wf := p.r.Fields(wn, wp, weeklyKeys...)
		var w WeeklyWindow
		days := p.r.Strings(wf["days"], yamlnode.Join(wp, "days"))
		if len(days) == 0 {
			p.r.Problemf(wn, yamlnode.Join(wp, "days"), "missing or empty; name the days, such as days: [mon, tue, wed, thu, fri]")
		}
		for k, d := range days {
			wd, ok := dayNames[strings.ToLower(d)]
			if !ok {
				p.r.Problemf(wf["days"].Content[k], yamlnode.Index(yamlnode.Join(wp, "days"), k), "%q is not a day: use mon, tue, wed, thu, fri, sat or sun", d)
				continue
			}
			w.Days[wd] = true
		}
		var okFrom, okTo bool
		w.From, okFrom = p.clock(wn, wf["from"], yamlnode.Join(wp, "from"), false)
		w.To, okTo = p.clock(wn, wf["to"], yamlnode.Join(wp, "to"), true)
		if okFrom && okTo && w.From == w.To%1440 {
			p.r.Problemf(wf["to"], yamlnode.Join(wp, "to"), "the same as from, so the window is empty; a window that crosses midnight ends the next day, such as from: \"22:00\" to: \"02:00\"")
		}
		h.Weekly = append(h.Weekly, w)
	}
	for i, dn := range p.r.Items(f["dates"], yamlnode.Join(path, "dates")) {
		dp := yamlnode.Index(yamlnode.Join(path, "dates"), i)
		df := p.r.Fields(dn, dp, dateKeys...)
		from, okFrom := p.civilTime(dn, df["from"], yamlnode.Join(dp, "from"))
		to, okTo := p.civilTime(dn, df["to"], yamlnode.Join(dp, "to"))
		if okFrom && okTo && to <= from {
			p.r.Problemf(df["to"], yamlnode.Join(dp, "to"), "not after from, so the opening is empty or inverted")
		}
		h.Dates = append(h.Dates, DateWindow{From: from, To: to})
	}
	if len(h.Weekly)+len(h.Dates) == 0 {
		p.r.Problemf(n, path, "no weekly windows and no dates, so the room would never open; remove open to keep it always open")
	}
	return h
}

// clock reads "HH:MM" as minutes after midnight; "24:00" only as an end.
func (p *parser) clock(parent, n *yaml.Node, path string, end bool) (int, bool) {
	if n == nil {
		p.r.Problemf(parent, path, "missing; want a time of day such as \"09:25\"")
		return 0, false
	}
	s := p.r.String(n, path)
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	switch {
	case !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil:
	case end && hh == 24 && mm == 0:
		return 1440, true
	case hh >= 0 && hh < 24 && mm >= 0 && mm < 60:
		return hh*60 + mm, true
	}
	p.r.Problemf(n, path, "want a time of day as HH:MM, such as \"09:25\", found %q", s)
	return 0, false
}

// civilTime reads "2026-12-18T15:00" as a civil minute.
func (p *parser) civilTime(parent, n *yaml.Node, path string) (int64, bool) {
	if n == nil {
		p.r.Problemf(parent, path, "missing; want a local date and time such as \"2026-12-18T15:00\"")
		return 0, false
	}
	s := p.r.String(n, path)
	t, err := time.Parse("2006-01-02T15:04", s)
	if err != nil {
		p.r.Problemf(n, path, "want a local date and time such as \"2026-12-18T15:00\" (the room's time zone), found %q", s)
		return 0, false
	}
	return daysFromCivil(t.Year(), t.Month(), t.Day())*1440 + int64(t.Hour()*60+t.Minute()), true
}

// describe says when an opening is, for people: "09:25 Europe/Berlin" on
// the day of now, else with its day ("Mon 7 Dec 09:25 Europe/Berlin").
func (h *Hours) describe(at, now time.Time) string {
	lt, ln := at.In(h.Zone), now.In(h.Zone)
	if lt.YearDay() == ln.YearDay() && lt.Year() == ln.Year() {
		return lt.Format("15:04") + " " + h.Zone.String()
	}
	return lt.Format("Mon 2 Jan 15:04") + " " + h.Zone.String()
}

// OpensText says when the room opens next, after now, in the room's zone
// and in relative words: "opens at 09:25 Europe/Berlin, in 42 minutes".
// early moves the opening for people whose rule lets them in early.
func (h *Hours) OpensText(now time.Time, early time.Duration) string {
	next, ok := h.Next(now)
	if !ok {
		return "has no opening ahead"
	}
	next = next.Add(-early)
	return fmt.Sprintf("opens at %s, %s", h.describe(next, now), relative(next.Sub(now)))
}

// relative says a duration ahead in words.
func relative(d time.Duration) string {
	minutes := int((d + time.Minute - 1) / time.Minute)
	switch {
	case minutes <= 1:
		return "in a minute"
	case minutes < 60:
		return fmt.Sprintf("in %d minutes", minutes)
	case minutes < 120:
		return "in an hour"
	case minutes < 48*60:
		return fmt.Sprintf("in %d hours", minutes/60)
	}
	return fmt.Sprintf("in %d days", minutes/(24*60))
}
