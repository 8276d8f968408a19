//go:build tools

// Package dex pins the Dex OpenID provider used by the end-to-end suite.
// It lives in its own module so that Dex's many dependencies stay out of
// roomgate's go.mod. Build it with scripts/e2e-deps.sh.
package dex

import _ "github.com/dexidp/dex/cmd/dex"
