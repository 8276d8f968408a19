// Package e2e is roomgate's end-to-end suite: the roomgate binary against a
// real Dex and a real headless Chromium, with the room stand-in of
// demo/dsroom where Digital Samba would be.
//
// The tests carry the build tag e2e, so a plain `go test ./...` leaves them
// out. Run them with
//
//	eval "$(scripts/e2e-deps.sh)"
//	go test -race -tags e2e ./e2e/ -count=1
//
// scripts/e2e-deps.sh installs Debian's chromium and builds Dex from the
// wrapper module in tools/dex; TestMain runs it itself when the variables
// ROOMGATE_DEX_BIN and ROOMGATE_CHROMIUM_BIN are not set. roomgate is built
// from this repository with the race detector, and a race it reports fails
// the suite. Logs of every process, the configs and the screenshots land in
// e2e/out/ (gitignored).
package e2e
