#!/usr/bin/env bash
# fuzz.sh runs every native fuzz target (testing.F) of the module for a short,
# bounded time each, on top of its seed corpus. .ci/run calls it; run it
# alone with a longer time to dig deeper:
#
#   scripts/fuzz.sh            # FUZZTIME=10s per target
#   FUZZTIME=5m scripts/fuzz.sh
#
# Targets are found, not listed, so a new Fuzz function is fuzzed without
# touching this file. A failure leaves the input under the package's
# testdata/fuzz/ and fails the script: commit that file with the fix, so it
# stays a seed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
fuzztime="${FUZZTIME:-10s}"
# Minimising a new input may take long on big seeds; keep every target within
# its time.
minimize="${FUZZMINIMIZETIME:-5s}"

count=0
for pkg in $(go list ./...); do
	dir="$(go list -f '{{.Dir}}' "$pkg")"
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		printf 'fuzz: %s %s for %s\n' "$pkg" "$target" "$fuzztime"
		out="$(mktemp)"
		if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" "$pkg" >"$out" 2>&1; then
			# The whole story: a crash names its input, a hang its stack.
			tail -n 80 "$out"
			rm -f "$out"
			exit 1
		fi
		tail -n 3 "$out"
		rm -f "$out"
		count=$((count + 1))
	done
done
printf 'fuzz: %d targets, none failed\n' "$count"
