package gateway

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/roomgate/roomgate/internal/metrics"
	"github.com/roomgate/roomgate/mapping"
)

// serveRoom is the room entry: a signed-out person goes straight to the
// provider and comes back here; a signed-in one is decided on and, when a
// rule admits them, sent into the room with a fresh token.
//
// Every single-segment path is treated alike until the person is signed
// in, so nobody outside can tell a room's path from any other. HEAD asks
// only whether the page is there: it starts no sign-in, mints no token and
// writes no audit line.
func (s *Server) serveRoom(w http.ResponseWriter, r *http.Request) {
	path := r.PathValue("path")
	if isReserved(path) {
		s.serveNotFound(w, r)
		return
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	id := s.sessions.load(r)
	if id == nil {
		s.startLogin(w, r, returnPathOf(path))
		return
	}
	if s.revokedSession(w, r, id, path) {
		return
	}
	rules := s.rules.Load()
	room, ok := rules.Lookup(path)
	if !ok {
		// Forgiving: /Standup is /standup when one room has that path in
		// another letter case (paths are unique ignoring case).
		for _, other := range rules.Rooms() {
			if strings.EqualFold(other.Path, path) {
				s.redirect(w, r, "/"+other.Path, http.StatusFound)
				return
			}
		}
		page := notFoundPage(path)
		page.Rooms = s.roomLinks(r, rules, id)
		s.fail(w, r, http.StatusNotFound, page, nil)
		return
	}
	if id = s.fresh(w, r, rules, id, "/"+room.Path); id == nil {
		return
	}
	now := s.now()
	d := room.DecideAt(rules.Person(id.Provider, id.Groups, id.Email), now)
	if !d.Allowed {
		reason := metrics.DenialNoRule
		switch {
		case d.Closed:
			reason = metrics.DenialClosed
		case d.Rule != nil:
			reason = metrics.DenialDenyRule
		}
		s.metrics.Denial(room.Path, reason)
		s.audit(r, id, room, d, "")
		s.recordRoom(r, id, room, d, map[bool]string{true: "closed", false: "deny"}[d.Closed], "")
		page := deniedPage(room, d, now)
		page.SignedInAs, page.Switch = signedInAs(id), "/"+room.Path
		s.fail(w, r, http.StatusForbidden, page, nil)
		return
	}
	location, jti, err := s.tokens.entry(id, room.Room, d.Role, openingEnd(room, d, now, s.tokens.ttl))
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, pageInternal, err)
		return
	}
	s.metrics.RoomEntry(room.Path, d.Role)
	s.audit(r, id, room, d, jti)
	s.recordRoom(r, id, room, d, "allow", jti)
	// No body: http.Redirect would add a page with the URL, token and all,
	// HTML-escaped, that no browser shows; the hot path does without it.
	w.Header()["Location"] = []string{location}
	w.WriteHeader(http.StatusFound)
}

// returnPathOf is where a sign-in started at a single-segment path returns: the
// path, when it could be a room's, else the room list.
func returnPathOf(path string) string {
	if p, ok := safeReturnPath("/" + path); ok {
		return p
	}
	return "/"
}

// revokedSession ends id's session when it has been revoked (roomgate
// revoke, back-channel logout) and sends the person to sign in again, back
// to path, where the provider decides; it reports whether it did. It reads memory
// only.
func (s *Server) revokedSession(w http.ResponseWriter, r *http.Request, id *identity, path string) bool {
	if !s.revoked.Revoked(id.UserID, id.subjectKey(), id.sidKey(), time.Unix(id.SignedIn, 0)) {
		return false
	}
	returnTo := returnPathOf(path)
	s.log.Info("session revoked; signing in again", "request_id", requestID(r), "user_id", id.UserID)
	s.sessions.clear(w)
	s.signInAgain(w, r, id, returnTo)
	return true
}

// openingEnd is the latest a room token may expire: the end of the
// opening the person enters (the coming one, for someone let in early), or
// ttl from now when that is sooner. Rooms without hours never close.
func openingEnd(room *mapping.Room, d mapping.Decision, now time.Time, ttl time.Duration) time.Time {
	if room.Open == nil {
		return now.Add(ttl)
	}
	start := now
	if !room.Open.Open(now) {
		if next, ok := room.Open.Next(now); ok {
			start = next
		}
	}
	return room.Open.Until(start, start.Sub(now)+ttl)
}

// entry is one line of the room list.
type entry struct {
	Path, Title, Role string
	Opens             string // for a room closed now: when it opens
	Invite            bool   // the person may invite guests (/{path}/invite)
}

// roomList is the rooms id may enter, with the role each gives, and for a
// room closed now when it opens: the start page's list, and the 404
// page's.
func (s *Server) roomList(r *http.Request, rules *mapping.RuleSet, id *identity) []entry {
	p := rules.Person(id.Provider, id.Groups, id.Email)
	now := s.now()
	c := s.pages.langs.pick(r)
	var rooms []entry
	for _, room := range rules.Rooms() {
		switch d := room.DecideAt(p, now); {
		case d.Allowed:
			rooms = append(rooms, entry{Path: room.Path, Title: room.Title, Role: s.roleTitle(c, d.Role), Invite: d.MayInvite() && room.Guests != nil})
		case d.Closed:
			e := entry{Path: room.Path, Title: room.Title, Role: s.roleTitle(c, d.Rule.Role), Invite: d.MayInvite() && room.Guests != nil}
			if when, in, ok := s.pages.langs.opens(c, room.Open, now, d.Rule.Early); ok {
				e.Opens = s.pages.langs.t(c, "opens", "when", when, "in", in)
			}
			rooms = append(rooms, e)
		}
	}
	return rooms
}

// serveIndex lists the rooms this person may enter, with the role each
// would give them.
func (s *Server) serveIndex(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	id := s.sessions.load(r)
	if id == nil || s.revokedSession(w, r, id, "") {
		if id == nil {
			s.startLogin(w, r, "/")
		}
		return
	}
	rules := s.rules.Load()
	if id = s.fresh(w, r, rules, id, "/"); id == nil {
		return
	}
	rooms := s.roomList(r, rules, id)
	s.render(w, r, http.StatusOK, "index.html", map[string]any{
		"TitleKey": "index.title",
		"Name":     displayName(id),
		"Rooms":    rooms,
	})
}

// audit writes the one log line per decision that operators keep: who,
// which room, the outcome, the rule that decided it and the token's jti.
// Never the token itself.
func (s *Server) audit(r *http.Request, id *identity, room *mapping.Room, d mapping.Decision, jti string) {
	outcome := "deny"
	if d.Allowed {
		outcome = "allow"
	}
	var rule string
	if d.Rule != nil {
		rule = d.Rule.Pos.String()
	}
	reason := d.Reason()
	if d.Closed {
		reason = "closed: " + reason
	}
	var requestID string
	if c := requestOf(r); c != nil {
		requestID, c.audited = c.id, true
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "decision",
		slog.Bool("audit", true),
		slog.String("request_id", requestID),
		slog.String("client_ip", s.clientIP(r)),
		slog.String("user_id", id.UserID),
		slog.String("provider", s.providerName(id)),
		slog.String("email", id.Email),
		// The groups the rules saw (those some rule can use, as the session
		// keeps them, so bounded), in a form explain -groups takes.
		slog.Any("groups", groupsForLog(id.Groups)),
		slog.String("room_path", room.Path),
		slog.String("room", room.Room),
		slog.String("outcome", outcome),
		slog.String("role", d.Role),
		slog.String("rule", rule),
		slog.String("reason", reason),
		slog.String("jti", jti),
	)
}

// groupsForLog is groups, never null.
func groupsForLog(groups []string) []string {
	if groups == nil {
		return []string{}
	}
	return groups
}

// roomLinks are the rooms of roomList, for the 404 page. It decides on
// the groups the session holds, which fresh has not re-checked: a list of
// links, not an entry.
func (s *Server) roomLinks(r *http.Request, rules *mapping.RuleSet, id *identity) []entry {
	v := s.sessions.viewOf(rules)
	if !v.unpack(id) {
		return nil
	}
	return s.roomList(r, rules, id)
}

// signedInAs names the person as a page tells them who they are signed in
// as: name and email when both are known.
func signedInAs(id *identity) string {
	if id.Name != "" && id.Email != "" {
		return id.Name + " (" + id.Email + ")"
	}
	return displayName(id)
}

func displayName(id *identity) string {
	switch {
	case id.Name != "":
		return id.Name
	case id.Email != "":
		return id.Email
	}
	return fmt.Sprintf("user %s", id.UserID)
}
