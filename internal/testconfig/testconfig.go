// Package testconfig is the configuration file the tests of several
// packages start from, so that a change to the file's contract changes one
// place: a gateway at meet.example.com, signing in at a Keycloak-shaped
// issuer, for team-1, its secrets in the environment. Each test adds its
// rooms, and the lines it needs.
package testconfig

import "strings"

// Head is a whole configuration file up to and including its "rooms:"
// line.
const Head = `server:
  public_url: "https://meet.example.com"
oidc:
  issuer: "https://login.example.com/realms/acme"
  client_id: roomgate
  client_secret: "${OIDC_CLIENT_SECRET}"
session:
  secret: "${SESSION_SECRET}"
digitalsamba:
  team_id: team-1
  url: "https://acme.digitalsamba.com"
  developer_key: "${DS_DEVELOPER_KEY}"
rooms:
`

// Standup is a rooms section of one room whose rules give leads the
// moderator role, keep contractors out and let engineers attend: the
// shape of most tests' questions.
const Standup = `  - path: standup
    room: daily-standup
    rules:
      - groups: [eng-leads]
        role: moderator
      - emails: ["*@contractor.example"]
        deny: true
      - groups: ["eng-*"]
        role: attendee
`

// File is Head followed by rooms (the items of the rooms section, and
// any sections after it).
func File(rooms string) string { return Head + rooms }

// With is Head with each of lines (such as `  listen: ":8080"`) added at
// the top of its section ("server", "oidc", "session" or "digitalsamba").
func With(section string, lines ...string) string {
	return strings.Replace(Head, section+":\n", section+":\n"+strings.Join(lines, "\n")+"\n", 1)
}

// Env is the environment Head's variables come from.
func Env(name string) (string, bool) {
	v, ok := map[string]string{
		"OIDC_CLIENT_SECRET": "client-secret",
		"SESSION_SECRET":     strings.Repeat("s", 40),
		"DS_DEVELOPER_KEY":   "developer-key",
	}[name]
	return v, ok
}
