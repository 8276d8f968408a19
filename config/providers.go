package config

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/roomgate/roomgate/yamlnode"
)

// readProviders reads the identity providers: the file's providers:, or
// its oidc: alone, which is one provider, the primary.
func readProviders(r *yamlnode.Reader, top map[string]*yaml.Node) []OIDC {
	list, ok := top["providers"]
	if !ok {
		return []OIDC{readOIDC(r, top["oidc"], "oidc")}
	}
	if _, both := top["oidc"]; both {
		r.Problemf(list, "providers", "the file has oidc: too; a file has oidc: (one provider) or providers: (several), so move oidc: into providers: as its first entry")
	}
	items := r.Items(list, "providers")
	if len(items) == 0 {
		r.Problemf(list, "providers", "empty; name at least one provider, the primary first")
		return nil
	}
	out := make([]OIDC, 0, len(items))
	ids := map[string]string{}     // id -> the path that named it first
	issuers := map[string]string{} // issuer -> the path that named it first
	domains := map[string]string{} // email domain -> the path that named it first
	for i, item := range items {
		p := yamlnode.Index("providers", i)
		if field(item, "id") == nil && yamlnode.Resolve(item) != nil && yamlnode.Resolve(item).Kind == yaml.MappingNode {
			r.Problemf(item, p+".id", "missing; every provider needs an id such as partner: rules name its groups partner:NAME")
		}
		o := readOIDC(r, item, p)
		if first, dup := ids[o.ID]; dup {
			r.Problemf(field(item, "id"), p+".id", "%q is already the id of %s; each provider needs its own", o.ID, first)
		} else {
			ids[o.ID] = p
		}
		if iss := strings.TrimSuffix(o.Issuer, "/"); iss != "" {
			if first, dup := issuers[iss]; dup {
				r.Problemf(field(item, "issuer"), p+".issuer", "%q is already the issuer of %s: two providers need two issuers, or an answer from one could pass for the other's (RFC 9207)", o.Issuer, first)
			} else {
				issuers[iss] = p
			}
		}
		for k, d := range o.EmailDomains {
			key := strings.ToLower(strings.TrimSuffix(d, "."))
			if first, dup := domains[key]; dup {
				r.Problemf(itemOf(field(item, "email_domains"), k), yamlnode.Index(p+".email_domains", k), "%q is already a domain of %s: an address is vouched for by one provider", d, first)
			} else {
				domains[key] = p
			}
		}
		out = append(out, o)
	}
	return out
}

// itemOf is the i-th item of a sequence node, or n itself when there is
// none, so that a problem still has a line.
func itemOf(n *yaml.Node, i int) *yaml.Node {
	if r := yamlnode.Resolve(n); r != nil && r.Kind == yaml.SequenceNode && i < len(r.Content) {
		return r.Content[i]
	}
	return n
}

// validDomain reports whether d can be an email domain: a host name, not
// an address or a pattern.
func validDomain(d string) bool {
	return d != "" && !strings.ContainsAny(d, "@*/ \t:") && !strings.HasPrefix(d, ".")
}

// SeveralProviders reports whether people sign in with more than one
// provider: then the sign-in shows a chooser and emails count only where
// their provider vouches for them.
func (c *Config) SeveralProviders() bool { return len(c.Providers) > 1 }

// CallbackPath is the redirect URI's path of the provider at index i
// among Providers: the primary keeps /auth/callback, which a file with
// oidc: has always registered.
func (c *Config) CallbackPath(i int) string {
	if i == 0 {
		return "/auth/callback"
	}
	return fmt.Sprintf("/auth/callback/%s", c.Providers[i].ID)
}
