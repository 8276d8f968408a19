package gateway

import (
	"encoding/json"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/roomgate/roomgate/config"
)

// TestCatalogsAreComplete: every language file has every key of English,
// no other, and the same {placeholders} in each text.
func TestCatalogsAreComplete(t *testing.T) {
	t.Parallel()
	read := func(name string) map[string]string {
		b, err := langFS.ReadFile(path.Join("web/lang", name))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return m
	}
	en := read("en.json")
	files, _ := langFS.ReadDir("web/lang")
	if len(files) < 2 {
		t.Fatalf("%d language files; want English and German at least", len(files))
	}
	ph := regexp.MustCompile(`\{[a-z]+\}`)
	for _, f := range files {
		other := read(f.Name())
		for k, v := range en {
			tr, ok := other[k]
			if !ok {
				t.Errorf("%s lacks %q", f.Name(), k)
				continue
			}
			a, b := ph.FindAllString(v, -1), ph.FindAllString(tr, -1)
			slices.Sort(a)
			slices.Sort(b)
			if !slices.Equal(a, b) {
				t.Errorf("%s %q: placeholders %v; English has %v", f.Name(), k, b, a)
			}
		}
		for k := range other {
			if _, ok := en[k]; !ok {
				t.Errorf("%s has %q, which English lacks", f.Name(), k)
			}
		}
	}
}

// TestPagesSpeakThePersonsLanguage: German for a German browser, English
// for one that asks for a language roomgate lacks, and server.languages
// limits the choice; <html lang> says which.
func TestPagesSpeakThePersonsLanguage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("cleo", "cleo@example.com", "marketing"))
	b := e.browser()
	e.enter(b, "/")
	get := func(lang string) string {
		req := mustGet(t, e.url("/standup"))
		req.Header.Set("Accept-Language", lang)
		return body(t, b.Do(t, req))
	}
	if page := get("de-DE,de;q=0.9,en;q=0.5"); !strings.Contains(page, `<html lang="de">`) || !strings.Contains(page, "Sie können Daily stand-up nicht betreten") || !strings.Contains(page, "Anderes Konto verwenden") {
		t.Errorf("German browser:\n%s", page)
	}
	if page := get("fr-FR,fr;q=0.9"); !strings.Contains(page, `<html lang="en">`) || !strings.Contains(page, "You can&#39;t enter Daily stand-up") {
		t.Errorf("a language roomgate lacks:\n%s", page)
	}
	if page := get(""); !strings.Contains(page, `<html lang="en">`) {
		t.Errorf("no Accept-Language:\n%s", page)
	}
	e.reconfigure(func(c *config.Config) { c.Server.Languages = []string{"en"} })
	b2 := e.browser()
	e.enter(b2, "/")
	req := mustGet(t, e.url("/standup"))
	req.Header.Set("Accept-Language", "de")
	if page := body(t, b2.Do(t, req)); !strings.Contains(page, `<html lang="en">`) {
		t.Errorf("server.languages [en], German browser:\n%s", page)
	}
}

// TestGermanReadsAsGerman: a closed room's opening reads as German writes
// dates ("am Fr., 11. Dez., um 15:45"), the same day as a time ("um
// 10:42"), and the page asks no one of a gender.
func TestGermanReadsAsGerman(t *testing.T) {
	t.Parallel()
	// Monday 7 December 2026, 10:00 UTC; the rooms open on Friday.
	e := mondayMorning(t, `
  - path: standup
    room: daily-standup
    open:
      timezone: UTC
      dates:
        - {from: "2026-12-11T15:45", to: "2026-12-11T17:00"}
        - {from: "2026-12-07T10:42", to: "2026-12-07T11:00"}
    rules:
      - groups: [eng-leads]
        role: moderator
  - path: retro
    room: retro
    open:
      timezone: UTC
      dates:
        - {from: "2026-12-11T15:45", to: "2026-12-11T17:00"}
    rules:
      - groups: [eng-leads]
        role: moderator
  - path: closed-to-her
    room: closed-to-her
    rules:
      - groups: [other]
        role: moderator
`)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	b := e.browser()
	e.enter(b, "/")
	get := func(path string) string {
		req := mustGet(t, e.url(path))
		req.Header.Set("Accept-Language", "de")
		return body(t, b.Do(t, req))
	}
	if page := get("/retro"); !strings.Contains(page, "öffnet am Fr., 11. Dez., um 15:45 UTC") || !strings.Contains(page, "Gerade geschlossen") {
		t.Errorf("another day, in German:\n%s", page)
	}
	if page := get("/standup"); !strings.Contains(page, "öffnet um 10:42 UTC, in 42 Minuten") {
		t.Errorf("the same day, in German:\n%s", page)
	}
	if page := get("/closed-to-her"); strings.Contains(page, "Organisatorin") || !strings.Contains(page, "die Person, die sie organisiert") {
		t.Errorf("the 403 page asks someone of one gender:\n%s", page)
	}
}

// TestRoleTitles: pages name roles as digitalsamba.role_titles says, in
// the person's language; the room token keeps the role's own name.
func TestRoleTitles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withConfig(func(c *config.Config) {
		c.DigitalSamba.RoleTitles = map[string]map[string]string{"moderator": {"en": "Host", "de": "Moderation"}}
	}))
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	b := e.browser()
	e.enter(b, "/")
	get := func(lang string) string {
		req := mustGet(t, e.url("/"))
		req.Header.Set("Accept-Language", lang)
		return body(t, b.Do(t, req))
	}
	if page := get("de"); !strings.Contains(page, `<span class="role">Moderation</span>`) {
		t.Errorf("German room list:\n%s", page)
	}
	if page := get("en"); !strings.Contains(page, `<span class="role">Host</span>`) || !strings.Contains(page, `<span class="role">attendee</span>`) {
		t.Errorf("English room list (a role without a title keeps its name):\n%s", page)
	}
	if tok := e.roomToken(first(e.enter(b, "/standup")), "daily-standup"); tok.Role != "moderator" {
		t.Errorf("the token's role: %q; want the role's own name", tok.Role)
	}
}
