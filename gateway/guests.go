package gateway

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/roomgate/roomgate/internal/metrics"
	"github.com/roomgate/roomgate/internal/store"
	"github.com/roomgate/roomgate/mapping"
)

// Guests: a person whose deciding rule says invite: true makes a link at
// /{path}/invite; whoever holds it enters the room as a guest at
// /guest/{token}. The link is a capability: 256 random bits, of which the
// store keeps only a hash, and no log line, metric or page but the
// guest's own shows it.

// The bounds of an invitation.
const (
	maxGuestName   = 64 // characters of a guest's name, before " (guest)"
	maxBrowsers    = 20 // browsers one invitation may let in
	guestCookieAge = 30 * 24 * time.Hour
	storeTimeout   = 3 * time.Second
)

// guestSuffix ends every guest's name in the room, so that no guest can
// pass for an employee.
const guestSuffix = " (guest)"

// NewInvitation makes an invitation for guest to room, valid for valid
// from now, for browsers browsers, and returns it with its link's token,
// which the invitation does not hold: only its hash. The invite page and
// roomgate invite create both make theirs here.
func NewInvitation(room, guest string, by store.Inviter, now time.Time, valid time.Duration, browsers int) (inv store.Invitation, token string) {
	token, hash := newLink()
	return store.Invitation{
		ID: randomToken()[:12], Hash: hash, Room: room, Guest: guest, Inviter: by,
		Created: now, Expires: now.Add(valid), Browsers: browsers,
	}, token
}

// GuestLink is the link of token for a gateway at publicURL.
func GuestLink(publicURL, token string) string {
	return strings.TrimSuffix(publicURL, "/") + "/guest/" + token
}

// MaxBrowsers is how many browsers one invitation may let in at most.
const MaxBrowsers = maxBrowsers

// newLink returns a new link token and the hash the store keeps of it.
func newLink() (token, hash string) {
	var b [32]byte
	rand.Read(b[:])
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, linkHash(token)
}

// linkHash is what the store knows a link by.
func linkHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// isLinkToken reports whether s could be newLink's token: 43 characters
// of base64url. Anything else is refused without asking the store.
func isLinkToken(s string) bool {
	if len(s) != 43 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// GuestName makes a name fit to show as a guest's: control and
// bidirectional-formatting characters out (they could make "Eve (guest)"
// read as another name), spaces collapsed, at most 64 characters.
func GuestName(s string) string {
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		switch {
		// Cf holds every bidirectional control and invisible format character.
		case r == utf8.RuneError, unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		}
		if n >= maxGuestName {
			break
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// twoSegments routes /guest/{token} to guest and /{path}/invite to
// invite, naming the route as if each had its own pattern (metrics, logs),
// and every other path of two segments to the not-found page.
func (s *Server) twoSegments(guest, invite http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		first, second := r.PathValue("first"), r.PathValue("second")
		switch {
		case first == "guest":
			r.Pattern = r.Method + " /guest/{token}"
			r.SetPathValue("token", second)
			guest(w, r)
		case second == "invite" && !isReserved(first):
			r.Pattern = r.Method + " /{path}/invite"
			r.SetPathValue("path", first)
			invite(w, r)
		default:
			s.serveNotFound(w, r)
		}
	}
}

// inviteRoom is the room at path when id may invite guests to it now, with
// the decision; ok is false otherwise.
func (s *Server) inviteRoom(id *identity, path string) (room *mapping.Room, ok bool) {
	rules := s.rules.Load()
	room, found := rules.Lookup(path)
	if !found || room.Guests == nil {
		return nil, false
	}
	d := room.DecideAt(rules.Person(id.Provider, id.Groups, id.Email), s.now())
	return room, d.MayInvite()
}

// inviter signs in the person for the invitation pages: it answers and
// returns nil when they are not signed in, revoked or may not invite.
func (s *Server) inviter(w http.ResponseWriter, r *http.Request) (*identity, *mapping.Room) {
	path := r.PathValue("path")
	id := s.sessions.load(r)
	if id == nil {
		s.startLogin(w, r, "/"+path+"/invite")
		return nil, nil
	}
	if s.revokedSession(w, r, id, path) {
		return nil, nil
	}
	if id = s.fresh(w, r, s.rules.Load(), id, "/"+path+"/invite"); id == nil {
		return nil, nil
	}
	room, ok := s.inviteRoom(id, path)
	if !ok {
		// The same page as for any path that is not there: who may not
		// invite cannot tell a room with guests from none.
		s.fail(w, r, http.StatusNotFound, problem{Key: "nothing", Href: "/"}, nil)
		return nil, nil
	}
	return id, room
}

// validChoices are the validities the invite page offers, up to the room's
// guests.max_valid (which is always one of them).
func validChoices(maxValid time.Duration) []time.Duration {
	var out []time.Duration
	for _, d := range []time.Duration{time.Hour, 4 * time.Hour, 24 * time.Hour, 72 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour} {
		if d < maxValid {
			out = append(out, d)
		}
	}
	return append(out, maxValid)
}

// shownInvitation is an invitation as the invite page lists it.
type shownInvitation struct {
	ID, Guest, State, Until string
	Open                    bool
}

// serveInvite is the invite page: a form for a new link, and the person's
// invitations for the room with their state.
func (s *Server) serveInvite(w http.ResponseWriter, r *http.Request) {
	id, room := s.inviter(w, r)
	if id == nil {
		return
	}
	s.renderInvite(w, r, id, room, http.StatusOK, "", "")
}

// renderInvite renders the invite page; link, when set, is a new
// invitation's link, shown this once; problem is a text key.
func (s *Server) renderInvite(w http.ResponseWriter, r *http.Request, id *identity, room *mapping.Room, status int, link, problemKey string) {
	c := s.pages.langs.pick(r)
	now := s.now()
	var mine []shownInvitation
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	invs, err := s.revoked.Store().Invitations(ctx, room.Path)
	if err != nil {
		s.log.Warn("listing invitations", "request_id", requestID(r), "err", err)
		problemKey = "invite.store_down"
	}
	for _, inv := range invs {
		if inv.Inviter.UserID != id.UserID {
			continue
		}
		si := shownInvitation{ID: inv.ID, Guest: inv.Guest, Until: s.pages.langs.date(c, inv.Expires.In(zoneOf(room))), Open: inv.Open(now)}
		switch {
		case !inv.Revoked.IsZero():
			si.State = s.pages.langs.t(c, "invite.state.revoked")
		case !now.Before(inv.Expires):
			si.State = s.pages.langs.t(c, "invite.state.expired")
		case len(inv.Used) == 0:
			si.State = s.pages.langs.t(c, "invite.state.unused")
		default:
			si.State = s.pages.langs.t(c, "invite.state.used", "n", strconv.Itoa(len(inv.Used)), "m", strconv.Itoa(inv.Browsers))
		}
		mine = append(mine, si)
	}
	var valid []map[string]string
	for _, d := range validChoices(room.Guests.MaxValid) {
		valid = append(valid, map[string]string{"Value": d.String(), "Label": s.pages.langs.t(c, "invite.valid_for", "until", s.pages.langs.date(c, now.Add(d).In(zoneOf(room))))})
	}
	data := map[string]any{
		"TitleKey":    "invite.title",
		"Room":        room,
		"Action":      "/" + room.Path + "/invite",
		"Link":        link,
		"Invitations": mine,
		"Valid":       valid,
		"MaxBrowsers": maxBrowsers,
		"Role":        s.roleTitle(c, room.Guests.Role),
	}
	if problemKey != "" {
		data["Problem"] = s.pages.langs.t(c, problemKey, "max", strconv.Itoa(store.MaxOpenInvitations))
	}
	// The copy button is the one script roomgate serves, from itself.
	w.Header().Set("Content-Security-Policy", s.csp+"; script-src 'self'")
	w.Header().Set("X-Robots-Tag", "noindex")
	s.render(w, r, status, "invite.html", data)
}

// zoneOf is the clock a room's times are shown on.
func zoneOf(room *mapping.Room) *time.Location {
	if room.Open != nil {
		return room.Open.Zone
	}
	return time.UTC
}

// serveCreateInvitation makes an invitation from the invite form, and
// shows its link once.
func (s *Server) serveCreateInvitation(w http.ResponseWriter, r *http.Request) {
	id, room := s.inviter(w, r)
	if id == nil {
		return
	}
	name := GuestName(r.PostFormValue("name"))
	valid, err := time.ParseDuration(r.PostFormValue("valid"))
	browsers, berr := strconv.Atoi(r.PostFormValue("browsers"))
	if name == "" || err != nil || valid <= 0 || valid > room.Guests.MaxValid || berr != nil || browsers < 1 || browsers > maxBrowsers {
		s.renderInvite(w, r, id, room, http.StatusBadRequest, "", "invite.invalid")
		return
	}
	inv, token := NewInvitation(room.Path, name, store.Inviter{UserID: id.UserID, Subject: id.subjectKey(), SID: id.sidKey(), Name: displayName(id), Email: id.Email},
		s.now(), valid, browsers)
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	if err := s.revoked.Store().CreateInvitation(ctx, inv); err != nil {
		key := "invite.store_down"
		if errors.Is(err, store.ErrTooManyInvitations) {
			key = "invite.too_many"
		} else {
			s.log.Warn("creating an invitation", "request_id", requestID(r), "err", err)
		}
		s.renderInvite(w, r, id, room, http.StatusServiceUnavailable, "", key)
		return
	}
	s.metrics.Invitation(metrics.InvitationCreated)
	s.auditInvitation(r, "created", inv, "", slog.Int("browsers", browsers), slog.String("expires", inv.Expires.UTC().Format(time.RFC3339)))
	s.renderInvite(w, r, id, room, http.StatusOK, GuestLink(s.cfg.Server.PublicURL.String(), token), "")
}

// serveRevokeInvitation ends one of the person's own invitations.
func (s *Server) serveRevokeInvitation(w http.ResponseWriter, r *http.Request) {
	id, room := s.inviter(w, r)
	if id == nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	st := s.revoked.Store()
	invID := r.PostFormValue("id")
	invs, err := st.Invitations(ctx, room.Path)
	if err == nil {
		err = store.ErrNoInvitation
		for _, inv := range invs {
			if inv.ID == invID && inv.Inviter.UserID == id.UserID {
				inv, err = st.RevokeInvitation(ctx, invID, id.UserID, s.now())
				if err == nil {
					s.metrics.Invitation(metrics.InvitationRevoked)
					s.auditInvitation(r, "revoked", inv, "", slog.String("by", id.UserID))
				}
			}
		}
	}
	if err != nil && !errors.Is(err, store.ErrNoInvitation) {
		s.log.Warn("revoking an invitation", "request_id", requestID(r), "err", err)
		s.renderInvite(w, r, id, room, http.StatusServiceUnavailable, "", "invite.store_down")
		return
	}
	s.redirect(w, r, "/"+room.Path+"/invite", http.StatusSeeOther)
}

// guestHeaders are sent with every guest page: the link is in its URL.
func guestHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Robots-Tag", "noindex, nofollow")
}

// guestInvitation finds the invitation of the link in r, and the room it
// lets into. A wrong, expired or revoked link, or one whose room has no
// guests any more or whose inviter was offboarded, is refused alike, with
// the same page, and counted against the client's address; why is for
// the audit line.
func (s *Server) guestInvitation(w http.ResponseWriter, r *http.Request) (inv store.Invitation, room *mapping.Room, ok bool) {
	guestHeaders(w)
	key := throttleKey(s.clientIP(r))
	now := s.now()
	if !s.guestFailures.allowed(key, now) {
		s.metrics.Invitation(metrics.InvitationRefused)
		s.fail(w, r, http.StatusTooManyRequests, problem{Key: "guest_throttled"}, nil)
		return inv, nil, false
	}
	token := r.PathValue("token")
	refuse := func(why string) (store.Invitation, *mapping.Room, bool) {
		s.guestFailures.failed(key, now)
		s.metrics.Invitation(metrics.InvitationRefused)
		s.auditInvitation(r, "refused", inv, why)
		s.fail(w, r, http.StatusNotFound, problem{Key: "guest_invalid"}, nil)
		return inv, nil, false
	}
	if !isLinkToken(token) {
		return refuse("unknown link")
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	inv, err := s.revoked.Store().Invitation(ctx, linkHash(token))
	switch {
	case errors.Is(err, store.ErrNoInvitation):
		return refuse("unknown or expired link")
	case err != nil:
		// Fail closed: without the store nobody knows whether it ended.
		s.log.Warn("reading an invitation", "request_id", requestID(r), "err", err)
		s.fail(w, r, http.StatusServiceUnavailable, problem{Key: "guest_store_down"}, nil)
		return inv, nil, false
	case !inv.Revoked.IsZero():
		return refuse("revoked")
	case !now.Before(inv.Expires):
		return refuse("expired")
	}
	if at, ok := s.revoked.Latest(inv.Inviter.UserID, inv.Inviter.Subject, inv.Inviter.SID); ok && !inv.Created.After(at) {
		return refuse("the inviter's sessions were revoked")
	}
	room, found := s.rules.Load().Lookup(inv.Room)
	if !found || room.Guests == nil {
		return refuse("the room takes no guests any more")
	}
	return inv, room, true
}

// serveGuest is what a link opens: a page that says where it leads and
// consumes nothing, for mail scanners open links.
func (s *Server) serveGuest(w http.ResponseWriter, r *http.Request) {
	inv, room, ok := s.guestInvitation(w, r)
	if !ok {
		return
	}
	c := s.pages.langs.pick(r)
	w.Header().Set("Content-Security-Policy", s.guestCSP)
	s.render(w, r, http.StatusOK, "guest.html", map[string]any{
		"TitleKey": "guest.title",
		"Room":     room.Title,
		"Inviter":  inv.Inviter.Name,
		"Until":    s.pages.langs.date(c, inv.Expires.In(zoneOf(room))),
		"Guest":    inv.Guest,
		"Action":   "/guest/" + r.PathValue("token"),
	})
}

// serveGuestEntry lets the guest in: a slot of the invitation for this
// browser (the same browser again uses none), a room token with the
// room's guest role, and off into the room.
func (s *Server) serveGuestEntry(w http.ResponseWriter, r *http.Request) {
	inv, room, ok := s.guestInvitation(w, r)
	if !ok {
		return
	}
	now := s.now()
	if room.Open != nil && !room.Open.Open(now) {
		p := problem{Key: "closed", BodyKey: "closed.body_guest", Args: []string{"room", room.Title},
			opens: &opening{hours: room.Open, at: now}}
		s.auditInvitation(r, "refused", inv, "the room is closed")
		s.metrics.Invitation(metrics.InvitationRefused)
		s.fail(w, r, http.StatusForbidden, p, nil)
		return
	}
	browser := s.guestBrowser(w, r)
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	inv, err := s.revoked.Store().RedeemInvitation(ctx, inv.Hash, linkHash(browser), now)
	switch {
	case errors.Is(err, store.ErrNoBrowserLeft):
		s.auditInvitation(r, "refused", inv, "every browser it allows has been used")
		s.metrics.Invitation(metrics.InvitationRefused)
		s.fail(w, r, http.StatusForbidden, problem{Key: "guest_used"}, nil)
		return
	case errors.Is(err, store.ErrNoInvitation), errors.Is(err, store.ErrInvitationEnded):
		s.guestFailures.failed(throttleKey(s.clientIP(r)), now)
		s.auditInvitation(r, "refused", inv, "ended")
		s.metrics.Invitation(metrics.InvitationRefused)
		s.fail(w, r, http.StatusNotFound, problem{Key: "guest_invalid"}, nil)
		return
	case err != nil:
		s.log.Warn("redeeming an invitation", "request_id", requestID(r), "err", err)
		s.fail(w, r, http.StatusServiceUnavailable, problem{Key: "guest_store_down"}, nil)
		return
	}
	name := GuestName(r.PostFormValue("name"))
	if name == "" {
		name = inv.Guest
	}
	guest := &identity{Name: name + guestSuffix, UserID: "guest:" + inv.ID}
	notAfter := openingEnd(room, mapping.Decision{}, now, s.tokens.ttl)
	if inv.Expires.Before(notAfter) {
		notAfter = inv.Expires
	}
	location, jti, err := s.tokens.entry(guest, room.Room, room.Guests.Role, notAfter)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, pageInternal, err)
		return
	}
	s.metrics.Invitation(metrics.InvitationEntered)
	s.metrics.RoomEntry(room.Path, room.Guests.Role)
	s.recordGuest(r, inv, guest.Name, "allow", room.Guests.Role, "invited by "+inv.Inviter.Name, jti)
	s.auditInvitation(r, "entered", inv, "", slog.String("guest", guest.Name), slog.String("role", room.Guests.Role),
		slog.Int("browsers_used", len(inv.Used)), slog.String("jti", jti))
	w.Header()["Location"] = []string{location}
	w.WriteHeader(http.StatusSeeOther)
}

// guestBrowser is this browser's id for invitations, from its cookie, or
// a new one it is given. The store keeps the id's hash among the
// browsers an invitation let in.
func (s *Server) guestBrowser(w http.ResponseWriter, r *http.Request) string {
	name := cookieName("roomgate_guest", s.secure())
	if c, err := r.Cookie(name); err == nil && isToken(c.Value) {
		return c.Value
	}
	id := randomToken()
	http.SetCookie(w, &http.Cookie{Name: name, Value: id, Path: "/", MaxAge: int(guestCookieAge / time.Second),
		HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode})
	return id
}

// secure reports whether cookies go over https only.
func (s *Server) secure() bool { return s.cfg.Server.PublicURL.Scheme == "https" }

// auditInvitation writes the audit line of something that happened to an
// invitation: its id, room and inviter, never the link.
func (s *Server) auditInvitation(r *http.Request, action string, inv store.Invitation, why string, attrs ...slog.Attr) {
	var requestID string
	if c := requestOf(r); c != nil {
		requestID, c.audited = c.id, true
	}
	line := []slog.Attr{
		slog.Bool("audit", true),
		slog.String("request_id", requestID),
		slog.String("client_ip", s.clientIP(r)),
		slog.String("action", action),
		slog.String("invitation", inv.ID),
		slog.String("room_path", inv.Room),
		slog.String("inviter", inv.Inviter.UserID),
	}
	if why != "" {
		line = append(line, slog.String("reason", why))
	}
	if action == "refused" {
		s.recordGuest(r, inv, inv.Guest, "refused", "", why, "")
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "invitation", append(line, attrs...)...)
}
