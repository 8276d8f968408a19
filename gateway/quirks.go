package gateway

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/roomgate/roomgate/config"
)

// What real providers do differently, and what roomgate does about it. The
// docs/providers.md has a section per provider with its setup steps.
//
//   - Keycloak sends groups as paths (/eng/leads) when its mapper's "Full
//     group path" is on: oidc.claims.group_names chooses the full path or
//     the last segment (groupNames). Roles are in realm_access.roles and
//     resource_access.CLIENT.roles, which claim paths reach.
//   - Entra ID sends group object ids, and for a person in more than 200
//     groups no groups claim at all but _claim_names/_claim_sources
//     pointing at Microsoft Graph (the "groups overage"). roomgate detects
//     it (overage), and either refuses with a page that says why or asks
//     Graph (oidc.entra.overage: graph, graph.go).
//   - Okta's custom authorization servers send a groups claim from a
//     filter, at most 100 groups; the org server sends none.
//   - Google sends no groups at all: ProviderWarnings says so at start-up
//     when rules name groups.

// googleIssuer is Google's issuer, whose ID tokens never carry groups.
const googleIssuer = "accounts.google.com"

// ProviderWarnings returns what an operator should know about how cfg's
// provider and rule set fit together, one sentence each; nothing when all
// is well. New logs them; `roomgate check` may print them.
func ProviderWarnings(cfg *config.Config) []string {
	var out []string
	for i, o := range cfg.Providers {
		section, patterns := "oidc", providerPatterns(cfg, i)
		if cfg.SeveralProviders() {
			section = fmt.Sprintf("providers[%d]", i)
		}
		if u, err := url.Parse(o.Issuer); err == nil && u.Hostname() == googleIssuer && len(patterns) > 0 {
			out = append(out, fmt.Sprintf("%s.issuer is Google, which sends no groups: the rules' %d group pattern(s) for its people (first %q) will never match; write rules with emails instead", section, len(patterns), patterns[0]))
		}
		if o.Entra.Overage == config.OverageGraph && !hasGraphScope(o.Scopes) {
			out = append(out, section+".entra.overage is graph but "+section+".scopes lacks User.Read: Microsoft Graph will refuse the sign-in's access token")
		}
	}
	return out
}

// providerPatterns are the rules' group patterns for the people of
// provider i: ID:NAME for another, the rest for the primary.
func providerPatterns(cfg *config.Config, i int) []string {
	var out []string
	for _, p := range cfg.Rules.GroupPatterns() {
		owner := 0
		for k := 1; k < len(cfg.Providers); k++ {
			if strings.HasPrefix(p, cfg.Providers[k].ID+":") {
				owner = k
			}
		}
		if owner == i {
			out = append(out, p)
		}
	}
	return out
}

// hasGraphScope reports whether scopes ask for Microsoft Graph's User.Read,
// written short or as a full resource URI.
func hasGraphScope(scopes []string) bool {
	return slices.ContainsFunc(scopes, func(s string) bool {
		return strings.EqualFold(s, "User.Read") || strings.HasSuffix(strings.ToLower(s), "/user.read")
	})
}

// warnProvider logs the configuration's warnings and ProviderWarnings.
func (s *Server) warnProvider(cfg *config.Config) {
	for _, w := range cfg.Warnings {
		s.log.Warn(w.Error())
	}
	for _, w := range ProviderWarnings(cfg) {
		s.log.Warn(w)
	}
}
