//go:build tools

// Package hydra pins Ory Hydra v2.3.0, the provider of the end-to-end
// suite's back-channel logout test (Dex has no back-channel logout). Its
// module is its own, so that Hydra's dependencies stay out of roomgate's
// go.mod; go.mod names it as a tool. Build it with scripts/e2e-deps.sh.
package hydra
