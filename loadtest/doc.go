// Package loadtest measures roomgate's hot path, a signed-in person entering
// a room, over TCP on 127.0.0.1 with wrk. Its tests need the build tag load,
// so that the ordinary test suite never runs them; scripts/load.sh runs
// them:
//
//	scripts/load.sh                       # TestProcesses: the deployed shape
//	scripts/load.sh inprocess             # TestLoad: the gateway in this process
//	scripts/load.sh soak 3m               # TestSoak: load while the rules reload
//
// TestProcesses builds roomgate and runs roomgate serve as its own process
// with a real config and its log in a file, beside a bare net/http 302
// process (bare/) and oauth2-proxy's /oauth2/auth, signed in through the
// same in-process OpenID provider (internal/oidctest), in alternating
// rounds, with every server pinned to one CPU and wrk to the other, and
// unpinned. It checks that every answer wrk counted has its audit line.
//
// TestLoad and TestSoak run the gateway in the test process behind an
// http.Server with the limits of roomgate serve, its JSON logs written to
// /dev/null through serve's handler; there a CPU profile of the hot path
// can be taken (-hotprofile). The load comes from wrk, or from a small Go
// client in the same process (-gen go).
package loadtest
