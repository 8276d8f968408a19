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
	"strings"
	"time"

	"github.com/roomgate/roomgate/mapping"
)

// Config is the whole configuration file, validated.
//
// The yaml tags of Config and its sections are the one list of the file's
// keys: Parse knows no others (an unknown key is a problem), and
// ChangedKeys compares every one of them.
type Config struct {
	// File is the path the configuration was read from.
	File string `yaml:"-"`
	// Server is how roomgate listens and how employees reach it.
	Server Server `yaml:"server"`
	// OIDC is the company's provider and roomgate's registration there:
	// with providers:, the first of them, the primary.
	OIDC OIDC `yaml:"oidc"`
	// Providers are the identity providers people sign in with, the
	// primary first: the file's providers:, or its oidc: alone. Never
	// empty in a valid Config.
	Providers []OIDC `yaml:"providers"`
	// Session is the browser session.
	Session Session `yaml:"session"`
	// DigitalSamba is the team whose rooms roomgate opens.
	DigitalSamba DigitalSamba `yaml:"digitalsamba"`
	// Store is where replicas share revocations.
	Store Store `yaml:"store"`
	// Admin is the helpdesk console's: who may open /admin is read into
	// Rules (RuleSet.IsAdmin), with the rooms, so that a reload changes
	// it; without admin: there is no console.
	Admin Admin `yaml:"admin"`
	// Decisions is what the console keeps of decisions.
	Decisions Decisions `yaml:"decisions"`
	// Rules is the rooms section, parsed by package mapping. It is the one
	// part a reload changes without a restart.
	Rules *mapping.RuleSet `yaml:"rooms"`
	// Tests are the rule tests of the tests section. Parse runs them: a
	// file whose tests fail is not valid, so no reload can break them.
	Tests []mapping.Test `yaml:"tests"`
	// Warnings are what is allowed but probably wrong, such as a public_url
	// in clear text; check prints them and serve logs them.
	Warnings mapping.Problems `yaml:"-"`
	// Variables are the names of the environment variables the file
	// reads (${VAR}), sorted.
	Variables []string `yaml:"-"`
}

// Settings is a copy of c without its rules and tests: what a long-lived
// holder of the configuration keeps, so that a large rule set a reload has
// replaced does not stay in memory for as long as the process runs.
func (c *Config) Settings() *Config {
	s := *c
	s.Rules, s.Tests = nil, nil
	return &s
}

// Server is how roomgate listens and how employees reach it.
type Server struct {
	// Listen is the address the gateway listens on, e.g. ":8080".
	Listen string `yaml:"listen"`
	// PublicURL is how employees reach roomgate. Every redirect and the
	// OIDC callback (PublicURL + /auth/callback) are built from it, never
	// from a request's Host header. Cookies are Secure when it is https.
	// Its path, when it has one (https://intranet.example.com/meet), is
	// where roomgate is mounted: every route, redirect, link and form lives
	// under it, and a request outside it is not roomgate's.
	PublicURL *url.URL `yaml:"public_url"`
	// TrustedProxies are the only peers whose X-Forwarded-* headers count.
	// Empty trusts none.
	TrustedProxies []netip.Prefix `yaml:"trusted_proxies"`
	// Contact tells a person who to ask when something is wrong, e.g.
	// "the IT service desk (it@example.com)". Shown on error pages.
	Contact string `yaml:"contact"`
	// Brand replaces "roomgate" on the pages employees see.
	Brand Brand `yaml:"brand"`
	// Languages limits the languages of the pages to these tags (such as
	// [en, de]); empty means every language roomgate has. English is
	// always there, as the fallback.
	Languages []string `yaml:"languages"`
	// MetricsListen is the address /metrics is served on, never the public
	// listener: metrics name rooms and roles. DefaultMetricsListen unless
	// set; a Kubernetes pod sets ":9090" for its scraper.
	MetricsListen string `yaml:"metrics_listen"`
}

// OIDC is the company's OpenID Connect provider and roomgate's client
// registration there.
type OIDC struct {
	// ID names the provider in rules (partner:eng), user ids (ud), logs and
	// metrics: [a-z0-9-]{1,32}. DefaultProviderID for oidc: without one.
	ID string `yaml:"id"`
	// Title is what the sign-in chooser shows; the id unless set.
	Title string `yaml:"title"`
	// EmailDomains are the domains whose addresses this provider vouches
	// for when there are several: an email counts in rules only then, and
	// the chooser's email box picks the provider by them.
	EmailDomains []string `yaml:"email_domains"`
	// Issuer is the provider's issuer URL; discovery is Issuer +
	// /.well-known/openid-configuration, and ID tokens must name it in iss.
	Issuer string `yaml:"issuer"`
	// ClientID is roomgate's client at the provider, and the audience its
	// ID tokens must name.
	ClientID string `yaml:"client_id"`
	// ClientSecret authenticates roomgate at the token endpoint. A secret:
	// never logged.
	ClientSecret string `yaml:"client_secret"`
	// Scopes are asked for at sign-in; they must include openid.
	Scopes []string `yaml:"scopes"`
	// Claims names where the person's attributes are found.
	Claims Claims `yaml:"claims"`
	// RequireVerifiedEmail, when true, uses a person's email for emails
	// rules only when the provider says email_verified: true. When false
	// (the default), only an outright email_verified: false drops it, since
	// Microsoft Entra ID never sends the claim.
	RequireVerifiedEmail bool `yaml:"require_verified_email"`
	// Entra is what only Microsoft Entra ID needs.
	Entra Entra `yaml:"entra"`
	// Timeout bounds each call to the provider (discovery, token, userinfo,
	// revocation): a person is waiting. 5s unless set.
	Timeout time.Duration `yaml:"timeout"`
	// InsecureHTTP allows an http:// issuer and graph_url on a host other
	// than loopback: the client secret, codes and tokens then cross the
	// network in clear. For a lab, never for production.
	InsecureHTTP bool `yaml:"insecure_http"`
}

// DefaultProviderID is the id of oidc: without id.
const DefaultProviderID = "oidc"

// Provider returns the provider whose id is id; "" is the primary.
func (c *Config) Provider(id string) (*OIDC, bool) {
	if id == "" && len(c.Providers) > 0 {
		return &c.Providers[0], true
	}
	for i := range c.Providers {
		if c.Providers[i].ID == id {
			return &c.Providers[i], true
		}
	}
	return nil, false
}

// Person is the person the rules decide on for what a provider (its id;
// "" is the primary) said: the groups and (verified) email as it sent
// them, read through that provider's claims settings, and the email
// counting only where the provider vouches for it. serve, explain, diff
// and the rule tests all come through here.
func (c *Config) Person(provider string, groups []string, email string) *mapping.Person {
	return c.PersonIn(c.Rules, provider, groups, email)
}

// PersonIn is Person for the rule set rs, such as the one a reload made.
func (c *Config) PersonIn(rs *mapping.RuleSet, provider string, groups []string, email string) *mapping.Person {
	o, ok := c.Provider(provider)
	if !ok {
		return rs.Person(provider, nil, "") // no one: the rule set knows no such provider either
	}
	if o == &c.Providers[0] {
		provider = ""
	}
	return rs.Person(provider, o.Claims.RuleGroups(groups), o.Claims.RuleEmail(email))
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
	Overage string `yaml:"overage"`
	// GraphURL is Microsoft Graph's base URL, https://graph.microsoft.com
	// unless a national cloud has another.
	GraphURL *url.URL `yaml:"graph_url"`
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
	// Groups holds the person's groups; default "groups".
	Groups string `yaml:"groups"`
	// Name is the display name shown in the room; default "name".
	Name string `yaml:"name"`
	// UserID becomes the room token's ud; default "sub".
	UserID string `yaml:"user_id"`
	// Avatar is a picture URL for the room; default "picture".
	Avatar string `yaml:"avatar"`
	// Email is what emails rules match; default "email".
	Email string `yaml:"email"`
	// GroupNames says how group names that are paths, such as Keycloak's
	// /eng/leads, are matched: GroupNamesFull (the default) as sent, or
	// GroupNamesLast by their last segment (leads). Names that do not
	// start with '/' are always kept as sent.
	GroupNames string `yaml:"group_names"`
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
	Secrets []string `yaml:"secret"`
	// Lifetime is how long a sign-in lasts before the provider is asked
	// again.
	Lifetime time.Duration `yaml:"lifetime"`
	// Recheck bounds how stale group membership may be.
	Recheck time.Duration `yaml:"recheck"`
}

// DigitalSamba is the team whose rooms roomgate opens.
type DigitalSamba struct {
	// TeamID is the team's id, the room token's td.
	TeamID string `yaml:"team_id"`
	// URL is the team URL or a custom domain; rooms are URL/{room}.
	URL *url.URL `yaml:"url"`
	// DeveloperKey is the HS256 key room tokens are signed with. A secret:
	// never logged.
	DeveloperKey string `yaml:"developer_key"`
	// TokenTTL is how long a room token lives (exp - iat): it only has to
	// survive the redirect into the room.
	TokenTTL time.Duration `yaml:"token_ttl"`
	// Roles are the team's roles; rules may name no other.
	Roles []string `yaml:"roles"`
	// InsecureHTTP allows an http:// url on a host other than loopback:
	// every room token then crosses the network in clear. For a lab only.
	InsecureHTTP bool `yaml:"insecure_http"`
	// APIURL is Digital Samba's REST API, for check -remote and sync:
	// https://api.digitalsamba.com/api/v1 unless set.
	APIURL *url.URL `yaml:"api_url"`
	// RoleTitles are the roles' names as pages show them, per role and
	// language tag: {moderator: {en: Host, de: Moderation}}. A role or
	// language without one shows the role's own name, which the room token
	// always carries.
	RoleTitles map[string]map[string]string `yaml:"role_titles"`
	// RolesAt is where roles is in the file, for what check -remote says
	// of them.
	RolesAt mapping.Pos `yaml:"-"`
}

// RoleTitle is role's title in the language lang (a tag such as de or
// de-CH, tried whole, then its base), or the role's own name.
func (d DigitalSamba) RoleTitle(role, lang string) string {
	titles := d.RoleTitles[role]
	if t, ok := titles[lang]; ok {
		return t
	}
	if base, _, ok := strings.Cut(lang, "-"); ok {
		if t, ok := titles[base]; ok {
			return t
		}
	}
	return role
}

// DefaultMetricsListen keeps metrics on the loopback interface.
const DefaultMetricsListen = "127.0.0.1:9090"

// Brand is the company's name and logo on employee pages.
type Brand struct {
	// Name is shown in the header and the page titles; "roomgate" unless
	// set.
	Name string `yaml:"name"`
	// Logo is an image on the same origin as public_url: a path such as
	// /assets/logo.svg, or a URL on public_url's host (the pages' CSP
	// allows no other).
	Logo string `yaml:"logo"`
}

// Store is where revocations (roomgate revoke, back-channel logout) and
// used logout-token ids are kept: in the process when neither is set
// (one replica, lost at restart), in a SQLite file (one host, kept) or in
// Redis (several replicas).
type Store struct {
	// SQLite is a database file on this host.
	SQLite SQLite `yaml:"sqlite"`
	// Redis is a Redis or Valkey shared by every replica.
	Redis Redis `yaml:"redis"`
}

// SQLite names the store's database file.
type SQLite struct {
	// Path is the file; its folder must exist. A relative path is from
	// the working directory.
	Path string `yaml:"path"`
}

// InProcess reports whether the store lives in the process alone: lost at
// a restart, and out of reach of roomgate revoke.
func (s Store) InProcess() bool { return s.SQLite.Path == "" && s.Redis.URL == "" }

// Redis names a Redis or Valkey server.
type Redis struct {
	// URL is redis://[:password@]host:port/db, or rediss:// for TLS. It
	// may hold a password, so it is never logged.
	URL string `yaml:"url"`
}

// Admin is the admin: section beyond its matchers (groups, emails), which
// package mapping reads.
type Admin struct {
	// Reauth: a sign-in older than this goes back to the provider
	// (max_age) before the console opens. Default 15m.
	Reauth time.Duration `yaml:"reauth"`
}

// DefaultReauth is admin.reauth when the file gives none.
const DefaultReauth = 15 * time.Minute

// Decisions says how long decisions are kept for the helpdesk console.
type Decisions struct {
	// Keep is how long a decision is kept; 0 keeps none. Default 7 days.
	Keep time.Duration `yaml:"keep"`
}

// DefaultKeep is decisions.keep when the file gives none.
const DefaultKeep = 7 * 24 * time.Hour

// MinSecretBytes is the shortest session secret roomgate accepts.
const MinSecretBytes = 32
