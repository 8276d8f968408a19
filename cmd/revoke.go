package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/internal/store"
)

// revoke ends every session of a person (the room token's ud) on every
// replica sharing the store: they must sign in again, and then the provider
// decides. It needs a store other processes see (SQLite on this host, or
// Redis): a revocation in one process alone would reach no gateway.
func revoke(ctx context.Context, args []string, env Env) int {
	fs := newFlags("revoke", env)
	path := fs.String("config", "config.yaml", "configuration `file`")
	user := fs.String("user", "", "the person's user `id` (oidc.claims.user_id, the room token's ud)")
	if fs.Parse(args) != nil {
		return exitProblem
	}
	if *user == "" {
		fmt.Fprintln(env.Stderr, "roomgate revoke: -user is required")
		return exitProblem
	}
	cfg, st, ok := sharedStore("revoke", *path, env)
	if !ok {
		return exitProblem
	}
	defer st.Close()
	now := time.Now()
	rev := store.Revocation{Kind: store.KindUser, Value: *user, At: now, Expires: now.Add(cfg.Session.Lifetime)}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := st.Revoke(cctx, rev); err != nil {
		fmt.Fprintln(env.Stderr, "roomgate revoke: the store did not take the revocation, so nothing was revoked:", err)
		return exitProblem
	}
	// The audit line, as the gateways write theirs.
	line, _ := json.Marshal(map[string]any{"time": now.UTC().Format(time.RFC3339Nano), "level": "INFO", "msg": "revocation", "audit": true,
		"by": "roomgate revoke", "kind": string(rev.Kind), "value": rev.Value, "shared": true, "until": rev.Expires.UTC().Format(time.RFC3339)})
	fmt.Fprintln(env.Stderr, string(line))
	fmt.Fprintf(env.Stdout, "revoked every session of %s on every gateway using this store (they must sign in again); kept until %s\n", *user, rev.Expires.Format(time.RFC3339))
	return exitOK
}

// sharedStore loads the config at path and opens the store the gateways
// share, for the command name: a store in the process is out of a
// command's reach, so it is refused, saying why.
func sharedStore(name, path string, env Env) (*config.Config, store.Store, bool) {
	cfg, ok := loadConfig(path, env)
	if !ok {
		return nil, nil, false
	}
	if cfg.Store.InProcess() {
		fmt.Fprintf(env.Stderr, "roomgate %s: needs store.sqlite.path (one host) or store.redis.url (several replicas): the gateways keep what it changes there, and a store in the process is out of this command's reach\n", name)
		return nil, nil, false
	}
	st, err := openStore(cfg)
	if err != nil {
		fmt.Fprintf(env.Stderr, "roomgate %s: %v\n", name, err)
		return nil, nil, false
	}
	return cfg, st, true
}
