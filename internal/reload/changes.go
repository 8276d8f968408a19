package reload

import (
	"net/url"
	"slices"
	"strings"

	"github.com/roomgate/roomgate/config"
)

// A setting is one key of the file outside rooms. The running gateway was
// built from these once, so a change to any of them takes a restart.
type setting struct {
	key   string // the key in the file, e.g. "server.public_url"
	field string // the Go field, e.g. "Server.PublicURL"; a test checks that every field is listed
	equal func(a, b *config.Config) bool
}

// settings lists every key outside rooms in file order.
var settings = []setting{
	{key: "server.listen", field: "Server.Listen", equal: same(func(c *config.Config) string { return c.Server.Listen })},
	{key: "server.public_url", field: "Server.PublicURL", equal: sameURL(func(c *config.Config) *url.URL { return c.Server.PublicURL })},
	{key: "server.trusted_proxies", field: "Server.TrustedProxies", equal: func(a, b *config.Config) bool {
		return slices.Equal(a.Server.TrustedProxies, b.Server.TrustedProxies)
	}},
	{key: "server.contact", field: "Server.Contact", equal: same(func(c *config.Config) string { return c.Server.Contact })},
	{key: "server.metrics_listen", field: "Server.MetricsListen", equal: same(func(c *config.Config) string { return c.Server.MetricsListen })},

	{key: "oidc.issuer", field: "OIDC.Issuer", equal: same(func(c *config.Config) string { return c.OIDC.Issuer })},
	{key: "oidc.client_id", field: "OIDC.ClientID", equal: same(func(c *config.Config) string { return c.OIDC.ClientID })},
	{key: "oidc.client_secret", field: "OIDC.ClientSecret", equal: same(func(c *config.Config) string { return c.OIDC.ClientSecret })},
	{key: "oidc.scopes", field: "OIDC.Scopes", equal: sameList(func(c *config.Config) []string { return c.OIDC.Scopes })},
	{key: "oidc.claims.groups", field: "OIDC.Claims.Groups", equal: same(func(c *config.Config) string { return c.OIDC.Claims.Groups })},
	{key: "oidc.claims.name", field: "OIDC.Claims.Name", equal: same(func(c *config.Config) string { return c.OIDC.Claims.Name })},
	{key: "oidc.claims.user_id", field: "OIDC.Claims.UserID", equal: same(func(c *config.Config) string { return c.OIDC.Claims.UserID })},
	{key: "oidc.claims.avatar", field: "OIDC.Claims.Avatar", equal: same(func(c *config.Config) string { return c.OIDC.Claims.Avatar })},
	{key: "oidc.claims.email", field: "OIDC.Claims.Email", equal: same(func(c *config.Config) string { return c.OIDC.Claims.Email })},
	{key: "oidc.claims.group_names", field: "OIDC.Claims.GroupNames", equal: same(func(c *config.Config) string { return c.OIDC.Claims.GroupNames })},
	{key: "oidc.entra.overage", field: "OIDC.Entra.Overage", equal: same(func(c *config.Config) string { return c.OIDC.Entra.Overage })},
	{key: "oidc.entra.graph_url", field: "OIDC.Entra.GraphURL", equal: sameURL(func(c *config.Config) *url.URL { return c.OIDC.Entra.GraphURL })},

	{key: "session.secret", field: "Session.Secrets", equal: sameList(func(c *config.Config) []string { return c.Session.Secrets })},
	{key: "session.lifetime", field: "Session.Lifetime", equal: same(func(c *config.Config) int64 { return int64(c.Session.Lifetime) })},
	{key: "session.recheck", field: "Session.Recheck", equal: same(func(c *config.Config) int64 { return int64(c.Session.Recheck) })},

	{key: "digitalsamba.team_id", field: "DigitalSamba.TeamID", equal: same(func(c *config.Config) string { return c.DigitalSamba.TeamID })},
	{key: "digitalsamba.url", field: "DigitalSamba.URL", equal: sameURL(func(c *config.Config) *url.URL { return c.DigitalSamba.URL })},
	{key: "digitalsamba.developer_key", field: "DigitalSamba.DeveloperKey", equal: same(func(c *config.Config) string { return c.DigitalSamba.DeveloperKey })},
	{key: "digitalsamba.token_ttl", field: "DigitalSamba.TokenTTL", equal: same(func(c *config.Config) int64 { return int64(c.DigitalSamba.TokenTTL) })},
	{key: "digitalsamba.roles", field: "DigitalSamba.Roles", equal: sameList(func(c *config.Config) []string { return c.DigitalSamba.Roles })},
}

func same[T comparable](get func(*config.Config) T) func(a, b *config.Config) bool {
	return func(a, b *config.Config) bool { return get(a) == get(b) }
}

func sameList(get func(*config.Config) []string) func(a, b *config.Config) bool {
	return func(a, b *config.Config) bool { return slices.Equal(get(a), get(b)) }
}

func sameURL(get func(*config.Config) *url.URL) func(a, b *config.Config) bool {
	return func(a, b *config.Config) bool {
		x, y := get(a), get(b)
		if x == nil || y == nil {
			return x == y
		}
		return x.String() == y.String()
	}
}

// RestartNeeded returns the keys outside rooms whose values differ between
// the running configuration and a newly loaded one, in file order, such as
// ["oidc.client_secret", "server.listen"]. The gateway was built from those
// values, so they take effect only after a restart. It names keys and never
// shows their values: some of them are secrets.
func RestartNeeded(running, loaded *config.Config) []string {
	if running == nil || loaded == nil {
		return nil
	}
	var keys []string
	for _, s := range settings {
		if !s.equal(running, loaded) {
			keys = append(keys, s.key)
		}
	}
	return keys
}

// Sections returns the top-level sections of keys, each once, in order:
// ["oidc", "server"] for ["oidc.issuer", "oidc.scopes", "server.listen"].
func Sections(keys []string) []string {
	var out []string
	for _, k := range keys {
		s, _, _ := strings.Cut(k, ".")
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
