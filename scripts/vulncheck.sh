#!/usr/bin/env bash
# vulncheck.sh runs govulncheck on the module. This machine cannot reach
# vuln.go.dev, so the vulnerability database is built locally from a pinned
# snapshot of golang.org/x/vulndb (its data/osv reports, indexed by the
# module's own cmd/indexdb), fetched through the Go module proxy and cached
# under .cache/. Raise VULNDB to a newer pseudo-version to check against
# newer reports.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
vulndb="${VULNDB:-v0.0.0-20261105234957-e22db6528018}"
govulncheck_version="v1.9.0"
cache="${ROOMGATE_CACHE:-$PWD/.cache}"
db="$cache/vulndb-$vulndb"
gobin="$(go env GOPATH)/bin"

if ! "$gobin/govulncheck" -version 2>/dev/null | grep -q "$govulncheck_version"; then
	echo "vulncheck: installing govulncheck $govulncheck_version" >&2
	go install "golang.org/x/vuln/cmd/govulncheck@$govulncheck_version"
fi
if [[ ! -f "$db/index/db.json" ]]; then
	echo "vulncheck: indexing golang.org/x/vulndb@$vulndb into $db" >&2
	src="$(go mod download -json "golang.org/x/vulndb@$vulndb" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
	rm -rf "$db.tmp"
	go run "golang.org/x/vulndb/cmd/indexdb@$vulndb" -vulns "$src/data/osv" -out "$db.tmp"
	mv "$db.tmp" "$db"
fi
"$gobin/govulncheck" -db "file://$db" ./...
