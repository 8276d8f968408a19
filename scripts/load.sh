#!/usr/bin/env bash
# load.sh measures roomgate's hot path, a signed-in person entering a room,
# under load from wrk on 127.0.0.1. Any answer but a 302 into the room (or,
# for oauth2-proxy, a 202) fails the run, as does a room entry without its
# audit line.
#
#   scripts/load.sh                  # the deployed shape, below
#   PIN=pinned DURATION=10s ROUNDS=3 OUT=/tmp/load scripts/load.sh
#   STORES=sqlite,redis scripts/load.sh   # also roomgate with each store, holding 10,000 live revocations
#   scripts/load.sh reload           # the same, roomgate with 10,000 more rooms of 20 rules, reloaded every EVERY (5s)
#   scripts/load.sh inprocess        # the gateway inside the test process
#   PROFILE=/tmp/hot.prof scripts/load.sh inprocess && go tool pprof -top -cum /tmp/hot.prof
#   STORE=redis scripts/load.sh inprocess   # with a shared revocation store (needs redis-server)
#   scripts/load.sh soak 3m          # 3 minutes of load while the rule set reloads every second
#
# The deployed shape: roomgate serve is built and run as its own process
# with a real config, its log in a file, beside a bare net/http 302 process
# (a Location as long as roomgate's) and oauth2-proxy v7.15.6's
# /oauth2/auth, both signed in through the same provider, in alternating
# rounds of one run: first every server pinned to CPU 0 and wrk to CPU 1
# (taskset), then unpinned (PIN=both, the default). It reports requests/s,
# p50, p99 and server CPU per request, and holds roomgate, pinned, to at
# most 2.0x the bare handler's CPU per request and 0.35x oauth2-proxy's,
# and its p99 to at most 2x the bare handler's. Bounded: per pin mode,
# 3 x 2 s of warm-up and ROUNDS x 3 x DURATION (default 3 x 3 x 10 s).
#
# wrk comes from Debian (apt-get install wrk); oauth2-proxy from the Go
# module proxy; both are installed on first use. OUT keeps the binaries
# and every server's log.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="/usr/local/go/bin:$(go env GOPATH)/bin:$PATH"

if ! command -v wrk >/dev/null; then
	echo "load: installing wrk with apt-get" >&2
	sudo=""
	if [[ "$(id -u)" != 0 ]]; then sudo="sudo"; fi
	$sudo apt-get update -q >&2
	$sudo apt-get install -y -q wrk >&2
fi

mode="${1:-processes}"
case "$mode" in
processes | reload)
	if ! command -v oauth2-proxy >/dev/null; then
		echo "load: installing oauth2-proxy v7.15.6 with go install" >&2
		go install github.com/oauth2-proxy/oauth2-proxy/v7@v7.15.6
	fi
	args=(-conns "${CONNS:-64}" -duration "${DURATION:-10s}" -rounds "${ROUNDS:-3}" -pin "${PIN:-both}")
	if [[ -n "${OUT:-}" ]]; then
		args+=(-out "$OUT")
	fi
	if [[ -n "${STORES:-}" ]]; then
		args+=(-stores "$STORES")
	fi
	if [[ "$mode" == reload ]]; then
		args+=(-large 10000 -reload-every "${EVERY:-5s}")
	fi
	exec go test -tags load -count=1 -timeout 20m -run '^TestProcesses$' -v ./loadtest -args "${args[@]}"
	;;
inprocess | soak)
	args=(-gen "${GEN:-wrk}" -conns "${CONNS:-64}" -store "${STORE:-memory}")
	if [[ "$mode" == soak ]]; then
		exec go test -tags load -count=1 -timeout 0 -run '^TestSoak$' -v ./loadtest -args "${args[@]}" -soak "${2:-3m}"
	fi
	args+=(-duration "${DURATION:-10s}" -rounds "${ROUNDS:-3}")
	if [[ -n "${PROFILE:-}" ]]; then
		args+=(-hotprofile "$PROFILE")
	fi
	exec go test -tags load -count=1 -timeout 10m -run '^TestLoad$' -v ./loadtest -args "${args[@]}"
	;;
*)
	echo "usage: scripts/load.sh [processes | reload | inprocess | soak DURATION]" >&2
	exit 2
	;;
esac
