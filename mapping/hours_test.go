package mapping

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func berlin(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func hoursRoom(t testing.TB, open, rules string) *Room {
	t.Helper()
	rs := mustParse(t, "rooms:\n  - path: standup\n    room: standup\n    open:\n"+open+"    rules:\n"+rules)
	room, _ := rs.Lookup("standup")
	return room
}

// TestHoursEdges decides at the edges of windows: crossing midnight, both
// daylight-saving changes, overlapping windows.
func TestHoursEdges(t *testing.T) {
	t.Parallel()
	loc := berlin(t)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name   string
		weekly string
		at     time.Time
		open   bool
	}{
		{"inside", `{days: [mon, tue, wed, thu, fri], from: "09:25", to: "10:00"}`, at("2026-12-07 09:30"), true},
		{"at from", `{days: [mon], from: "09:25", to: "10:00"}`, at("2026-12-07 09:25"), true},
		{"at to: closed", `{days: [mon], from: "09:25", to: "10:00"}`, at("2026-12-07 10:00"), false},
		{"a second before to", `{days: [mon], from: "09:25", to: "10:00"}`, at("2026-12-07 09:59").Add(59 * time.Second), true},
		{"another day", `{days: [mon], from: "09:25", to: "10:00"}`, at("2026-12-08 09:30"), false},
		{"crossing midnight, before", `{days: [fri], from: "22:00", to: "02:00"}`, at("2026-12-11 23:30"), true},
		{"crossing midnight, after, on the next day", `{days: [fri], from: "22:00", to: "02:00"}`, at("2026-12-12 01:30"), true},
		{"crossing midnight, the day after a day not listed", `{days: [fri], from: "22:00", to: "02:00"}`, at("2026-12-11 01:30"), false},
		{"to 24:00", `{days: [mon], from: "23:00", to: "24:00"}`, at("2026-12-07 23:59"), true},
		// 2027-03-28: at 02:00 CET the clock jumps to 03:00 CEST.
		{"spring forward: 02:30 is never shown; from 02:30 opens at the jump", `{days: [sun], from: "02:30", to: "04:00"}`, utc("2027-03-28T01:00:00Z"), true},
		{"spring forward: a minute before the jump", `{days: [sun], from: "02:30", to: "04:00"}`, utc("2027-03-28T00:59:00Z"), false},
		{"spring forward: a window inside the gap never opens", `{days: [sun], from: "02:10", to: "02:50"}`, utc("2027-03-28T01:00:00Z"), false},
		// 2026-10-25: at 03:00 CEST the clock goes back to 02:00 CET.
		{"fall back: the first 02:30", `{days: [sun], from: "02:00", to: "03:00"}`, utc("2026-10-25T00:30:00Z"), true},
		{"fall back: the second 02:30", `{days: [sun], from: "02:00", to: "03:00"}`, utc("2026-10-25T01:30:00Z"), true},
		{"fall back: 03:00 at last", `{days: [sun], from: "02:00", to: "03:00"}`, utc("2026-10-25T02:00:00Z"), false},
		{"overlapping windows", `{days: [mon], from: "09:00", to: "10:00"}
        - {days: [mon], from: "09:30", to: "11:00"}`, at("2026-12-07 10:30"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			room := hoursRoom(t, "      timezone: Europe/Berlin\n      weekly:\n        - "+tt.weekly+"\n", "      - {everyone: true, role: attendee}\n")
			if got := room.Open.Open(tt.at); got != tt.open {
				t.Errorf("Open(%s) = %v; want %v", tt.at, got, tt.open)
			}
			d := room.DecideAt(NewPerson(nil, ""), tt.at)
			if d.Allowed != tt.open || d.Closed == tt.open {
				t.Errorf("DecideAt: allowed %v closed %v; want allowed %v", d.Allowed, d.Closed, tt.open)
			}
		})
	}
}

// TestHoursEarlyUntilAndDates: early admits a rule's people before each
// opening, weekly and dates alike; until ends a rule at the end of its day
// on the room's clock; Until bounds an opening, overlapping windows merged.
func TestHoursEarlyUntilAndDates(t *testing.T) {
	t.Parallel()
	loc := berlin(t)
	at := func(s string) time.Time {
		v, _ := time.ParseInLocation("2006-01-02 15:04", s, loc)
		return v
	}
	room := hoursRoom(t, `      timezone: Europe/Berlin
      weekly:
        - {days: [mon], from: "09:25", to: "10:00"}
        - {days: [mon], from: "09:50", to: "10:30"}
      dates:
        - {from: "2026-12-18T15:00", to: "2026-12-18T17:00"}
`, `      - {groups: [leads], role: moderator, early: 15m}
      - {groups: [interns], role: attendee, until: 2026-12-31}
      - {everyone: true, role: speaker}
`)
	lead, intern := NewPerson([]string{"leads"}, ""), NewPerson([]string{"interns"}, "")
	check := func(name string, p *Person, when time.Time, wantRole string, wantClosed bool) {
		t.Helper()
		d := room.DecideAt(p, when)
		if got := Outcome(d); got != wantRole || d.Closed != wantClosed {
			t.Errorf("%s at %s: got %s closed %v; want %s closed %v", name, when, got, d.Closed, wantRole, wantClosed)
		}
	}
	check("a lead, 15 minutes early", lead, at("2026-12-07 09:10"), "moderator", false)
	check("a lead, 16 minutes early", lead, at("2026-12-07 09:09"), "deny", true)
	check("an intern, early", intern, at("2026-12-07 09:10"), "deny", true)
	check("a lead, early for a date", lead, at("2026-12-18 14:45"), "moderator", false)
	check("an intern on the date", intern, at("2026-12-18 16:59"), "attendee", false)
	check("an intern after the date", intern, at("2026-12-18 17:00"), "deny", true)
	check("an intern on the last day of until", intern, at("2026-12-07 09:30"), "attendee", false)
	check("an intern after until: the next rule decides", intern, at("2027-01-04 09:30"), "speaker", false)
	if d := room.Decide(intern); Outcome(d) != "attendee" {
		t.Errorf("Decide, the rules alone: got %s; want attendee", Outcome(d))
	}
	// The opening of 09:25 lasts until 10:30, through the overlap.
	if got, want := room.Open.Until(at("2026-12-07 09:58"), time.Hour), at("2026-12-07 10:30"); !got.Equal(want) {
		t.Errorf("Until(09:58): %s; want %s", got, want)
	}
	if got, want := room.Open.Until(at("2026-12-07 09:58"), 2*time.Minute), at("2026-12-07 10:00"); !got.Equal(want) {
		t.Errorf("Until(09:58, 2m): %s; want the limit, %s", got, want)
	}
	if got := room.Open.OpensText(at("2026-12-07 08:43"), 0); got != "opens at 09:25 Europe/Berlin, in 42 minutes" {
		t.Errorf("OpensText: %q", got)
	}
	if got := room.Open.OpensText(at("2026-12-07 08:43"), 15*time.Minute); got != "opens at 09:10 Europe/Berlin, in 27 minutes" {
		t.Errorf("OpensText, 15m early: %q", got)
	}
	if got := room.Open.OpensText(at("2026-12-15 12:00"), 0); got != "opens at Fri 18 Dec 15:00 Europe/Berlin, in 3 days" {
		t.Errorf("OpensText, days ahead: %q", got)
	}
}

// TestHoursProblems: a bad zone, time, day, an empty or inverted window
// each with its line; a passed until is a warning, not a problem.
func TestHoursProblems(t *testing.T) {
	t.Parallel()
	_, err := parseSource(t, `rooms:
  - path: standup
    room: standup
    open:
      timezone: Europe/Berlinn
      weekly:
        - {days: [mon, mo], from: "9:25", to: "10:00"}
        - {days: [tue], from: "10:00", to: "10:00"}
      dates:
        - {from: "2026-12-18T17:00", to: "2026-12-18T15:00"}
    rules:
      - {everyone: true, role: attendee, early: -5m}
`)
	for _, want := range []string{
		`config.yaml:5: rooms[0].open.timezone: "Europe/Berlinn" is not a time zone`,
		`config.yaml:7: rooms[0].open.weekly[0].days[1]: "mo" is not a day`,
		`config.yaml:7: rooms[0].open.weekly[0].from: want a time of day as HH:MM, such as "09:25", found "9:25"`,
		`config.yaml:8: rooms[0].open.weekly[1].to: the same as from, so the window is empty`,
		`config.yaml:10: rooms[0].open.dates[0].to: not after from, so the opening is empty or inverted`,
		`config.yaml:12: rooms[0].rules[0].early: want a duration above 0`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("problems:\n%v\nlack %q", err, want)
		}
	}
	rs, err := Parse("config.yaml", mustNode(t, `- path: standup
  room: standup
  rules:
    - {groups: [interns], role: attendee, until: 2026-03-31}
    - {everyone: true, role: speaker}
`), Options{Roles: []string{"attendee", "speaker"}, Now: func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatalf("a passed until must not fail the file: %v", err)
	}
	if w := rs.Warnings(); len(w) != 1 || !strings.Contains(w[0].Error(), "config.yaml:4: rooms[0].rules[0]: until 2026-03-31 has passed") {
		t.Errorf("warnings %v; want the passed until", w)
	}
}

// TestHoursAgainstBruteForce: for random windows in a zone with daylight
// saving time and random instants, Open agrees with the wall clock read
// directly, and Next and Until agree with a minute-by-minute scan.
func TestHoursAgainstBruteForce(t *testing.T) {
	t.Parallel()
	loc := berlin(t)
	r := rand.New(rand.NewPCG(3, 4))
	// Around both changes of 2026 and an ordinary week.
	starts := []time.Time{
		time.Date(2026, 3, 27, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 10, 23, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC),
	}
	for range 2000 {
		h := &Hours{Zone: loc}
		for range 1 + r.IntN(3) {
			var w WeeklyWindow
			for d := range 7 {
				w.Days[d] = r.IntN(3) == 0
			}
			w.Days[r.IntN(7)] = true
			w.From = r.IntN(24*4) * 15
			w.To = r.IntN(24*4) * 15
			if w.To == w.From {
				w.To = (w.From + 60) % 1440
			}
			h.Weekly = append(h.Weekly, w)
		}
		wall := func(c time.Time) bool {
			lt := c.In(loc)
			wd, m := lt.Weekday(), lt.Hour()*60+lt.Minute()
			for _, w := range h.Weekly {
				if w.To > w.From && w.Days[wd] && m >= w.From && m < w.To ||
					w.To <= w.From && (w.Days[wd] && m >= w.From || w.Days[(wd+6)%7] && m < w.To) {
					return true
				}
			}
			return false
		}
		start := starts[r.IntN(len(starts))]
		for range 5 {
			t0 := start.Add(time.Duration(r.IntN(4*24*60)) * time.Minute)
			if h.Open(t0) != wall(t0) {
				t.Fatalf("%+v at %s: Open %v; the wall clock says %v", h.Weekly, t0, h.Open(t0), wall(t0))
			}
			if !wall(t0) {
				want := time.Time{}
				for c := t0.Add(time.Minute); c.Sub(t0) <= 8*24*time.Hour; c = c.Add(time.Minute) {
					if wall(c) {
						want = c
						break
					}
				}
				got, ok := h.Next(t0)
				if !want.IsZero() && (!ok || !got.Equal(want)) {
					t.Fatalf("%+v after %s (%s): Next %s %v; the scan says %s", h.Weekly, t0, t0.In(loc), got.In(loc), ok, want.In(loc))
				}
			} else {
				want := t0.Add(6 * time.Hour)
				for c := t0.Add(time.Minute); c.Before(t0.Add(6 * time.Hour)); c = c.Add(time.Minute) {
					if !wall(c) {
						want = c
						break
					}
				}
				if got := h.Until(t0, 6*time.Hour); !got.Equal(want) {
					t.Fatalf("%+v at %s: Until %s; the scan says %s", h.Weekly, t0.In(loc), got.In(loc), want.In(loc))
				}
			}
		}
	}
}

// TestZonesWithoutASystemDatabase: roomgate carries its own zone database
// (time/tzdata), so a zone loads with ZONEINFO pointing nowhere. The
// binary in a distroless image is checked the same way in the e2e suite,
// with the system's database hidden.
func TestZonesWithoutASystemDatabase(t *testing.T) {
	t.Setenv("ZONEINFO", t.TempDir())
	if _, err := time.LoadLocation("Europe/Berlin"); err != nil {
		t.Fatalf("LoadLocation(Europe/Berlin) with ZONEINFO pointing nowhere: %v", err)
	}
}

// BenchmarkDecideAtWithHours is a decision in a room with opening hours:
// like Decide, it must not allocate.
func BenchmarkDecideAtWithHours(b *testing.B) {
	room := hoursRoom(b, "      timezone: Europe/Berlin\n      weekly:\n        - {days: [mon, tue, wed, thu, fri], from: \"09:25\", to: \"10:00\"}\n        - {days: [sat], from: \"22:00\", to: \"02:00\"}\n", "      - {groups: [eng-leads], role: moderator, early: 15m}\n      - {groups: [\"eng-*\"], role: attendee, until: 2099-01-01}\n")
	p := NewPerson([]string{"eng-web", "sales"}, "ann@example.com")
	at := time.Date(2026, 12, 7, 8, 30, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		room.DecideAt(p, at)
	}
}

// BenchmarkDecideWithoutHours is the same room's rules without hours, for
// what the hours cost.
func BenchmarkDecideWithoutHours(b *testing.B) {
	rs := mustParse(b, "rooms:\n  - path: standup\n    room: standup\n    rules:\n      - {groups: [eng-leads], role: moderator}\n      - {groups: [\"eng-*\"], role: attendee}\n")
	room, _ := rs.Lookup("standup")
	p := NewPerson([]string{"eng-web", "sales"}, "ann@example.com")
	at := time.Date(2026, 12, 7, 8, 30, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		room.DecideAt(p, at)
	}
}

// TestEarlyWithoutHoursWarns: early on a room without open: has no effect,
// which check says, naming the rule, without failing.
func TestEarlyWithoutHoursWarns(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, `rooms:
  - path: standup
    room: standup
    rules:
      - {groups: [leads], role: moderator, early: 15m}
  - path: retro
    room: retro
    open:
      timezone: UTC
      weekly: [{days: [fri], from: "09:00", to: "10:00"}]
    rules:
      - {groups: [leads], role: moderator, early: 15m}
`)
	w := rs.Warnings()
	if len(w) != 1 || !strings.Contains(w[0].Error(), "config.yaml:5: rooms[0].rules[0].early: early has no effect") {
		t.Errorf("warnings %v; want one for rooms[0].rules[0].early at config.yaml:5", w)
	}
}
