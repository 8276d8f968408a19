package gateway

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/mapping"
)

//go:embed web/*.html
var templateFS embed.FS

// staticFS is what /static/ serves: the style sheet, never the templates.
//
//go:embed web/*.css
var staticFS embed.FS

// problem is the human side of something that went wrong: a title, what
// happened and what to do. The internal error is logged, never shown.
type problem struct {
	Title  string
	Body   string
	Action string // label of the link to try again; empty for none
	Href   string
	// SignedInAs, on a page for a signed-in person, says as whom, and
	// offers another account (POST /auth/switch back to Switch).
	SignedInAs string
	Switch     string
	// Links are offered below the text, such as the rooms one may enter.
	Links []link
}

// link is a link of a page.
type link struct{ Href, Text string }

var (
	pageInternal = problem{
		Title: "Something went wrong",
		Body:  "roomgate could not finish this request. Please try again in a moment.",
	}
	pageProviderDown = problem{
		Title:  "The sign-in service is not answering",
		Body:   "roomgate could not reach your company's sign-in service. This is usually brief: try again in a minute.",
		Action: "Try again", Href: "/",
	}
	pageLoginExpired = problem{
		Title:  "This sign-in has expired",
		Body:   "The sign-in took too long, was already used, or was started in another browser. Open the room link again to start over.",
		Action: "Start again", Href: "/",
	}
	pageLoginFailed = problem{
		Title:  "Sign-in could not be completed",
		Body:   "Your company's sign-in service answered, but roomgate could not verify the answer. Start again; if it keeps happening, tell whoever looks after roomgate.",
		Action: "Start again", Href: "/",
	}
	pageTooManySignIns = problem{
		Title:  "Too many sign-ins at once",
		Body:   "More sign-ins came from your network address than people make. Wait a few seconds, then open the room link again.",
		Action: "Start again", Href: "/",
	}
	pageLoginDenied = problem{
		Title:  "Sign-in was cancelled",
		Body:   "The sign-in service did not let you through (you may have cancelled, or may not be allowed to use roomgate).",
		Action: "Try again", Href: "/",
	}
)

// notFoundPage answers a room path no room has. It repeats the path only
// when it could be a room path (the room-path alphabet, short), so no link
// can make the gateway's own page say a sentence of someone else's.
func notFoundPage(path string) problem {
	body := "There is no meeting room at this address. Check the link you were given."
	if _, ok := safeReturnPath("/" + path); ok && path != "" {
		body = fmt.Sprintf("No meeting room lives at /%s. Check the link you were given.", path)
	}
	return problem{
		Title:  "There is no such room",
		Body:   body,
		Action: "See the rooms you can enter", Href: "/",
	}
}

func deniedPage(room *mapping.Room, d mapping.Decision, now time.Time) problem {
	if d.Closed {
		// Allowed, only not yet: never say otherwise.
		return problem{
			Title:  room.Title + " is closed now",
			Body:   fmt.Sprintf("You may enter %q as %s, but not at this hour: it %s. Come back then, with the same link.", room.Title, d.Rule.Role, room.Open.OpensText(now, d.Rule.Early)),
			Action: "See the rooms you can enter", Href: "/",
		}
	}
	body := fmt.Sprintf("You are signed in, but no rule for %q lets you in.", room.Title)
	if d.Rule != nil && d.Rule.Deny {
		body = fmt.Sprintf("You are signed in, but the rules for %q keep you out of this room.", room.Title)
	}
	return problem{
		Title:  "You can't enter " + room.Title,
		Body:   body + " If you should be in this meeting, ask its organiser or the contact below to add you.",
		Action: "See the rooms you can enter", Href: "/",
	}
}

// pages renders the HTML templates.
type pages struct {
	tmpl    *template.Template
	contact string
}

func newPages(contact string, brand config.Brand) (*pages, error) {
	t, err := template.New("").Funcs(template.FuncMap{
		"brand": func() string { return brand.Name },
		"logo":  func() string { return brand.Logo },
	}).ParseFS(templateFS, "web/*.html")
	if err != nil {
		return nil, err
	}
	return &pages{tmpl: t, contact: contact}, nil
}

// render writes a full page. It renders into a buffer first, so a template
// failure becomes a clean error page rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	data["RequestID"] = requestID(r)
	data["Contact"] = s.pages.contact
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
		s.log.Log(r.Context(), level, "request failed", "request_id", requestID(r), "status", status, "path", r.URL.Path, "err", err)
	}
	s.render(w, r, status, "problem.html", map[string]any{"Problem": p, "Status": status})
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
			http.Redirect(w, r, p, http.StatusMovedPermanently)
			return
		}
	}
	s.fail(w, r, http.StatusNotFound, problem{
		Title:  "There is nothing here",
		Body:   "This address is not a meeting room or a page of roomgate.",
		Action: "See the rooms you can enter", Href: "/",
	}, nil)
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
