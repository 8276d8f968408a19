package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

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
	cfg, ok := loadConfig(*path, env)
	if !ok {
		return exitProblem
	}
	if cfg.Store.InProcess() {
		fmt.Fprintln(env.Stderr, "roomgate revoke: needs store.sqlite.path (one host) or store.redis.url (several replicas): a store in the process is out of reach of this command, so a revocation made here would reach no running gateway")
		return exitProblem
	}
	st, err := openStore(cfg)
	if err != nil {
		fmt.Fprintln(env.Stderr, "roomgate revoke:", err)
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
