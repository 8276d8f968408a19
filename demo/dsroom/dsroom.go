// Package dsroom stands in for Digital Samba's room entry: it checks a room
// token the way Digital Samba does and shows who entered, with which role.
//
// The end-to-end suite puts it where digitalsamba.url points, so that the
// gateway's tokens are verified by something that knows only the team id and
// the developer key; `roomgate demo` uses it as its local room.
//
// What is checked, from Digital Samba's documentation
// (shared/reference/digitalsamba.md):
//   - the token is a JWT signed with HS256 and the developer key; no other
//     algorithm (not "none", not RS256, not HS384) and no other key;
//   - td is the team id and rd is the room in the URL (its friendly URL or
//     UUID, compared after unescaping the path segment);
//   - iat, nbf and exp are present, and now lies in [nbf, exp], with Leeway
//     either side;
//   - role is present. Digital Samba would fall back to the room's default
//     role; the stand-in refuses instead, because roomgate promises never to
//     mint a token without a role.
package dsroom

import (
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Leeway is the clock skew allowed on iat, nbf and exp. Digital Samba
// documents none; a few seconds keep a test on one machine honest while
// still catching a token that is minutes off.
const Leeway = 5 * time.Second

// Claims are the claims of a Digital Samba room token, with Digital Samba's
// spelling.
type Claims struct {
	// TeamID is td, the team the token is for.
	TeamID string `json:"td"`
	// Room is rd, the room's friendly URL or UUID.
	Room string `json:"rd"`
	// Role is the role name the person enters with.
	Role string `json:"role,omitempty"`
	// Name is u, the display name.
	Name string `json:"u,omitempty"`
	// UserID is ud, the external user id.
	UserID string `json:"ud,omitempty"`
	// Initials are shown on the person's tile.
	Initials string `json:"initials,omitempty"`
	// Avatar is an image URL shown when the camera is off.
	Avatar string `json:"avatar,omitempty"`
	// BreakoutID is a breakout room to join directly.
	BreakoutID string `json:"breakoutId,omitempty"`
	jwt.RegisteredClaims
}

// Entry is one attempt to enter a room.
type Entry struct {
	// Room is the room named in the URL, unescaped.
	Room string
	// Claims are the token's claims as far as they could be decoded. When
	// Valid is false they may be unverified or empty: never trust them then.
	Claims Claims
	// Valid reports whether the token let the person in.
	Valid bool
	// Why says why the entry was refused; empty when Valid.
	Why string
	// Status is the HTTP status the stand-in answered with.
	Status int
	// Decided is what the Stand's Describe said about the token's jti (in
	// the demo: the rule that let the person in); empty when Describe is
	// nil, knows nothing of the jti, or the entry was refused.
	Decided string
}

// Stand is an http.Handler serving GET /{room}?token=JWT like a Digital
// Samba team URL. It records every entry; see Entries.
type Stand struct {
	// Describe, when set, is asked about the jti of each token that lets a
	// person in, and what it returns is shown on the room page. The token
	// cannot say which rule decided (Digital Samba fixes its claims), so
	// `roomgate demo` answers from the gateway's audit lines, which carry
	// the jti. Set it before the Stand serves; it must be safe for
	// concurrent use.
	Describe func(jti string) (string, bool)
	// Back, when set, is a link from the room page back to the gateway's
	// room list.
	Back string

	teamID string
	key    []byte
	now    func() time.Time
	mux    *http.ServeMux

	mu      sync.Mutex
	entries []Entry
}

// New returns a stand-in for the team teamID whose room tokens are signed
// with developerKey. now is the clock; nil means time.Now.
func New(teamID, developerKey string, now func() time.Time) *Stand {
	if now == nil {
		now = time.Now
	}
	s := &Stand{teamID: teamID, key: []byte(developerKey), now: now, mux: http.NewServeMux()}
	// Browsers ask for an icon; that is not an attempt to enter a room.
	s.mux.HandleFunc("GET /favicon.ico", http.NotFound)
	s.mux.HandleFunc("GET /{room}", s.serveRoom)
	return s
}

// Entries returns a copy of every entry so far, oldest first.
func (s *Stand) Entries() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Entry(nil), s.entries...)
}

// ServeHTTP answers GET /{room}?token=JWT: a page saying who entered, or a
// 401 (no usable token) or 403 (a good token for another team or room, or
// without a role) page saying why not.
func (s *Stand) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

func (s *Stand) serveRoom(w http.ResponseWriter, r *http.Request) {
	e := s.check(r.PathValue("room"), r.URL.Query().Get("token"))
	// Only a verified token's jti is worth asking about.
	if e.Valid && s.Describe != nil && e.Claims.ID != "" {
		if d, ok := s.Describe(e.Claims.ID); ok {
			e.Decided = d
		}
	}
	s.mu.Lock()
	s.entries = append(s.entries, e)
	s.mu.Unlock()
	if !e.Valid {
		// Why never contains the token, only what was wrong with it.
		slog.Info("dsroom: entry refused", "room", e.Room, "why", e.Why)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(e.Status)
	if err := page.Execute(w, struct {
		Entry
		Back string
	}{e, s.Back}); err != nil {
		slog.Error("dsroom: render page", "err", err)
	}
}

// check decides an entry into room with token.
func (s *Stand) check(room, token string) Entry {
	e := Entry{Room: room}
	refuse := func(status int, format string, args ...any) Entry {
		e.Status = status
		e.Why = fmt.Sprintf(format, args...)
		return e
	}
	if token == "" {
		return refuse(http.StatusUnauthorized, "no token: this room cannot be entered without one")
	}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithTimeFunc(s.now),
		jwt.WithLeeway(Leeway),
		jwt.WithIssuedAt(),
		jwt.WithExpirationRequired(),
		jwt.WithNotBeforeRequired(),
	)
	_, err := p.ParseWithClaims(token, &e.Claims, func(t *jwt.Token) (any, error) {
		return s.key, nil
	})
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return refuse(http.StatusUnauthorized, "the token is not a JWT: %v", err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return refuse(http.StatusUnauthorized, "the token is not signed with HS256 and this team's developer key: %v", err)
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return refuse(http.StatusUnauthorized, "the token lacks a time claim (iat, nbf and exp are all required): %v", err)
	case errors.Is(err, jwt.ErrTokenExpired):
		return refuse(http.StatusUnauthorized, "the token has expired: %v", err)
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return refuse(http.StatusUnauthorized, "the token is not valid yet: %v", err)
	case err != nil:
		return refuse(http.StatusUnauthorized, "the token is invalid: %v", err)
	}
	// The parser checks iat only when it is there.
	if e.Claims.IssuedAt == nil {
		return refuse(http.StatusUnauthorized, "the token lacks a time claim (iat, nbf and exp are all required): iat is missing")
	}
	if e.Claims.TeamID != s.teamID {
		return refuse(http.StatusForbidden, "the token is for team %q; this is team %q", e.Claims.TeamID, s.teamID)
	}
	if e.Claims.Room != room {
		return refuse(http.StatusForbidden, "the token is for room %q; this is room %q", e.Claims.Room, room)
	}
	if e.Claims.Role == "" {
		return refuse(http.StatusForbidden, "the token names no role")
	}
	e.Valid = true
	e.Status = http.StatusOK
	return e
}

var page = template.Must(template.New("room").Funcs(template.FuncMap{
	"unix": func(d *jwt.NumericDate) string {
		if d == nil {
			return ""
		}
		return d.UTC().Format(time.RFC3339)
	},
}).Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .Valid}}{{.Room}}{{else}}Cannot enter {{.Room}}{{end}} (room stand-in)</title>
<style>
:root{color-scheme:light dark}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#111827}
main{max-width:40rem;margin:2rem auto;padding:0 1rem}
.card{background:#fff;border-radius:10px;padding:1.5rem;box-shadow:0 1px 3px #0002}
.note{color:#6b7280;font-size:.9rem}dt{font-weight:600}dd{margin:0 0 .5rem}code{word-break:break-all}a{color:#2456d3}
@media (prefers-color-scheme:dark){body{background:#0f1115;color:#e5e7eb}.card{background:#1a1d24}.note{color:#9ca3af}a{color:#8ab4ff}}
</style></head>
<body><main><section class="card">
<p class="note">Local stand-in for a Digital Samba room</p>
{{if .Valid}}
<h1 id="entered">You are in {{.Room}} as {{.Claims.Role}}</h1>
{{with .Decided}}<p id="decided">{{.}}</p>
{{end -}}
<dl>
{{with .Claims.Name}}<dt>u (name)</dt><dd id="u">{{.}}</dd>{{end}}
{{with .Claims.UserID}}<dt>ud (user id)</dt><dd id="ud">{{.}}</dd>{{end}}
<dt>role</dt><dd id="role">{{.Claims.Role}}</dd>
{{with .Claims.Initials}}<dt>initials</dt><dd id="initials">{{.}}</dd>{{end}}
{{with .Claims.Avatar}}<dt>avatar</dt><dd id="avatar">{{.}}</dd>{{end}}
<dt>jti</dt><dd id="jti"><code>{{.Claims.ID}}</code></dd>
<dt>exp</dt><dd id="exp">{{unix .Claims.ExpiresAt}}</dd>
</dl>
{{else}}
<h1 id="refused">You cannot enter {{.Room}}</h1>
<p id="why">{{.Why}}</p>
{{end}}
{{with .Back}}<p><a href="{{.}}">Back to your rooms</a></p>{{end}}
</section></main></body>
</html>
`))

var _ http.Handler = (*Stand)(nil)
