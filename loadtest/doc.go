// Package loadtest measures roomgate's hot path, a signed-in person entering
// a room, over TCP on 127.0.0.1, side by side in the same run with a bare
// net/http handler that only answers 302, and soaks it for minutes while the
// rule set is reloaded. Its tests need the build tag load, so that the
// ordinary test suite never runs them:
//
//	scripts/load.sh                       # installs wrk, then the comparison
//	scripts/load.sh soak 3m               # the soak
//	go test -tags load -run TestLoad -v ./loadtest -args -conns 64 -duration 10s -rounds 3
//
// The gateway runs in the test process behind an http.Server with the
// limits of roomgate serve, signed in once through an in-process OpenID
// provider (internal/oidctest), its JSON logs (one audit line per entry)
// written to /dev/null through a real file. The load comes from wrk when
// it is installed, else from a small Go client in the same process; see
// -gen. Any answer but a 302 into the room fails the run.
package loadtest
