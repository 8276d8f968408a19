package gateway

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// With several providers, a person who has no session chooses where to
// sign in: a page with the providers' titles, the one used last in this
// browser first, and an email box whose domain picks the provider by its
// email_domains and is passed on as login_hint. A room whose rules name
// providers: [id] skips the page (or shows only those); one provider never
// shows it. Choosing is a link to /auth/login (login.go), so the chooser
// itself keeps nothing.

// lastProviderCookie remembers, for a year, which provider this browser
// signed in with last. It says nothing secret, and is only a preference:
// the chooser puts that provider first.
const lastProviderCookie = "roomgate_provider"

// choice is one provider on the chooser.
type choice struct {
	Title, Href     string
	Last, Secondary bool // the one used last in this browser; another, when there is such a one
}

// serveChooser shows the chooser for ?next=; with one provider, it is
// the sign-in itself.
func (s *Server) serveChooser(w http.ResponseWriter, r *http.Request) {
	next, ok := safeReturnPath(r.URL.Query().Get("next"))
	if !ok {
		next = "/"
	}
	s.startLogin(w, r, next)
}

// choicesFor returns the providers a sign-in that comes back to returnTo
// may use: those the room there names, or all.
func (s *Server) choicesFor(returnTo string) []*provider {
	path, _, _ := strings.Cut(strings.TrimPrefix(returnTo, "/"), "/")
	if room, ok := s.rules.Load().Lookup(path); ok && len(room.Providers) > 0 {
		var out []*provider
		for _, p := range s.providers {
			if slices.Contains(room.Providers, p.name()) {
				out = append(out, p)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return s.providers
}

// showChooser answers with the chooser for a sign-in that comes back to
// next; problemKey, when set, says why it is shown again.
func (s *Server) showChooser(w http.ResponseWriter, r *http.Request, next, problemKey string) {
	choices := s.choicesFor(next)
	last := ""
	if c, err := r.Cookie(lastProviderCookie); err == nil {
		last = c.Value
	}
	var list []choice
	byEmail := false
	for _, p := range choices {
		q := url.Values{"next": {next}, "provider": {p.name()}}
		c := choice{Title: p.cfg.Title, Href: s.path("/auth/login") + "?" + q.Encode(), Last: p.name() == last}
		if c.Last {
			list = slices.Insert(list, 0, c)
		} else {
			list = append(list, c)
		}
		byEmail = byEmail || len(p.cfg.EmailDomains) > 0
	}
	for i := range list {
		list[i].Secondary = list[0].Last && !list[i].Last
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", s.chooserCSP)
	s.render(w, r, http.StatusOK, "chooser.html", map[string]any{
		"TitleKey":   "chooser.title",
		"Choices":    list,
		"Next":       next,
		"ByEmail":    byEmail,
		"Email":      r.URL.Query().Get("email"),
		"ProblemKey": problemKey,
	})
}

// rememberProvider sets the cookie that puts p first on the chooser.
func (s *Server) rememberProvider(w http.ResponseWriter, p *provider) {
	if len(s.providers) < 2 {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: lastProviderCookie, Value: p.name(), Path: s.path("/"),
		MaxAge: int(365 * 24 * time.Hour / time.Second), HttpOnly: true,
		Secure: s.cfg.Server.PublicURL.Scheme == "https", SameSite: http.SameSiteLaxMode})
}

// providerName is the id of the provider that signed id in, as logs,
// metrics and the console name it.
func (s *Server) providerName(id *identity) string {
	if p := s.providerOf(id.Provider); p != nil {
		return p.name()
	}
	return id.Provider
}

// providerNamed returns the provider whose id is name, the primary's
// included, or nil.
func (s *Server) providerNamed(name string) *provider {
	for _, p := range s.providers {
		if p.name() == name {
			return p
		}
	}
	return nil
}

// providerForEmail returns the provider whose email_domains hold the
// domain of email, or nil.
func (s *Server) providerForEmail(email string) *provider {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return nil
	}
	domain := strings.ToLower(strings.TrimSuffix(email[at+1:], "."))
	for _, p := range s.providers {
		for _, d := range p.cfg.EmailDomains {
			if strings.ToLower(strings.TrimSuffix(d, ".")) == domain {
				return p
			}
		}
	}
	return nil
}
