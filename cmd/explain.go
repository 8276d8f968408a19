package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/mapping"
)

// explain shows the decision for a person described on the command line,
// in one room or in every room, with every rule tried on the way and the
// rule (file:line) that decided. The person goes through the same reading
// of claims as a sign-in (oidc.claims.group_names and all), so the answer
// is what they would get. It needs only the rules: secrets may be absent.
func explain(args []string, env Env) int {
	fs := newFlags("explain", env)
	path := fs.String("config", "config.yaml", "configuration `file`")
	roomPath := fs.String("room", "", "room `path`, e.g. standup; every room when left out")
	groups := fs.String("groups", "", "the person's groups as the provider sends them, comma-separated, or a JSON list as an audit line's groups")
	email := fs.String("email", "", "the person's email")
	provider := fs.String("provider", "", "the `id` of the provider the person signs in with; default the primary")
	at := fs.String("at", "", "the `moment` to decide at, RFC 3339 with an offset (2026-12-09T09:30:00+01:00); default now")
	format := fs.String("format", "text", "output: text or json")
	if fs.Parse(args) != nil {
		return exitProblem
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "roomgate explain: unexpected argument %q\n", fs.Arg(0))
		return exitProblem
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(env.Stderr, "roomgate explain: -format: want text or json, found %q\n", *format)
		return exitProblem
	}
	moment := time.Now()
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			fmt.Fprintf(env.Stderr, "roomgate explain: -at: want a moment such as 2026-12-09T09:30:00+01:00, found %q\n", *at)
			return exitProblem
		}
		moment = t
	}
	cfg, ok := loadRules(*path, env)
	if !ok {
		return exitProblem
	}
	rooms := cfg.Rules.Rooms()
	if *roomPath != "" {
		room, ok := cfg.Rules.Lookup(strings.TrimPrefix(*roomPath, "/"))
		if !ok {
			var known []string
			for _, r := range rooms {
				known = append(known, r.Path)
			}
			fmt.Fprintf(env.Stderr, "roomgate explain: no room %q in %s (known: %s)\n", *roomPath, *path, strings.Join(known, ", "))
			return exitProblem
		}
		rooms = []*mapping.Room{room}
	}
	gs, err := groupList(*groups)
	if err != nil {
		fmt.Fprintln(env.Stderr, "roomgate explain: -groups:", err)
		return exitProblem
	}
	if _, ok := cfg.Provider(*provider); !ok {
		var ids []string
		for _, o := range cfg.Providers {
			ids = append(ids, o.ID)
		}
		fmt.Fprintf(env.Stderr, "roomgate explain: -provider: no provider %q in %s (known: %s)\n", *provider, *path, strings.Join(ids, ", "))
		return exitProblem
	}
	p := cfg.Person(*provider, gs, *email)
	answers := make([]answer, len(rooms))
	allowed := false
	for i, room := range rooms {
		d, steps := room.ExplainAt(p, moment)
		answers[i] = answer{room: room, d: d, steps: steps, at: moment}
		allowed = allowed || d.Allowed
	}
	if *format == "json" {
		writeExplainJSON(env.Stdout, p, moment, answers)
	} else {
		writeExplainText(env.Stdout, cfg, *provider, gs, *email, p, answers)
	}
	if allowed {
		return exitOK
	}
	return exitDenied
}

type answer struct {
	room  *mapping.Room
	d     mapping.Decision
	steps []mapping.Step
	at    time.Time
}

// opens says when a closed room opens for the decision's rule.
func (a answer) opens() string {
	if !a.d.Closed {
		return ""
	}
	return a.room.Open.OpensText(a.at, a.d.Rule.Early)
}

func writeExplainText(w io.Writer, cfg *config.Config, provider string, groups []string, email string, p *mapping.Person, answers []answer) {
	o, _ := cfg.Provider(provider)
	if cfg.SeveralProviders() {
		fmt.Fprintf(w, "person: provider %s, groups [%s], email %q\n", o.ID, strings.Join(groups, ", "), email)
		if email != "" && !p.EmailCounts() {
			fmt.Fprintf(w, "  the email counts for no rule: %s does not vouch for its domain (email_domains)\n", o.ID)
		}
	} else {
		fmt.Fprintf(w, "person: groups [%s], email %q\n", strings.Join(groups, ", "), email)
	}
	if seen := p.Groups(); strings.Join(seen, ",") != strings.Join(groups, ",") && (o.Claims.GroupNames == config.GroupNamesLast || o != &cfg.Providers[0]) {
		fmt.Fprintf(w, "  as the rules see them: [%s]\n", strings.Join(seen, ", "))
	}
	for _, a := range answers {
		fmt.Fprintf(w, "\nroom %s (Digital Samba room %q) at %s\n", a.room.Path, a.room.Room, a.room.Pos)
		for _, st := range a.steps {
			mark := "  "
			if st.Covered {
				mark = "=>"
			}
			fmt.Fprintf(w, "%s %s: %s\n", mark, st.Rule, st.Why)
		}
		switch {
		case a.d.Allowed:
			fmt.Fprintf(w, "allowed as %s: %s\n", a.d.Role, a.d.Reason())
		case a.d.Closed:
			fmt.Fprintf(w, "not now: %s; it %s\n", a.d.Reason(), a.opens())
		default:
			fmt.Fprintf(w, "denied: %s\n", a.d.Reason())
		}
		if a.d.MayInvite() {
			fmt.Fprintf(w, "may invite guests (as %s)\n", a.room.Guests.Role)
		}
	}
}

// explainJSON is explain's -format json: one object.
type explainJSON struct {
	Person struct {
		Groups []string `json:"groups"` // as the rules see them
		Email  string   `json:"email,omitempty"`
	} `json:"person"`
	At    time.Time         `json:"at"`
	Rooms []explainRoomJSON `json:"rooms"`
}

type explainRoomJSON struct {
	Path    string `json:"path"`
	Room    string `json:"room"`
	Allowed bool   `json:"allowed"`
	Role    string `json:"role,omitempty"`
	Rule    string `json:"rule,omitempty"` // rules[2]
	At      string `json:"at,omitempty"`   // file:line of that rule
	Reason  string `json:"reason"`
	Closed  bool   `json:"closed,omitempty"` // the rule admits, but the room is outside its hours
	Opens   string `json:"opens,omitempty"`  // when it opens, in words
	// MayInvite: the deciding rule lets the person invite guests.
	MayInvite bool `json:"may_invite,omitempty"`
}

func writeExplainJSON(w io.Writer, p *mapping.Person, at time.Time, answers []answer) {
	var out explainJSON
	out.Person.Groups = p.Groups()
	if out.Person.Groups == nil {
		out.Person.Groups = []string{}
	}
	out.Person.Email = p.Email()
	out.At = at
	out.Rooms = []explainRoomJSON{}
	for _, a := range answers {
		r := explainRoomJSON{Path: a.room.Path, Room: a.room.Room, Allowed: a.d.Allowed, Role: a.d.Role, Reason: a.d.Reason(), Closed: a.d.Closed, Opens: a.opens(), MayInvite: a.d.MayInvite()}
		if a.d.Rule != nil {
			r.Rule = fmt.Sprintf("rules[%d]", a.d.Rule.Index)
			r.At = a.d.Rule.Pos.String()
		}
		out.Rooms = append(out.Rooms, r)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(out)
}

// groupList reads -groups: a comma-separated list, or a JSON list of
// strings (as an audit line's groups, copied whole), which may hold names
// with commas.
func groupList(s string) ([]string, error) {
	var gs []string
	if strings.HasPrefix(strings.TrimSpace(s), "[") {
		if err := json.Unmarshal([]byte(s), &gs); err != nil {
			return nil, fmt.Errorf("not a JSON list of group names: %v", err)
		}
		return gs, nil
	}
	for _, g := range strings.Split(s, ",") {
		if g = strings.TrimSpace(g); g != "" {
			gs = append(gs, g)
		}
	}
	return gs, nil
}
