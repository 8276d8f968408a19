package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"

	"github.com/roomgate/roomgate/config"
)

// What real providers do differently, and what roomgate does about it. The
// README has a section per provider with its setup steps.
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

// overage reports whether claims carry a distributed groups claim
// (OIDC Core 5.6.2) instead of the groups themselves, as Entra ID does for
// a person in too many groups: "_claim_names": {"groups": "src1"}. Entra's
// implicit-flow form, "hasgroups": true, counts too.
func overage(claims map[string]any, groupsClaim string) bool {
	if names, ok := claims["_claim_names"].(map[string]any); ok {
		if _, ok := names[groupsClaim]; ok {
			return true
		}
	}
	has, _ := claims["hasgroups"].(bool)
	return has
}

// overageError says the provider sent a pointer to the person's groups
// instead of the groups, and roomgate was not set up to follow it, or
// following it failed (cause).
type overageError struct {
	userID string
	cause  error
}

func (e *overageError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("gateway: groups overage for user %s not resolved: %v", e.userID, e.cause)
	}
	return fmt.Sprintf("gateway: the provider sent no groups for user %s, only a groups overage (_claim_names); set oidc.entra.overage: graph, or have Entra send fewer groups (groups assigned to the application)", e.userID)
}

func (e *overageError) Unwrap() error { return e.cause }

// unavailableError is a provider (or Microsoft Graph) that did not answer
// usefully: down, unreachable, slow, or answering 5xx. The person sees the
// 502 page and keeps their session for when it answers again.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return e.err.Error() }
func (e *unavailableError) Unwrap() error { return e.err }

// pageGroupsOverage is shown when the person's groups could not be read.
var pageGroupsOverage = problem{
	Title: "Your groups could not be read",
	Body: "You are in more groups than your company's sign-in service puts in a sign-in, so roomgate cannot tell which rooms you may enter. " +
		"Nothing is wrong with your account: tell the contact below, who can have roomgate read your groups another way.",
	Action: "Try again", Href: "/",
}

// resolveOverage returns the groups of a person whose ID token carried an
// overage, from Microsoft Graph when oidc.entra.overage is graph.
func (s *Server) resolveOverage(ctx context.Context, tok *oauth2.Token, id *identity) ([]string, error) {
	if s.cfg.OIDC.Entra.Overage != config.OverageGraph {
		s.log.Warn("groups overage: the provider sent a link to the groups instead of the groups", "user_id", id.UserID, "fix", "oidc.entra.overage: graph")
		return nil, &overageError{userID: id.UserID}
	}
	groups, err := s.graphGroups(ctx, tok)
	var unavailable *unavailableError
	switch {
	case errors.As(err, &unavailable):
		return nil, err
	case err != nil:
		return nil, &overageError{userID: id.UserID, cause: err}
	}
	s.log.Info("groups overage resolved through Microsoft Graph", "user_id", id.UserID, "groups", len(groups))
	return groups, nil
}

// googleIssuer is Google's issuer, whose ID tokens never carry groups.
const googleIssuer = "accounts.google.com"

// ProviderWarnings returns what an operator should know about how cfg's
// provider and rule set fit together, one sentence each; nothing when all
// is well. New logs them; `roomgate check` may print them.
func ProviderWarnings(cfg *config.Config) []string {
	var out []string
	u, err := url.Parse(cfg.OIDC.Issuer)
	if err != nil {
		return nil
	}
	patterns := cfg.Rules.GroupPatterns()
	if u.Hostname() == googleIssuer && len(patterns) > 0 {
		out = append(out, fmt.Sprintf("oidc.issuer is Google, which sends no groups: the rules' %d group pattern(s) (first %q) will never match; write rules with emails instead", len(patterns), patterns[0]))
	}
	if cfg.OIDC.Entra.Overage == config.OverageGraph && !hasGraphScope(cfg.OIDC.Scopes) {
		out = append(out, "oidc.entra.overage is graph but oidc.scopes lacks User.Read: Microsoft Graph will refuse the sign-in's access token")
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

// warnProvider logs ProviderWarnings.
func (s *Server) warnProvider() {
	for _, w := range ProviderWarnings(s.cfg) {
		s.log.Warn(w)
	}
}
