package config

import (
	"strings"
)

// The one way from what a provider says about a person to the person the
// rules decide on. serve (for a sign-in or re-check), explain, diff and the
// rule tests all come through here, so an admin's answer is the person's.

// maxEmailBytes is the longest address there is (RFC 5321 4.5.3.1.3).
const maxEmailBytes = 254

// RuleGroups returns the names the rules see for the groups a provider
// sent, applying GroupNames: with GroupNamesLast, a group that is a path
// (/eng/leads, as Keycloak sends them with "Full group path" on) is known
// by its last segment (leads). Other names are kept as sent.
func (c Claims) RuleGroups(groups []string) []string {
	if c.GroupNames != GroupNamesLast {
		return groups
	}
	out := make([]string, 0, len(groups))
	for _, g := range groups {
		if strings.HasPrefix(g, "/") {
			g = g[strings.LastIndexByte(g, '/')+1:]
		}
		if g != "" {
			out = append(out, g)
		}
	}
	return out
}

// RuleEmail returns the email the rules see: the address as sent, or, when
// it is longer than any real address, only "@domain", which is no address
// to mapping: it matches no emails rule.
func (c Claims) RuleEmail(email string) string {
	if len(email) <= maxEmailBytes {
		return email
	}
	i := strings.LastIndexByte(email, '@')
	if i < 0 || len(email)-i > maxEmailBytes {
		return "@"
	}
	return email[i:]
}
