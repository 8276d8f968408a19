package gateway

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/mapping"
)

//go:embed web/*.html
var templateFS embed.FS

// staticFS is what /static/ serves: the style sheet and the invite page's
// copy button, never the templates.
//
//go:embed web/*.css web/*.js
var staticFS embed.FS

// problem is the human side of something that went wrong: a title, what
// happened and what to do, in the person's language (Key names the texts
// KEY.title, KEY.body and KEY.action of web/lang; Args fill them in). The
// internal error is logged, never shown.
type problem struct {
	Key     string
	BodyKey string   // another body than KEY.body, when set
	Args    []string // name, value, ... for the texts' {placeholders}
	Href    string   // where KEY.action leads; "" for no action
	// SignedInAs, on a page for a signed-in person, says as whom, and
	// offers another account (POST /auth/switch back to Switch).
	SignedInAs string
	Switch     string
	// Rooms are offered below the text: the rooms one may enter, as the
	// start page lists them.
	Rooms []entry
	opens *opening // for a closed room: {when} and {in} in the person's words
}

// opening is when a closed room opens for a rule's people.
type opening struct {
	hours *mapping.Hours
	at    time.Time
	early time.Duration
}

// link is a link of a page.

var (
	pageInternal       = problem{Key: "internal"}
	pageProviderDown   = problem{Key: "provider_down", Href: "/"}
	pageLoginExpired   = problem{Key: "login_expired", Href: "/"}
	pageLoginFailed    = problem{Key: "login_failed", Href: "/"}
	pageTooManySignIns = problem{Key: "too_many", Href: "/"}
	pageLoginDenied    = problem{Key: "login_denied", Href: "/"}
	pageGroupsOverage  = problem{Key: "overage", Href: "/"}
	// pageGroupsTooLarge is shown when the groups the rules need do not
	// fit in a browser's session.
	pageGroupsTooLarge = problem{Key: "too_large", Href: "/"}
)

// notFoundPage answers a room path no room has. It repeats the path only
// when it could be a room path (the room-path alphabet, short), so no link
// can make the gateway's own page say a sentence of someone else's.
func notFoundPage(path string) problem {
	p := problem{Key: "not_found", Href: "/"}
	if _, ok := safeReturnPath("/" + path); ok && path != "" {
		p.BodyKey, p.Args = "not_found.body_path", []string{"path", path}
	}
	return p
}

// deniedPage answers a room the person may not enter now. A closed room
// says when it opens (allowed, only not yet: never otherwise); the rest
// says whether no rule covers them or a rule keeps them out.
func deniedPage(room *mapping.Room, d mapping.Decision, now time.Time) problem {
	switch {
	case d.Closed:
		return problem{Key: "closed", BodyKey: "closed.body", Href: "/", Args: []string{"room", room.Title, "role", d.Rule.Role},
			opens: &opening{hours: room.Open, at: now, early: d.Rule.Early}}
	case d.Rule != nil && d.Rule.Deny:
		return problem{Key: "denied", BodyKey: "denied.rule", Href: "/", Args: []string{"room", room.Title}}
	}
	return problem{Key: "denied", BodyKey: "denied.no_rule", Href: "/", Args: []string{"room", room.Title}}
}

// pages renders the HTML templates.
type pages struct {
	tmpl    *template.Template
	contact string
	langs   *catalogs
}

func newPages(contact string, brand config.Brand, languages []string) (*pages, error) {
	langs, err := loadCatalogs(languages)
	if err != nil {
		return nil, err
	}
	t, err := template.New("").Funcs(template.FuncMap{
		"brand": func() string { return brand.Name },
		"logo":  func() string { return brand.Logo },
		"list":  func(xs ...string) []string { return xs },
	}).ParseFS(templateFS, "web/*.html")
	if err != nil {
		return nil, err
	}
	return &pages{tmpl: t, contact: contact, langs: langs}, nil
}

// render writes a full page. It renders into a buffer first, so a template
// failure becomes a clean error page rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	c := s.pages.langs.pick(r)
	data["RequestID"] = requestID(r)
	data["Contact"] = s.pages.contact
	data["Lang"] = c.tag.String()
	// Path is where the browser finds a route path of this gateway:
	// {{call .Path "/auth/logout"}}.
	data["Path"] = s.path
	// T is the person's language in the templates: {{call .T "key" "name" value}}.
	data["T"] = func(key string, args ...string) string { return s.pages.langs.t(c, key, args...) }
	if key, ok := data["TitleKey"].(string); ok {
		data["PageTitle"] = s.pages.langs.t(c, key)
	}
	var buf bytes.Buffer
	if err := s.pages.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		s.log.Error("rendering page", "request_id", requestID(r), "page", name, "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		fmt.Fprintf(&buf, "<!doctype html><title>Error</title><p>Something went wrong. Request id %s.</p>", template.HTMLEscapeString(requestID(r)))
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail is the one place that answers a request with an error: it logs the
// internal error (if any) with the request id and shows the person a short
// page with what happened, what to do, and the same id.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, p problem, err error) {
	if err != nil {
		level := slog.LevelWarn
		if status >= 500 {
			level = slog.LevelError
		}
		s.log.Log(r.Context(), level, "request failed", "request_id", requestID(r), "status", status, "path", loggedPath(r), "err", err)
	}
	c := s.pages.langs.pick(r)
	args := slices.Clone(p.Args)
	for i := 0; i+1 < len(args); i += 2 {
		if args[i] == "role" {
			args[i+1] = s.roleTitle(c, args[i+1])
		}
	}
	if p.opens != nil {
		when, in, ok := s.pages.langs.opens(c, p.opens.hours, p.opens.at, p.opens.early)
		if !ok {
			p.BodyKey = "closed.none"
		}
		args = append(args, "when", when, "in", in)
	}
	t := func(key string) string { return s.pages.langs.t(c, key, args...) }
	body := p.BodyKey
	if body == "" {
		body = p.Key + ".body"
	}
	page := shownProblem{problem: p, Title: t(p.Key + ".title"), Body: t(body)}
	if p.Href != "" {
		page.Action = t(p.Key + ".action")
		if _, ok := s.pages.langs.all[0].texts[p.Key+".action"]; !ok {
			page.Action = t("rooms.link")
		}
	}
	s.render(w, r, status, "problem.html", map[string]any{"Problem": page, "Status": status, "PageTitle": page.Title})
}

// loggedPath is r's path as a log line may show it: a guest link's route
// pattern, never the link, which lets its holder in.
func loggedPath(r *http.Request) string {
	if strings.Contains(r.URL.Path, "/guest/") {
		return "/guest/{token}"
	}
	return r.URL.Path
}

// shownProblem is a problem with its texts in the person's language.
type shownProblem struct {
	problem
	Title, Body, Action string
}

// providerDown answers when the provider cannot be reached. "Try again"
// returns to the room the person asked for.
func (s *Server) providerDown(w http.ResponseWriter, r *http.Request, err error) {
	p := pageProviderDown
	if path, ok := safeReturnPath(r.URL.Path); ok && r.Method == http.MethodGet {
		p.Href = path
	}
	s.fail(w, r, http.StatusBadGateway, p, err)
}

// serveNotFound answers every path no route claims. /standup/ is /standup:
// a trailing slash on one segment redirects, for a room or not, so it
// tells nobody which rooms exist.
func (s *Server) serveNotFound(w http.ResponseWriter, r *http.Request) {
	if seg, ok := strings.CutSuffix(r.URL.Path, "/"); ok && r.Method == http.MethodGet && !isReserved(strings.TrimPrefix(seg, "/")) {
		if p, ok := safeReturnPath(seg); ok && p != "/" {
			s.redirect(w, r, p, http.StatusMovedPermanently)
			return
		}
	}
	s.fail(w, r, http.StatusNotFound, problem{Key: "nothing", Href: "/"}, nil)
}

// staticHandler serves the files of staticFS by name, and nothing else:
// no directory listings, no index pages.
func staticHandler(notFound http.HandlerFunc) http.Handler {
	sub, err := fs.Sub(staticFS, "web")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if st, err := fs.Stat(sub, name); err != nil || st.IsDir() || strings.Contains(name, "/") {
			notFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		http.ServeFileFS(w, r, sub, name)
	})
}
