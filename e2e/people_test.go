//go:build e2e

package e2e

import (
	"fmt"
	"strings"
)

// password is every Dex user's password; passwordHash is its bcrypt hash
// (cost 10, the least Dex accepts). Neither protects anything: Dex runs on
// 127.0.0.1 for the length of the suite.
const (
	password     = "e2e-password-not-secret"
	passwordHash = "$2a$10$fcEuKfILJSshsgZNbIJxm.OckCI3M0jmMUd2LRCymkmiqtDXblkmO"
)

// Team and rooms of the rule set in gatewayConfig.
const (
	teamID = "3f1c5e2a-0000-4000-8000-00000000e2e0"

	standupPath  = "standup"
	standupRoom  = "daily-standup"
	standupTitle = "Daily stand-up"

	allHandsPath  = "all-hands"
	allHandsRoom  = "7f9c2b1e-0000-4000-8000-000000000001"
	allHandsTitle = "All hands"

	// A room whose only opening is far ahead: closed in every run.
	closedPath  = "new-year"
	closedRoom  = "new-year-2099"
	closedTitle = "New year 2099"
)

// denied is the decision "no entry" in person.want.
const denied = ""

// person is a Dex user and what the rule set should decide for them.
type person struct {
	email  string
	name   string
	groups []string
	// want maps a room path to the role the person gets there, or to
	// denied.
	want map[string]string
}

// The people of the suite. Each stands for one kind of employee.
var (
	moderator = person{
		email: "mona@example.com", name: "Mona Moderator", groups: []string{"eng-leads"},
		want: map[string]string{standupPath: "moderator", allHandsPath: "attendee"},
	}
	attendee = person{
		email: "avery@example.com", name: "Avery Attendee", groups: []string{"engineering"},
		want: map[string]string{standupPath: "attendee", allHandsPath: "attendee"},
	}
	outsider = person{
		email: "mark@example.com", name: "Mark Marketing", groups: []string{"marketing"},
		want: map[string]string{standupPath: denied, allHandsPath: "attendee"},
	}
	// contractor is in engineering, which the stand-up admits, but the
	// email rule above it denies the whole domain first.
	contractor = person{
		email: "cody@contractor.example", name: "Cody Contractor", groups: []string{"engineering"},
		want: map[string]string{standupPath: denied, allHandsPath: "attendee"},
	}
	groupless = person{
		email: "nora@example.com", name: "Nora Nogroup",
		want: map[string]string{standupPath: denied, allHandsPath: "attendee"},
	}
	// manyGroups is in 600 groups; the one that admits him is the last, so
	// a list cut short anywhere would show.
	manyGroups = person{
		email: "gus@example.com", name: "Gus Groups", groups: manyGroupNames(),
		want: map[string]string{standupPath: "moderator", allHandsPath: "attendee"},
	}
	people = []person{moderator, attendee, outsider, contractor, groupless, manyGroups}
)

func manyGroupNames() []string {
	g := make([]string, 0, 600)
	for i := range 599 {
		g = append(g, fmt.Sprintf("project-%03d-contributors", i))
	}
	return append(g, "eng-leads")
}

// key is a short name for the person, for test names and file names.
func (p person) key() string { return strings.SplitN(p.email, "@", 2)[0] }

// userID is the person's Dex userID.
func (p person) userID() string { return "e2e-" + p.key() }

// dexConfig is a Dex configuration: in-memory storage, the password
// database with the suite's people, the client roomgate with the callbacks
// of every roomgate instance the suite runs, and a second client, probe,
// which TestDexUsersCarryGroups uses to look at Dex's ID tokens without
// roomgate.
func dexConfig(issuer, listen, clientSecret string, callbacks []string, probeCallback string) string {
	quoted := make([]string, len(callbacks))
	for i, c := range callbacks {
		quoted[i] = fmt.Sprintf("%q", c)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `issuer: %q
storage:
  type: memory
web:
  http: %q
logger:
  level: info
  format: json
oauth2:
  skipApprovalScreen: true
enablePasswordDB: true
staticClients:
  - id: roomgate
    name: roomgate
    secret: %q
    redirectURIs: [%s]
  - id: probe
    name: probe
    secret: %q
    redirectURIs: [%q]
staticPasswords:
`, issuer, listen, clientSecret, strings.Join(quoted, ", "), clientSecret, probeCallback)
	for _, p := range people {
		fmt.Fprintf(&b, "  - email: %q\n    hash: %q\n    username: %q\n    name: %q\n    userID: %q\n    emailVerified: true\n    groups: [",
			p.email, passwordHash, p.key(), p.name, p.userID())
		for i, g := range p.groups {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q", g)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

// gatewayConfig is roomgate's configuration, as DESIGN.md describes it,
// with session.recheck set to recheck. The secrets come from the
// environment (${VAR}); see suite.gatewayEnv. offline_access makes Dex
// issue a refresh token, so that re-checks refresh instead of signing in
// again (Dex has no prompt=none).
func gatewayConfig(listen, publicURL, issuer, roomURL, recheck string) string {
	return fmt.Sprintf(`server:
  listen: %q
  public_url: %q
  trusted_proxies: []
  metrics_listen: "127.0.0.1:0"

oidc:
  issuer: %q
  client_id: roomgate
  client_secret: "${OIDC_CLIENT_SECRET}"
  scopes: [openid, profile, email, groups, offline_access]
  claims:
    groups: groups
    name: name
    user_id: sub
    avatar: picture

session:
  secret: "${SESSION_SECRET}"
  lifetime: 8h
  recheck: %s

digitalsamba:
  team_id: %q
  url: %q
  developer_key: "${DS_DEVELOPER_KEY}"
  token_ttl: 2m
  roles: [moderator, speaker, attendee]

rooms:
  - path: %s
    room: %s
    title: %q
    guests: {role: attendee, max_valid: 72h}
    rules:
      - emails: ["*@contractor.example"]
        deny: true
      - groups: [eng-leads]
        role: moderator
        invite: true
      - groups: [engineering, "eng-*"]
        role: attendee
  - path: %s
    room: %s
    title: %q
    rules:
      - groups: [leadership]
        role: moderator
      - everyone: true
        role: attendee
  - path: %s
    room: %s
    title: %q
    open:
      timezone: Europe/Berlin
      dates:
        - {from: "2099-01-01T09:00", to: "2099-01-01T10:00"}
    rules:
      - everyone: true
        role: attendee
`, listen, publicURL, issuer, recheck, teamID, roomURL,
		standupPath, standupRoom, standupTitle,
		allHandsPath, allHandsRoom, allHandsTitle,
		closedPath, closedRoom, closedTitle)
}
