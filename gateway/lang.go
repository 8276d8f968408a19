package gateway

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/roomgate/roomgate/mapping"
)

// The pages speak the person's language: each file web/lang/TAG.json is one
// language, a flat map of keys to texts with {placeholders}, so adding a
// language is adding a file. English is the fallback for a language, and
// for a key a catalog lacks (TestCatalogsAreComplete keeps them whole).

//go:embed web/lang/*.json
var langFS embed.FS

// catalog is one language's texts.
type catalog struct {
	tag   language.Tag
	texts map[string]string
}

// catalogs are the languages roomgate speaks, English first.
type catalogs struct {
	all     []*catalog
	matcher language.Matcher
}

// loadCatalogs reads every language file, keeping those of only when it is
// not empty (server.languages).
func loadCatalogs(only []string) (*catalogs, error) {
	files, err := langFS.ReadDir("web/lang")
	if err != nil {
		return nil, err
	}
	var all []*catalog
	for _, f := range files {
		name := strings.TrimSuffix(f.Name(), ".json")
		tag, err := language.Parse(name)
		if err != nil {
			return nil, fmt.Errorf("gateway: language file %s: %w", f.Name(), err)
		}
		b, err := langFS.ReadFile(path.Join("web/lang", f.Name()))
		if err != nil {
			return nil, err
		}
		c := &catalog{tag: tag}
		if err := json.Unmarshal(b, &c.texts); err != nil {
			return nil, fmt.Errorf("gateway: language file %s: %w", f.Name(), err)
		}
		if name != "en" && len(only) > 0 && !slices.Contains(only, name) {
			continue
		}
		all = append(all, c)
	}
	slices.SortStableFunc(all, func(a, b *catalog) int {
		switch {
		case a.tag == language.English:
			return -1
		case b.tag == language.English:
			return 1
		}
		return strings.Compare(a.tag.String(), b.tag.String())
	})
	if len(all) == 0 || all[0].tag != language.English {
		return nil, fmt.Errorf("gateway: no English texts")
	}
	tags := make([]language.Tag, len(all))
	for i, c := range all {
		tags[i] = c.tag
	}
	return &catalogs{all: all, matcher: language.NewMatcher(tags)}, nil
}

// Languages returns the language tags roomgate has texts for.
func Languages() []string {
	c, err := loadCatalogs(nil)
	if err != nil {
		return []string{"en"}
	}
	var out []string
	for _, k := range c.all {
		out = append(out, k.tag.String())
	}
	return out
}

// pick chooses the catalog for r's Accept-Language.
func (cs *catalogs) pick(r *http.Request) *catalog {
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return cs.all[0]
	}
	_, i, conf := cs.matcher.Match(tags...)
	if conf == language.No {
		return cs.all[0]
	}
	return cs.all[i]
}

// t is the text of key in c, with args ("name", value, ...) filled in;
// English when c lacks it.
func (cs *catalogs) t(c *catalog, key string, args ...string) string {
	s, ok := c.texts[key]
	if !ok {
		s, ok = cs.all[0].texts[key]
	}
	if !ok {
		return key
	}
	for i := 0; i+1 < len(args); i += 2 {
		s = strings.ReplaceAll(s, "{"+args[i]+"}", args[i+1])
	}
	return s
}

// roleTitle is role as the pages of language c name it
// (digitalsamba.role_titles), or its own name.
func (s *Server) roleTitle(c *catalog, role string) string {
	return s.cfg.DigitalSamba.RoleTitle(role, c.tag.String())
}

// opens says when a closed room opens for someone whose rule says early,
// in the room's zone and in words, with the preposition the language puts
// before a time or a day: "at 09:25 Europe/Berlin" or "on Fri 11 Dec at
// 09:25 Europe/Berlin" ("am Fr., 11. Dez., um 09:25"), and "in 42 minutes".
func (cs *catalogs) opens(c *catalog, h *mapping.Hours, now time.Time, early time.Duration) (when, in string, ok bool) {
	next, ok := h.Next(now)
	if !ok {
		return "", "", false
	}
	next = next.Add(-early)
	lt, ln := next.In(h.Zone), now.In(h.Zone)
	when = cs.t(c, "time", "time", lt.Format("15:04")) + " " + h.Zone.String()
	if lt.YearDay() != ln.YearDay() || lt.Year() != ln.Year() {
		days := strings.Fields(cs.t(c, "weekdays"))
		months := strings.Fields(cs.t(c, "months"))
		key := "date"
		if lt.Year() != ln.Year() {
			key = "date.year"
		}
		when = cs.t(c, key, "weekday", days[lt.Weekday()], "day", strconv.Itoa(lt.Day()),
			"month", months[lt.Month()-1], "year", strconv.Itoa(lt.Year()), "time", lt.Format("15:04")) + " " + h.Zone.String()
	}
	minutes := int((next.Sub(now) + time.Minute - 1) / time.Minute)
	switch {
	case minutes <= 1:
		in = cs.t(c, "in.minute")
	case minutes < 60:
		in = cs.t(c, "in.minutes", "n", strconv.Itoa(minutes))
	case minutes < 120:
		in = cs.t(c, "in.hour")
	case minutes < 48*60:
		in = cs.t(c, "in.hours", "n", strconv.Itoa(minutes/60))
	default:
		in = cs.t(c, "in.days", "n", strconv.Itoa(minutes/(24*60)))
	}
	return when, in, true
}

// date writes t as a moment with its day, on t's clock: "Mon 7 Dec,
// 09:30 Europe/Berlin".
func (cs *catalogs) date(c *catalog, t time.Time) string {
	days := strings.Fields(cs.t(c, "weekdays"))
	months := strings.Fields(cs.t(c, "months"))
	return cs.t(c, "day", "weekday", days[t.Weekday()], "day", strconv.Itoa(t.Day()),
		"month", months[t.Month()-1], "time", t.Format("15:04")) + " " + t.Location().String()
}
