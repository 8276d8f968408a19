// Package config reads roomgate's one configuration file: strict decoding
// (unknown keys are errors), ${VAR} expansion from the environment, and
// validation that reports every problem in one run with file:line and the
// field's path. The rooms section is handed to package mapping.
//
// A Config is a plain value: it is built once by Load and never changed.
// A reload builds a new one.
package config

import (
	"net/netip"
	"net/url"
	"time"

	"github.com/roomgate/roomgate/mapping"
)

// Config is the whole configuration file, validated.
type Config struct {
	File         string // the path it was read from
	Server       Server
	OIDC         OIDC
	Session      Session
	DigitalSamba DigitalSamba
	Rules        *mapping.RuleSet // the rooms section
}

// Server is how roomgate listens and how employees reach it.
type Server struct {
	// Listen is the address the gateway listens on, e.g. ":8080".
	Listen string
	// PublicURL is how employees reach roomgate. Every redirect and the
	// OIDC callback (PublicURL + /auth/callback) are built from it, never
	// from a request's Host header. Cookies are Secure when it is https.
	PublicURL *url.URL
	// TrustedProxies are the only peers whose X-Forwarded-* headers count.
	// Empty trusts none.
	TrustedProxies []netip.Prefix
	// Contact tells a person who to ask when something is wrong, e.g.
	// "the IT service desk (it@example.com)". Shown on error pages.
	Contact string
	// MetricsListen, when set, serves /metrics on this address instead of
	// the main one.
	MetricsListen string
}

// OIDC is the company's OpenID Connect provider and roomgate's client
// registration there.
type OIDC struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	Scopes       []string
	Claims       Claims
	// Entra is what only Microsoft Entra ID needs.
	Entra Entra
}

// Entra is roomgate's answer to Microsoft Entra ID's groups overage: a
// person in more groups than fit in a token (200 in an ID token) gets no
// groups claim, only a pointer to Microsoft Graph (_claim_names and
// _claim_sources).
type Entra struct {
	// Overage is OverageRefuse (the default: the person sees a page that
	// says why they cannot be signed in) or OverageGraph (roomgate asks
	// Microsoft Graph for the groups with the sign-in's access token, which
	// needs the User.Read scope).
	Overage string
	// GraphURL is Microsoft Graph's base URL, https://graph.microsoft.com
	// unless a national cloud has another.
	GraphURL *url.URL
}

// The values of Entra.Overage.
const (
	OverageRefuse = "refuse"
	OverageGraph  = "graph"
)

// Claims names where a person's attributes are found: dotted paths into the
// ID token's claims, then into userinfo when the ID token lacks them. A
// name that exists as a whole key (e.g. "cognito:groups" or a URL) is taken
// as one key.
type Claims struct {
	Groups string // default "groups"
	Name   string // default "name"
	UserID string // default "sub"; becomes the room token's ud
	Avatar string // default "picture"
	Email  string // default "email"
	// GroupNames says how group names that are paths, such as Keycloak's
	// /eng/leads, are matched: GroupNamesFull (the default) as sent, or
	// GroupNamesLast by their last segment (leads). Names that do not
	// start with '/' are always kept as sent.
	GroupNames string
}

// The values of Claims.GroupNames.
const (
	GroupNamesFull = "full"
	GroupNamesLast = "last"
)

// Session is the browser session that spares a signed-in person the
// provider.
type Session struct {
	// Secrets sign and encrypt session cookies. The first one signs new
	// cookies; all of them are accepted, so a secret can be rotated without
	// signing everyone out. Each must be at least 32 bytes.
	Secrets []string
	// Lifetime is how long a sign-in lasts before the provider is asked
	// again.
	Lifetime time.Duration
	// Recheck bounds how stale group membership may be.
	Recheck time.Duration
}

// DigitalSamba is the team whose rooms roomgate opens.
type DigitalSamba struct {
	TeamID       string   // the token's td
	URL          *url.URL // team URL or custom domain; rooms are URL/{room}
	DeveloperKey string   // HS256 key for room tokens
	TokenTTL     time.Duration
	Roles        []string // the team's roles; rules may name no other
}

// MinSecretBytes is the shortest session secret roomgate accepts.
const MinSecretBytes = 32
