#!/usr/bin/env bash
# e2e-deps.sh installs what the end-to-end suite (e2e/, build tag e2e) needs:
# Debian's chromium, a Dex binary built from the pinned wrapper module in
# tools/dex, and an Ory Hydra binary from tools/hydra. It is idempotent: a second run installs and builds nothing.
#
# Progress goes to stderr; stdout carries only export lines, so use it as
#   eval "$(scripts/e2e-deps.sh)"
#   go test -race -tags e2e ./e2e/ -count=1
#
# The Dex binary is cached under $ROOMGATE_CACHE (default: .cache/ in the
# repository, gitignored), keyed by the hash of tools/dex/go.sum, so changing
# the pin rebuilds it and nothing else does.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${ROOMGATE_CACHE:-$repo/.cache}"

log() { printf 'e2e-deps: %s\n' "$*" >&2; }

# Chromium: Debian's package. The suite drives it headless through chromedp.
chromium_bin="${ROOMGATE_CHROMIUM_BIN:-}"
if [[ -z "$chromium_bin" ]]; then
	chromium_bin="$(command -v chromium || true)"
fi
if [[ -z "$chromium_bin" ]]; then
	log "installing chromium with apt-get"
	sudo=""
	if [[ "$(id -u)" != 0 ]]; then sudo="sudo"; fi
	$sudo apt-get update -q >&2
	# The fonts make the screenshots readable on a machine that has none.
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium fonts-dejavu-core fonts-liberation >&2
	chromium_bin="$(command -v chromium)"
fi
log "chromium: $chromium_bin"

# Dex: built from tools/dex, a module of its own so that Dex's dependencies
# never enter roomgate's go.mod.
key="$(sha256sum "$repo/tools/dex/go.sum" | cut -c1-16)"
dex_bin="${ROOMGATE_DEX_BIN:-$cache/dex-$key/dex}"
if [[ ! -x "$dex_bin" ]]; then
	log "building dex into $dex_bin (about 90 s on a cold module cache)"
	mkdir -p "$cache"
	tmp="$(mktemp -d "$cache/build.XXXXXX")"
	(cd "$repo/tools/dex" && CGO_ENABLED=1 go build -o "$tmp/dex" github.com/dexidp/dex/cmd/dex) >&2
	mkdir -p "$(dirname "$dex_bin")"
	mv "$tmp/dex" "$dex_bin"
	rmdir "$tmp"
fi
log "dex: $dex_bin"

# Ory Hydra, for back-channel logout (Dex has none): built from tools/hydra,
# a module of its own for the same reason. Its go.mod pins v2.3.0 as a tool
# and takes Hydra's own replace of gobuffalo/pop.
key="$(sha256sum "$repo/tools/hydra/go.sum" | cut -c1-16)"
hydra_bin="${ROOMGATE_HYDRA_BIN:-$cache/hydra-$key/hydra}"
if [[ ! -x "$hydra_bin" ]]; then
	log "building hydra into $hydra_bin (about 40 s on a warm module cache, minutes on a cold one)"
	mkdir -p "$cache"
	tmp="$(mktemp -d "$cache/build.XXXXXX")"
	(cd "$repo/tools/hydra" && CGO_ENABLED=1 go build -tags sqlite,sqlite_omit_load_extension -o "$tmp/hydra" github.com/ory/hydra/v2) >&2
	mkdir -p "$(dirname "$hydra_bin")"
	mv "$tmp/hydra" "$hydra_bin"
	rmdir "$tmp"
fi
log "hydra: $hydra_bin"

printf 'export ROOMGATE_CHROMIUM_BIN=%q\n' "$chromium_bin"
printf 'export ROOMGATE_DEX_BIN=%q\n' "$dex_bin"
printf 'export ROOMGATE_HYDRA_BIN=%q\n' "$hydra_bin"
