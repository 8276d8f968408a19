package idp

import (
	"context"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// Where the sign-in page lives, below the issuer's path.
const (
	loginPath = "/login"
	stylePath = "/login.css"
)

//go:embed web
var web embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"join": strings.Join,
}).ParseFS(web, "web/pages.html"))

// login is the sign-in page: the op package sends the browser here with
// ?authRequestID=, the visitor picks a person, and the page sends the
// browser back to op's callback, which issues the code.
type login struct {
	store    *storage
	people   []Person
	base     string // the issuer's path, for links on the page
	csp      string
	callback func(ctx context.Context, requestID string) string
}

func newLogin(store *storage, cfg Config, callback func(context.Context, string) string) (*login, error) {
	issuer, err := url.Parse(cfg.Issuer)
	if err != nil {
		return nil, err
	}
	// After the form is posted the browser is redirected, through op's
	// callback, to the client's redirect URI; form-action must allow that
	// origin too, or a browser stops at the redirect.
	formAction := "'self'"
	if ru, err := url.Parse(cfg.RedirectURI); err == nil && ru.Scheme != "" && ru.Host != "" {
		formAction += " " + ru.Scheme + "://" + ru.Host
	}
	return &login{
		store:    store,
		people:   cfg.People,
		base:     strings.TrimSuffix(issuer.Path, "/"),
		csp:      "default-src 'none'; style-src 'self'; form-action " + formAction + "; frame-ancestors 'none'; base-uri 'none'",
		callback: callback,
	}, nil
}

// serveForm shows the people to pick from for one authorization request.
func (l *login) serveForm(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	if _, err := l.store.AuthRequestByID(r.Context(), id); err != nil {
		l.problem(w, http.StatusBadRequest, "This sign-in has expired",
			"The sign-in link is too old or was already used. Go back to the room's address and open it again.")
		return
	}
	l.render(w, http.StatusOK, "pick", map[string]any{
		"Title":     "Sign in",
		"Base":      l.base,
		"RequestID": id,
		"People":    l.people,
	})
}

// servePick finishes the sign-in as the picked person and sends the browser
// on to op's callback. http.CrossOriginProtection in front of it refuses a
// post from another site, so a page elsewhere cannot sign someone in as a
// person of its choosing.
func (l *login) servePick(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		l.problem(w, http.StatusBadRequest, "Sign-in failed", "The form could not be read. Go back to the room's address and open it again.")
		return
	}
	id := r.PostForm.Get("id")
	if err := l.store.pick(id, r.PostForm.Get("person")); err != nil {
		slog.Info("idp: sign-in refused", "err", err)
		l.problem(w, http.StatusBadRequest, "Sign-in failed",
			"That sign-in has expired, was already finished, or named nobody on the list. Go back to the room's address and open it again.")
		return
	}
	// 303: the browser follows with a GET.
	http.Redirect(w, r, l.callback(r.Context(), id), http.StatusSeeOther)
}

func (l *login) problem(w http.ResponseWriter, status int, title, message string) {
	l.render(w, status, "problem", map[string]any{"Title": title, "Message": message, "Base": l.base})
}

func (l *login) render(w http.ResponseWriter, status int, name string, data map[string]any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", l.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		slog.Error("idp: rendering page", "page", name, "err", err)
	}
}

func serveStyle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	http.ServeFileFS(w, r, web, "web/login.css")
}
