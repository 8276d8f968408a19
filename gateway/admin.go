package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/roomgate/roomgate/dsapi"
	"github.com/roomgate/roomgate/internal/metrics"
	"github.com/roomgate/roomgate/internal/store"
)

// The helpdesk console, /admin: from the request id on a person's page to
// what happened and why. Only people the admin: section covers get in;
// for everyone else, and without an admin: section, its paths answer as
// any path that is not there would.

// adminRoutes adds the console's routes.
func (s *Server) adminRoutes() {
	protect := func(h http.HandlerFunc) http.Handler { return http.NewCrossOriginProtection().Handler(h) }
	s.mux.HandleFunc("GET /admin", s.admin(s.serveAdminStatus))
	s.mux.HandleFunc("GET /admin/decisions", s.admin(s.serveAdminDecisions))
	s.mux.HandleFunc("GET /admin/rooms/{path}", s.admin(s.serveAdminRoom))
	s.mux.HandleFunc("GET /admin/explain", s.admin(s.serveAdminExplain))
	s.mux.Handle("POST /admin/revoke", protect(s.admin(s.serveAdminRevoke)))
	s.mux.Handle("POST /admin/invitations/revoke", protect(s.admin(s.serveAdminRevokeInvitation)))
}

// adminHandler is a console page for the admin id.
type adminHandler func(w http.ResponseWriter, r *http.Request, id *identity)

// admin lets only the helpdesk through to h, with a recent sign-in. Anyone
// else sees what the same path would show if the console did not exist:
// /admin is a room path no room has (a sign-in, then a 404 with the rooms
// one may enter); deeper paths are nothing at all.
func (s *Server) admin(h adminHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		top := r.URL.Path == "/admin"
		rules := s.rules.Load()
		notThere := func(id *identity) {
			switch {
			case !top:
				s.serveNotFound(w, r)
			case r.Method == http.MethodHead:
				w.WriteHeader(http.StatusOK)
			case id == nil:
				s.startLogin(w, r, "/admin")
			default:
				page := notFoundPage("admin")
				page.Rooms = s.roomLinks(r, rules, id)
				s.fail(w, r, http.StatusNotFound, page, nil)
			}
		}
		if !rules.HasAdmin() {
			notThere(s.sessions.load(r))
			return
		}
		id := s.sessions.load(r)
		if id == nil || r.Method == http.MethodHead {
			notThere(id)
			return
		}
		if s.revokedSession(w, r, id, "admin") {
			return
		}
		if id = s.fresh(w, r, rules, id, "/admin"); id == nil {
			return
		}
		if !rules.IsAdmin(rules.Person(id.Provider, id.Groups, id.Email)) {
			notThere(id)
			return
		}
		if s.now().Sub(time.Unix(id.AuthTime, 0)) > s.cfg.Admin.Reauth {
			if r.Method != http.MethodGet {
				// A form from a page older than reauth: sign in again first.
				s.redirect(w, r, "/admin", http.StatusSeeOther)
				return
			}
			s.log.Info("helpdesk console: signing in again (admin.reauth)", "request_id", requestID(r), "user_id", id.UserID)
			if p := s.providerOf(id.Provider); p != nil {
				s.beginLoginWith(w, r, p, "/admin", "login", s.cfg.Admin.Reauth, "")
			} else {
				s.sessions.clear(w)
				s.startLogin(w, r, "/admin")
			}
			return
		}
		w.Header().Set("X-Robots-Tag", "noindex, nofollow")
		h(w, r, id)
	}
}

// renderAdmin renders a console page.
func (s *Server) renderAdmin(w http.ResponseWriter, r *http.Request, status int, id *identity, page string, data map[string]any) {
	data["TitleKey"] = "admin.title"
	data["Page"] = page
	data["Admin"] = displayName(id)
	s.render(w, r, status, "admin.html", data)
}

// serveAdminStatus is the console's first page: the rule set in force,
// the store, the provider and the Digital Samba API.
func (s *Server) serveAdminStatus(w http.ResponseWriter, r *http.Request, id *identity) {
	rules := s.rules.Load()
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	api := "reachable"
	ds := &dsapi.Client{BaseURL: s.cfg.DigitalSamba.APIURL.String(), TeamID: s.cfg.DigitalSamba.TeamID, Key: s.cfg.DigitalSamba.DeveloperKey, MaxWait: 3 * time.Second}
	if roles, err := ds.Roles(ctx); err != nil {
		api = "not reachable: " + err.Error()
	} else {
		api += fmt.Sprintf(" (%d roles)", len(roles))
	}
	var rooms []map[string]string
	for _, room := range rules.Rooms() {
		rooms = append(rooms, map[string]string{"Path": room.Path, "Title": room.Title})
	}
	s.renderAdmin(w, r, http.StatusOK, id, "status", map[string]any{
		"File":      s.cfg.File,
		"Loaded":    s.rulesVersion.Load(),
		"Problems":  s.reloadProblem.Load(),
		"Rooms":     rooms,
		"StoreKind": storeKind(s.revoked.Store()),
		"StoreUp":   s.revoked.Up(),
		"Revoked":   s.revoked.Len(),
		"Providers": s.providerStatus(),
		"API":       api,
		"Keep":      s.cfg.Decisions.Keep.String(),
	})
}

// providerStatus is each provider as the console shows it.
func (s *Server) providerStatus() []map[string]any {
	var out []map[string]any
	for _, p := range s.providers {
		out = append(out, map[string]any{"ID": p.name(), "Title": p.cfg.Title, "Issuer": p.cfg.Issuer, "Up": p.up()})
	}
	return out
}

// storeKind names the store for people.
func storeKind(st store.Store) string {
	switch st.(type) {
	case *store.SQLite:
		return "SQLite"
	case *store.Redis:
		return "Redis"
	}
	return "in this process"
}

// shownDecision is a decision as the console shows it.
type shownDecision struct {
	store.Decision
	When string
}

// serveAdminDecisions finds decisions: by request id, person, room,
// outcome and time, newest first.
func (s *Server) serveAdminDecisions(w http.ResponseWriter, r *http.Request, id *identity) {
	q := store.DecisionQuery{Text: strings.TrimSpace(r.FormValue("q")), Outcome: r.FormValue("outcome"), Limit: 50}
	if d, err := time.ParseDuration(r.FormValue("within")); err == nil && d > 0 {
		q.Since = s.now().Add(-d)
	}
	data := map[string]any{"Q": q.Text, "Outcome": q.Outcome, "Within": r.FormValue("within"), "Keep": s.cfg.Decisions.Keep > 0}
	if s.decisions != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		found, err := s.revoked.Store().Decisions(ctx, q)
		if err != nil {
			s.log.Warn("searching decisions", "request_id", requestID(r), "err", err)
			data["Problem"] = true
		}
		var shown []shownDecision
		for _, d := range found {
			shown = append(shown, shownDecision{Decision: d, When: d.At.UTC().Format("2006-01-02 15:04:05 UTC")})
		}
		data["Decisions"] = shown
		data["Searched"] = q.Text != "" || q.Outcome != "" || !q.Since.IsZero()
	}
	s.renderAdmin(w, r, http.StatusOK, id, "decisions", data)
}

// serveAdminRoom shows a room as it serves: rules, hours, who may invite,
// open invitations.
func (s *Server) serveAdminRoom(w http.ResponseWriter, r *http.Request, id *identity) {
	room, ok := s.rules.Load().Lookup(r.PathValue("path"))
	if !ok {
		s.serveNotFound(w, r)
		return
	}
	now := s.now()
	var rules []map[string]any
	for i := range room.Rules {
		rule := &room.Rules[i]
		var who []string
		if len(rule.Groups) > 0 {
			who = append(who, "groups "+strings.Join(rule.Groups, ", "))
		}
		if len(rule.Emails) > 0 {
			who = append(who, "emails "+strings.Join(rule.Emails, ", "))
		}
		if rule.Everyone {
			who = append(who, "everyone")
		}
		outcome := rule.Role
		if rule.Deny {
			outcome = "deny"
		}
		rules = append(rules, map[string]any{"Name": rule.String(), "Who": strings.Join(who, "; "), "Outcome": outcome,
			"Invite": rule.Invite && room.Guests != nil, "Early": rule.Early, "Until": rule.Until})
	}
	data := map[string]any{"Room": room, "Rules": rules}
	if room.Open != nil {
		data["Opens"] = room.Open.OpensText(now, 0)
		data["OpenNow"] = room.Open.Open(now)
	}
	if room.Guests != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		invs, err := s.revoked.Store().Invitations(ctx, room.Path)
		if err != nil {
			data["Problem"] = true
		}
		var open []map[string]string
		for _, inv := range invs {
			if inv.Open(now) {
				by := inv.Inviter.Name
				if inv.Inviter.UserID != "" {
					by += " (" + inv.Inviter.UserID + ")"
				}
				open = append(open, map[string]string{"ID": inv.ID, "Guest": inv.Guest, "By": by,
					"Until": inv.Expires.UTC().Format("2006-01-02 15:04 UTC"), "Used": fmt.Sprintf("%d / %d", len(inv.Used), inv.Browsers)})
			}
		}
		data["Invitations"] = open
	}
	s.renderAdmin(w, r, http.StatusOK, id, "room", data)
}

// serveAdminExplain decides for any groups, email and moment against the
// live rule set, through the function roomgate explain uses.
func (s *Server) serveAdminExplain(w http.ResponseWriter, r *http.Request, id *identity) {
	rules := s.rules.Load()
	data := map[string]any{"Groups": r.FormValue("groups"), "Email": r.FormValue("email"), "At": r.FormValue("at"), "RoomPath": r.FormValue("room")}
	var paths []string
	for _, room := range rules.Rooms() {
		paths = append(paths, room.Path)
	}
	data["Paths"] = paths
	var ids []string
	for _, p := range s.providers {
		ids = append(ids, p.name())
	}
	data["ProviderIDs"], data["Provider"] = ids, r.FormValue("provider")
	if r.Form.Has("groups") || r.Form.Has("email") {
		moment := s.now()
		if at := r.FormValue("at"); at != "" {
			if t, err := time.Parse(time.RFC3339, at); err != nil {
				data["BadAt"] = true // and decide for now, as the page says
			} else {
				moment = t
			}
		}
		var groups []string
		for _, g := range strings.Split(r.FormValue("groups"), ",") {
			if g = strings.TrimSpace(g); g != "" {
				groups = append(groups, g)
			}
		}
		p := s.cfg.PersonIn(rules, r.FormValue("provider"), groups, strings.TrimSpace(r.FormValue("email")))
		var answers []map[string]any
		for _, room := range rules.Rooms() {
			if path := r.FormValue("room"); path != "" && path != room.Path {
				continue
			}
			d, steps := room.ExplainAt(p, moment)
			var lines []string
			for _, st := range steps {
				mark := "  "
				if st.Covered {
					mark = "=>"
				}
				lines = append(lines, mark+" "+st.Rule.String()+": "+st.Why)
			}
			outcome := "denied: " + d.Reason()
			switch {
			case d.Allowed:
				outcome = "allowed as " + d.Role + ": " + d.Reason()
			case d.Closed:
				outcome = "not now: " + d.Reason() + "; it " + room.Open.OpensText(moment, d.Rule.Early)
			}
			if d.MayInvite() {
				outcome += "; may invite guests"
			}
			answers = append(answers, map[string]any{"Path": room.Path, "Steps": lines, "Outcome": outcome})
		}
		data["Answers"] = answers
		data["Seen"] = strings.Join(p.Groups(), ", ")
	}
	s.renderAdmin(w, r, http.StatusOK, id, "explain", data)
}

// serveAdminRevoke signs a person out everywhere: their sessions end on
// every replica within a second, and they must sign in again.
func (s *Server) serveAdminRevoke(w http.ResponseWriter, r *http.Request, id *identity) {
	user, reason := strings.TrimSpace(r.PostFormValue("user")), strings.TrimSpace(r.PostFormValue("reason"))
	if user == "" || reason == "" || len(user) > maxIDBytes || len(reason) > 500 {
		s.renderAdmin(w, r, http.StatusBadRequest, id, "done", map[string]any{"Message": "admin.revoke.invalid"})
		return
	}
	now := s.now()
	rev := store.Revocation{Kind: store.KindUser, Value: user, At: now, Expires: now.Add(s.cfg.Session.Lifetime)}
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	shared := s.revoked.Store().Revoke(ctx, rev) == nil
	if shared {
		s.revoked.Add(rev)
	} else {
		s.revoked.AddLocal(rev)
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "revocation", slog.Bool("audit", true), slog.String("request_id", requestID(r)),
		slog.String("by", "helpdesk console"), slog.String("admin", id.UserID), slog.String("kind", string(rev.Kind)),
		slog.String("value", user), slog.String("reason", reason), slog.Bool("shared", shared),
		slog.String("until", rev.Expires.UTC().Format(time.RFC3339)))
	msg := "admin.revoke.done"
	if !shared {
		msg = "admin.revoke.local"
	}
	s.renderAdmin(w, r, http.StatusOK, id, "done", map[string]any{"Message": msg, "User": user})
}

// serveAdminRevokeInvitation ends a guest invitation, whoever made it.
func (s *Server) serveAdminRevokeInvitation(w http.ResponseWriter, r *http.Request, id *identity) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	inv, err := s.revoked.Store().RevokeInvitation(ctx, r.PostFormValue("id"), "admin:"+id.UserID, s.now())
	if err != nil {
		s.renderAdmin(w, r, http.StatusNotFound, id, "done", map[string]any{"Message": "admin.invitation.gone"})
		return
	}
	s.metrics.Invitation(metrics.InvitationRevoked)
	s.auditInvitation(r, "revoked", inv, "", slog.String("by", "helpdesk console"), slog.String("admin", id.UserID))
	s.redirect(w, r, "/admin/rooms/"+inv.Room, http.StatusSeeOther)
}
