#!/usr/bin/env bash
# load.sh measures roomgate's hot path (a signed-in person entering a room)
# against a bare net/http handler that only answers 302, in alternating
# rounds of one run on 127.0.0.1, and holds it to the targets of issue 6:
# at least 50% of the bare handler's requests/s, p99 at most twice its p99.
# Any answer but a 302 into the room fails the run. Bounded: 2 s warm-up
# per target plus ROUNDS x 2 x DURATION (default 3 x 2 x 10 s).
#
#   scripts/load.sh                    # the comparison, with wrk
#   scripts/load.sh soak 3m            # soak: 3 minutes of load while the rule set is reloaded every second
#   CONNS=64 DURATION=10s ROUNDS=3 GEN=go PROFILE=/tmp/hot.prof scripts/load.sh
#   STORE=redis scripts/load.sh        # the hot path with a shared revocation store (needs redis-server)
#
# wrk comes from Debian (apt-get install wrk) and is installed on first use;
# GEN=go uses the Go client in loadtest/ instead. PROFILE writes a CPU
# profile of the gateway during the hot-path rounds; read it with
#   go tool pprof -top -cum PROFILE
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="/usr/local/go/bin:$PATH"

# The gateway runs in this test process, so give it the GOGC that
# `roomgate serve` sets for itself (internal/cli: gcPercent).
export GOGC="${GOGC:-400}"

gen="${GEN:-wrk}"
if [[ "$gen" == wrk ]] && ! command -v wrk >/dev/null; then
	echo "load: installing wrk with apt-get" >&2
	sudo=""
	if [[ "$(id -u)" != 0 ]]; then sudo="sudo"; fi
	$sudo apt-get update -q >&2
	$sudo apt-get install -y -q wrk >&2
fi

args=(-gen "$gen" -conns "${CONNS:-64}" -store "${STORE:-memory}")
if [[ "${1:-}" == soak ]]; then
	soak="${2:-3m}"
	exec go test -tags load -count=1 -timeout 0 -run '^TestSoak$' -v ./loadtest -args "${args[@]}" -soak "$soak"
fi
args+=(-duration "${DURATION:-10s}" -rounds "${ROUNDS:-3}")
if [[ -n "${PROFILE:-}" ]]; then
	args+=(-hotprofile "$PROFILE")
fi
exec go test -tags load -count=1 -timeout 10m -run '^TestLoad$' -v ./loadtest -args "${args[@]}"
