package reload

import (
	"slices"
	"strings"

	"github.com/roomgate/roomgate/config"
)

// RestartNeeded returns the keys outside rooms whose values differ between
// the running configuration and a newly loaded one, in file order, such as
// ["oidc.client_secret", "server.listen"]. The gateway was built from those
// values, so they take effect only after a restart. It names keys and never
// shows their values: some of them are secrets.
func RestartNeeded(running, loaded *config.Config) []string {
	return config.ChangedKeys(running, loaded)
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
