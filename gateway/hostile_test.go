package gateway

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/roomgate/roomgate/internal/metrics"
	"github.com/roomgate/roomgate/internal/oidctest"
)

// This file tries to break the gateway with what an attacker controls: the
// request line, headers and cookies, the callback's query, and the sizes of
// all of them. attack_test.go covers broken ID tokens and tampered session
// cookies, callback_test.go the basic state checks, and login_test.go
// /auth/login?next=. Every answer here must be a 4xx or a sign-in: never a
// 5xx, never a panic, never a room token, never a browser sent off the
// gateway.

// redirectShapes are request targets that try to turn the room path itself
// into an open redirect, exactly as they go on the wire. Each is sent as
// the first line of a raw HTTP request, so no client normalises it first.
var redirectShapes = []string{
	"//evil.example",
	"///evil.example",
	"//evil.example/standup",
	"/%2F%2Fevil.example",
	"/%2f%2fevil.example",
	"/%2F/evil.example",
	"/%252F%252Fevil.example",
	"/%5C%5Cevil.example",
	"/%5Cevil.example",
	"/\\evil.example",
	"/\\\\evil.example",
	"/.%2F%2Fevil.example",
	"/%2E%2E/evil.example",
	"/../evil.example",
	"/./evil.example",
	"/standup/..//evil.example",
	"/standup%2F..%2F..%2Fevil.example",
	"/..%2F..%2Fevil.example",
	"/https:%2F%2Fevil.example",
	"/https://evil.example",
	"/http:evil.example",
	"/javascript:alert(1)",
	"/%09/evil.example",
	"/%0D%0ALocation:%20https://evil.example",
	"/standup%0D%0ALocation:%20https://evil.example",
	"/%00//evil.example",
	"/@evil.example",
	"/standup@evil.example",
	"/%40evil.example",
	"/%EF%BC%8F%EF%BC%8Fevil.example", // fullwidth solidus
	"/%E2%88%95evil.example",          // division slash
	"/%E2%81%84evil.example",          // fraction slash
	"/st%D0%B0ndup",                   // Cyrillic a
	"/STANDUP",
	"/standup%20",
	"/standup.",
	"/standup;//evil.example",
	"/standup/",
	"/standup?next=//evil.example",
	"/standup?next=https://evil.example&state=x",
	"/?next=//evil.example",
	"/%u002F%u002Fevil.example",
	"http://evil.example/standup", // absolute-form request target
	"https://evil.example/",
	"//127.0.0.1@evil.example/",
	"*",
}

// TestRoomPathNeverLeavesTheGateway sends every shape as the room path of a
// raw request, then follows whatever comes back through a whole sign-in. No
// redirect along the way may leave the gateway or the provider, except into
// the one real room a shape names.
func TestRoomPathNeverLeavesTheGateway(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	if n := len(redirectShapes); n < 30 {
		t.Fatalf("corpus has %d shapes; want at least 30", n)
	}
	for _, target := range redirectShapes {
		t.Run(target, func(t *testing.T) {
			resp := rawGet(t, e.srv.Listener.Addr().String(), target, "Host: "+e.srv.Listener.Addr().String())
			e.followSafely(t, target, resp)
		})
	}
	e.authorizeOnlyToOwnCallback(t)
}

// TestForeignHostHeaders: redirects are built from public_url, so a Host or
// X-Forwarded-* header naming another site changes nothing.
func TestForeignHostHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	tests := []struct {
		name    string
		headers []string
	}{
		{"Host", []string{"Host: evil.example"}},
		{"Host with port", []string{"Host: evil.example:443"}},
		{"X-Forwarded-Host", []string{"Host: " + e.srv.Listener.Addr().String(), "X-Forwarded-Host: evil.example", "X-Forwarded-Proto: https"}},
		{"Forwarded", []string{"Host: " + e.srv.Listener.Addr().String(), "Forwarded: host=evil.example;proto=https"}},
		{"X-Original-URL", []string{"Host: " + e.srv.Listener.Addr().String(), "X-Original-URL: //evil.example", "X-Rewrite-URL: //evil.example"}},
	}
	for _, tt := range tests {
		for _, target := range []string{"/standup", "/", "/auth/login?next=/standup", "//evil.example"} {
			t.Run(tt.name+" "+target, func(t *testing.T) {
				resp := rawGet(t, e.srv.Listener.Addr().String(), target, tt.headers...)
				e.followSafely(t, target, resp)
			})
		}
	}
	e.authorizeOnlyToOwnCallback(t)
}

// followSafely checks the first answer to target, then follows it through
// the sign-in with a browser that stops at the first host that is neither
// the gateway nor the provider.
func (e *env) followSafely(t *testing.T, target string, resp *http.Response) {
	t.Helper()
	if resp.StatusCode >= 500 {
		t.Fatalf("status %d; want a 4xx or a sign-in", resp.StatusCode)
	}
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		return
	}
	loc := e.checkLocation(t, resp.Header.Get("Location"))
	b := e.browser()
	gw, _ := url.Parse(e.url("/"))
	b.Client.Jar.SetCookies(gw, resp.Cookies())
	b.Client.Jar.SetCookies(&url.URL{Scheme: "http", Host: gw.Host, Path: "/auth/callback"}, resp.Cookies())
	provider, _ := url.Parse(e.provider.Issuer())
	b.StopAt = func(u *url.URL) bool { return u.Host != gw.Host && u.Host != provider.Host }
	final, hops := b.Follow(t, loc.String())
	for _, h := range hops {
		if h.Host != gw.Host && h.Host != provider.Host {
			t.Fatalf("the browser went to %s; want the gateway or the provider only (hops %v)", h, hops)
		}
	}
	if final.StatusCode >= 500 {
		t.Fatalf("ended with status %d at %s", final.StatusCode, hops[len(hops)-1])
	}
	if final.StatusCode < 300 || final.StatusCode > 399 {
		return
	}
	out := e.checkLocation(t, final.Header.Get("Location"))
	if out.Host == roomHost {
		// Only the real room may be entered, and only from its own path,
		// in any letter case or with a trailing slash, which redirect to it
		// (an absolute-form request target names the path too).
		asked, err := url.Parse(target)
		own := strings.EqualFold(strings.TrimSuffix(asked.Path, "/"), "/standup")
		if err != nil || out.Path != "/daily-standup" || !own && target != "/auth/login?next=/standup" {
			t.Fatalf("%q entered %s; want no room", target, out)
		}
		e.roomToken(final, "daily-standup")
		return
	}
	t.Fatalf("stopped at a redirect to %s; want the gateway, the provider or the room", out)
}

// checkLocation fails unless loc, as a browser would read it, stays on the
// gateway, the provider or the room host. Browsers treat '\' as '/' and
// drop tabs and newlines, so those never appear in a Location at all.
func (e *env) checkLocation(t *testing.T, loc string) *url.URL {
	t.Helper()
	if loc == "" {
		t.Fatal("a redirect without Location")
	}
	if strings.ContainsAny(loc, "\\\t\r\n\x00") || strings.HasPrefix(loc, "//") {
		t.Fatalf("Location %q could leave the gateway", loc)
	}
	base, _ := url.Parse(e.url("/"))
	u, err := base.Parse(loc)
	if err != nil {
		t.Fatalf("Location %q does not parse: %v", loc, err)
	}
	provider, _ := url.Parse(e.provider.Issuer())
	switch u.Host {
	case base.Host, provider.Host, roomHost:
	default:
		t.Fatalf("Location %q sends the browser to %q", loc, u.Host)
	}
	if u.User != nil {
		t.Fatalf("Location %q carries userinfo", loc)
	}
	return u
}

// authorizeOnlyToOwnCallback checks that every sign-in asked the provider to
// come back to public_url's callback, whatever the request said.
func (e *env) authorizeOnlyToOwnCallback(t *testing.T) {
	t.Helper()
	for _, ar := range e.provider.AuthorizeRequests() {
		if ar.RedirectURI != e.url("/auth/callback") {
			t.Errorf("authorize redirect_uri = %q; want %q", ar.RedirectURI, e.url("/auth/callback"))
		}
	}
}

// rawGet sends "GET target HTTP/1.1" with headers exactly as given and reads
// the answer.
func rawGet(t *testing.T, addr, target string, headers ...string) *http.Response {
	t.Helper()
	var req strings.Builder
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\n", target)
	for _, h := range headers {
		req.WriteString(h + "\r\n")
	}
	req.WriteString("Connection: close\r\n\r\n")
	return rawRoundTrip(t, addr, req.String())
}

// rawRoundTrip writes req on a new connection and reads one response. The
// server may answer before it has read everything (431), so a failed write
// is not an error as long as an answer comes.
func rawRoundTrip(t *testing.T, addr, req string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	go io.WriteString(conn, req)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no HTTP answer to %.80q: %v", req, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body = readCloser{bytes.NewReader(b)}
	return resp
}

// pendingSignIn runs a sign-in up to the provider's redirect back and
// returns the callback URL, the login-state cookie and the browser.
func (e *env) pendingSignIn(t *testing.T, path string) (*url.URL, *http.Cookie, *oidctest.Browser) {
	t.Helper()
	b := e.browser()
	b.StopAt = func(u *url.URL) bool { return u.Path == "/auth/callback" || u.Host == roomHost }
	resp, _ := e.enter(b, path)
	cb, err := resp.Location()
	if err != nil || cb.Path != "/auth/callback" {
		t.Fatalf("no redirect to the callback: %v %v", cb, err)
	}
	state := cb.Query().Get("state")
	for _, c := range b.Cookies(t, e.url("/auth/callback")) {
		if strings.HasSuffix(c.Name, state) {
			return cb, c, b
		}
	}
	t.Fatalf("no login-state cookie for state %q", state)
	return nil, nil, nil
}

// callbackWith requests cb with exactly the given cookies, no others.
func (e *env) callbackWith(t *testing.T, cb *url.URL, cookies ...*http.Cookie) *http.Response {
	t.Helper()
	req := mustGet(t, cb.String())
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	return resp
}

// TestForgedLoginState alters the login-state cookie that carries state,
// nonce, PKCE verifier and return path. The gateway must refuse each before
// it asks the provider for a token.
func TestForgedLoginState(t *testing.T) {
	t.Parallel()
	flip := func(v string, i int) string {
		b := []byte(v)
		b[i] ^= 0x01
		if b[i] == '=' || b[i] < '0' {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name    string
		forge   func(t *testing.T, e *env, cb *url.URL, c *http.Cookie) (*url.URL, []*http.Cookie)
		advance time.Duration
		// askProvider: the forgery is only visible to the provider, which
		// refuses the code for this PKCE verifier.
		askProvider bool
	}{
		{"flipped byte", func(t *testing.T, e *env, cb *url.URL, c *http.Cookie) (*url.URL, []*http.Cookie) {
			return cb, []*http.Cookie{{Name: c.Name, Value: flip(c.Value, len(c.Value)/3)}}
		}, 0, false},
		{"truncated", func(t *testing.T, e *env, cb *url.URL, c *http.Cookie) (*url.URL, []*http.Cookie) {
			return cb, []*http.Cookie{{Name: c.Name, Value: c.Value[:len(c.Value)-10]}}
		}, 0, false},
		{"expired", func(t *testing.T, e *env, cb *url.URL, c *http.Cookie) (*url.URL, []*http.Cookie) {
			return cb, []*http.Cookie{c}
		}, loginTTL + time.Second, false},
		{"another sign-in's cookie under this state's name", func(t *testing.T, e *env, cb *url.URL, c *http.Cookie) (*url.URL, []*http.Cookie) {
			_, other, _ := e.pendingSignIn(t, "/all-hands")
			return cb, []*http.Cookie{{Name: c.Name, Value: other.Value}}
		}, 0, false},
		{"forged with another secret, returning to another site", func(t *testing.T, e *env, cb *url.URL, c *http.Cookie) (*url.URL, []*http.Cookie) {
			return cb, []*http.Cookie{forgedLoginCookie(t, e, cb.Query().Get("state"), "//evil.example")}
		}, 0, false},
		{"the session cookie's value as login state", func(t *testing.T, e *env, cb *url.URL, c *http.Cookie) (*url.URL, []*http.Cookie) {
			return cb, []*http.Cookie{{Name: c.Name, Value: e.signedInCookie(t).Value}}
		}, 0, false},
		{"state of another sign-in in the query", func(t *testing.T, e *env, cb *url.URL, c *http.Cookie) (*url.URL, []*http.Cookie) {
			otherCB, other, _ := e.pendingSignIn(t, "/all-hands")
			u := *cb
			q := u.Query()
			q.Set("state", otherCB.Query().Get("state"))
			u.RawQuery = q.Encode()
			return &u, []*http.Cookie{c, {Name: other.Name, Value: flip(other.Value, 5)}}
		}, 0, false},
		{"both state and cookie of another sign-in, this code", func(t *testing.T, e *env, cb *url.URL, c *http.Cookie) (*url.URL, []*http.Cookie) {
			// The other sign-in's PKCE verifier does not match this code.
			otherCB, other, _ := e.pendingSignIn(t, "/all-hands")
			u := *cb
			q := u.Query()
			q.Set("state", otherCB.Query().Get("state"))
			u.RawQuery = q.Encode()
			return &u, []*http.Cookie{other}
		}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
			cb, c, _ := e.pendingSignIn(t, "/standup")
			u, cookies := tt.forge(t, e, cb, c)
			e.clock.Advance(tt.advance)
			before := len(e.provider.TokenRequests())
			resp := e.callbackWith(t, u, cookies...)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d; want 400", resp.StatusCode)
			}
			e.assertNoSession(t, resp)
			if n := len(e.provider.TokenRequests()) - before; n != 0 && !tt.askProvider {
				t.Errorf("%d token requests; want the forgery refused before the provider is asked", n)
			}
		})
	}
}

// TestCallbackReplayedInSameBrowser: the browser that signed in opens the
// same callback URL again (back button, reload): a 400 page, and the session
// it already has is untouched.
func TestCallbackReplayedInSameBrowser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	cb, _, b := e.pendingSignIn(t, "/standup")
	b.StopAt = oidctest.StopAtHost(roomHost)
	e.roomToken(first(b.Follow(t, cb.String())), "daily-standup")
	resp := b.Do(t, mustGet(t, cb.String()))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body(t, resp), "expired") {
		t.Errorf("replayed callback: status %d; want 400 and the expired page", resp.StatusCode)
	}
	if _, hops := e.enter(b, "/standup"); len(hops) != 1 {
		t.Errorf("after the replay the person had to sign in again: %v", hops)
	}
}

// TestCallbackErrorIsNotReflected: whatever the error parameters say, the
// page shows none of it.
func TestCallbackErrorIsNotReflected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, query string
		want        int
	}{
		{"script in error", "error=%3Cscript%3Ealert(1)%3C/script%3E", http.StatusBadRequest},
		{"script in description", "error=server_error&error_description=%3Cscript%3Ealert(1)%3C/script%3E", http.StatusBadRequest},
		{"error and code", "error=access_denied&code=abc", http.StatusForbidden},
		{"huge error", "error=" + strings.Repeat("x", 20000), http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			cb, c, _ := e.pendingSignIn(t, "/standup")
			u := *cb
			u.RawQuery = "state=" + cb.Query().Get("state") + "&" + tt.query
			resp := e.callbackWith(t, &u, c)
			if resp.StatusCode != tt.want {
				t.Errorf("status %d; want %d", resp.StatusCode, tt.want)
			}
			page := body(t, resp)
			if strings.Contains(page, "<script>") || strings.Contains(page, "alert(1)") || strings.Contains(page, "xxxxxxxx") {
				t.Errorf("the page repeats the query:\n%.500s", page)
			}
			e.assertNoSession(t, resp)
		})
	}
}

// TestCookiesOfOneKindNeverPassForAnother: a login-state cookie is no
// session and an expired session captured earlier is no session either.
func TestCookiesOfOneKindNeverPassForAnother(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	session := e.signedInCookie(t)
	_, login, _ := e.pendingSignIn(t, "/standup")

	tests := []struct {
		name    string
		cookie  *http.Cookie
		advance time.Duration
	}{
		{"login state as session", &http.Cookie{Name: session.Name, Value: login.Value}, 0},
		{"session under the __Host- name", &http.Cookie{Name: "__Host-" + session.Name, Value: session.Value}, 0},
		{"session replayed after its lifetime", session, 8*time.Hour + time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.Advance(tt.advance)
			req := mustGet(t, e.url("/standup"))
			req.AddCookie(&http.Cookie{Name: tt.cookie.Name, Value: tt.cookie.Value})
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, _ := resp.Location()
			if resp.StatusCode != http.StatusFound || loc == nil || loc.Host == roomHost || !strings.HasSuffix(loc.Path, "/authorize") {
				t.Errorf("status %d to %v; want a sign-in at the provider", resp.StatusCode, loc)
			}
		})
	}
}

// TestHostileClaims: claims of the wrong type or of absurd size from the
// provider end in a session or a 400, never a 500, and the session cookie
// stays small whatever the provider sends.
func TestHostileClaims(t *testing.T) {
	t.Parallel()
	many := make([]string, 5000)
	for i := range many {
		many[i] = fmt.Sprintf("directory-group-%05d-%s", i, strings.Repeat("x", 40))
	}
	many[4321] = "eng-leads"
	leads := []string{"eng-leads"}
	// wantStatus is what entering standup ends with: 302 into the room, 403
	// for a person signed in whom no rule admits (the claim was unusable),
	// 400 for a sign-in that cannot be completed.
	tests := []struct {
		name       string
		claims     map[string]any
		mut        []oidctest.Mutation
		wantStatus int
	}{
		{"5000 groups", map[string]any{"groups": many}, nil, http.StatusFound},
		{"groups is a number", map[string]any{"groups": 42}, nil, http.StatusForbidden},
		{"groups hold objects", map[string]any{"groups": []any{map[string]any{"name": "eng-leads"}, 7, nil, true}}, nil, http.StatusForbidden},
		{"groups is an object", map[string]any{"groups": map[string]any{"eng-leads": true}}, nil, http.StatusForbidden},
		{"name is a list", map[string]any{"name": []any{"a"}, "groups": leads}, nil, http.StatusFound},
		{"email is a number", map[string]any{"email": 3, "groups": leads}, nil, http.StatusFound},
		{"control characters in name", map[string]any{"name": "Ada\r\nSet-Cookie: x=y\x00", "groups": leads}, nil, http.StatusFound},
		{"no subject", map[string]any{"groups": leads}, []oidctest.Mutation{oidctest.WithoutClaim("sub")}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			enterWithClaims(t, tt.claims, tt.mut, tt.wantStatus)
		})
	}
}

// TestOversizedIdentity: a person can often choose their own display name
// or picture at the provider, and directories put people in thousands of
// groups; none of that may lock them out with a 500 when the session
// cookie would pass securecookie's 4096-byte limit.
func TestOversizedIdentity(t *testing.T) {
	t.Parallel()
	leads := []string{"eng-leads"}
	// Every one of these matches the rule eng-*, so none can be dropped as
	// irrelevant.
	covered := make([]string, 3000)
	for i := range covered {
		covered[i] = fmt.Sprintf("eng-team-%05d", i)
	}
	tests := []struct {
		name   string
		claims map[string]any
	}{
		{"name of 8000 bytes", map[string]any{"name": strings.Repeat("Ada ", 2000), "groups": leads}},
		{"email of 5000 bytes", map[string]any{"email": strings.Repeat("a", 5000) + "@example.com", "groups": leads}},
		{"picture of 8000 bytes", map[string]any{"picture": "https://img.example/" + strings.Repeat("p", 8000), "groups": leads}},
		{"3000 groups a rule covers", map[string]any{"groups": covered}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			enterWithClaims(t, tt.claims, nil, http.StatusFound)
		})
	}
}

// enterWithClaims signs in a person with claims (after muts) and enters
// standup, which must end with wantStatus: 302 into the room, 403 for a
// person whom no rule admits, 400 for a sign-in that cannot be completed.
// Any cookie set stays within what browsers keep.
func enterWithClaims(t *testing.T, claims map[string]any, muts []oidctest.Mutation, wantStatus int) {
	t.Helper()
	e := newEnv(t)
	e.provider.SetUser(oidctest.User{Subject: "ada", Claims: claims})
	if muts != nil {
		e.provider.MutateNextIDToken(muts...)
	}
	b := e.browser()
	resp, _ := e.enter(b, "/standup")
	if resp.StatusCode != wantStatus {
		t.Fatalf("status %d; want %d", resp.StatusCode, wantStatus)
	}
	switch wantStatus {
	case http.StatusBadRequest:
		e.noEntry(resp, b)
		return
	case http.StatusFound:
		e.roomToken(resp, "daily-standup")
	}
	for _, c := range b.Cookies(t, e.url("/")) {
		if n := len(c.Name) + len(c.Value); n > 4096 {
			t.Errorf("cookie %s is %d bytes; browsers drop cookies over 4096", c.Name, n)
		}
	}
}

// TestOversizedRequests runs the gateway behind an http.Server with the
// limits of roomgate serve (NewHTTPServer): headers, paths and
// query strings of every size get a 4xx or a sign-in.
func TestOversizedRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	addr := e.limitedServer(t)
	big := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name       string
		target     string
		headers    []string
		wantStatus int
	}{
		{"header over 64 KB", "/standup", []string{"X-Big: " + big(80<<10)}, http.StatusRequestHeaderFieldsTooLarge},
		{"cookie over 64 KB", "/standup", []string{"Cookie: roomgate_session=" + big(80<<10)}, http.StatusRequestHeaderFieldsTooLarge},
		{"many headers over 64 KB", "/standup", manyHeaders(2000, 40), http.StatusRequestHeaderFieldsTooLarge},
		{"path over 64 KB", "/" + big(80<<10), nil, http.StatusRequestHeaderFieldsTooLarge},
		{"query over 64 KB", "/standup?x=" + big(80<<10), nil, http.StatusRequestHeaderFieldsTooLarge},
		{"header of 48 KB", "/standup", []string{"X-Big: " + big(48<<10)}, http.StatusFound},
		{"session cookie of 48 KB", "/standup", []string{"Cookie: roomgate_session=" + big(48<<10)}, http.StatusFound},
		{"many cookies", "/standup", []string{"Cookie: " + manyCookies(1000)}, http.StatusFound},
		{"path of 32 KB", "/" + big(32<<10), nil, http.StatusFound},
		{"path of 32 KB of slashes", strings.Repeat("/", 32<<10) + "evil.example", nil, http.StatusTemporaryRedirect},
		{"room path of 65 characters", "/" + big(65), nil, http.StatusFound},
		{"query of 48 KB on a room", "/standup?x=" + big(48<<10), nil, http.StatusFound},
		{"next of 48 KB", "/auth/login?next=/" + big(48<<10), nil, http.StatusFound},
		{"10000 query parameters", "/standup?" + strings.Repeat("a=b&", 10000), nil, http.StatusFound},
		{"state of 48 KB", "/auth/callback?code=x&state=" + big(48<<10), nil, http.StatusBadRequest},
		{"code of 48 KB", "/auth/callback?state=" + big(22) + "&code=" + big(48<<10), nil, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			headers := append([]string{"Host: " + addr}, tt.headers...)
			resp := rawGet(t, addr, tt.target, headers...)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d; want %d", resp.StatusCode, tt.wantStatus)
			}
			if resp.StatusCode >= 300 && resp.StatusCode < 400 {
				e.checkLocation(t, resp.Header.Get("Location"))
			}
			if resp.StatusCode == http.StatusFound {
				loc, err := resp.Location()
				if err != nil || !strings.HasPrefix(loc.String(), e.provider.Issuer()+"/authorize?") {
					t.Errorf("Location %v; want a sign-in at the provider", loc)
				}
				if l := len(resp.Header.Get("Location")); l > 4096 {
					t.Errorf("Location of %d bytes; the request's size leaked into the redirect", l)
				}
				if ar := e.provider.AuthorizeRequests(); len(ar) > 0 && len(ar[len(ar)-1].Query.Encode()) > 4096 {
					t.Errorf("authorize request of %d bytes", len(ar[len(ar)-1].Query.Encode()))
				}
			}
		})
	}
}

// limitedServer serves the env's gateway on another loopback port behind an
// http.Server with the limits roomgate serve uses, and returns its address.
// Redirects still name public_url, the env's own server.
func (e *env) limitedServer(t *testing.T) string {
	t.Helper()
	srv := NewHTTPServer(e.gw, slog.New(slog.DiscardHandler))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func manyHeaders(n, size int) []string {
	h := make([]string, n)
	for i := range h {
		h[i] = fmt.Sprintf("X-H%d: %s", i, strings.Repeat("v", size))
	}
	return h
}

func manyCookies(n int) string {
	c := make([]string, n)
	for i := range c {
		c[i] = fmt.Sprintf("roomgate_login_%022d=v", i)
	}
	return strings.Join(c, "; ")
}

// signedInCookie signs ada in with a fresh browser and returns her session
// cookie.
func (e *env) signedInCookie(t *testing.T) *http.Cookie {
	t.Helper()
	b := e.browser()
	e.roomToken(first(e.enter(b, "/standup")), "daily-standup")
	for _, c := range b.Cookies(t, e.url("/")) {
		if strings.HasSuffix(c.Name, "roomgate_session") {
			return c
		}
	}
	t.Fatal("no session cookie after sign-in")
	return nil
}

// assertNoSession fails if resp sets a session cookie or sends the browser
// into a room.
func (e *env) assertNoSession(t *testing.T, resp *http.Response) {
	t.Helper()
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, "roomgate_session") && c.MaxAge >= 0 && c.Value != "" {
			t.Errorf("a session cookie was set")
		}
	}
	if loc, err := resp.Location(); err == nil && loc.Host == roomHost {
		t.Errorf("sent into a room: %s", loc)
	}
}

// forgedLoginCookie is a well-formed login-state cookie for state, returning
// to ret, made with a secret other than the gateway's: what an attacker who
// does not know the secret can best produce.
func forgedLoginCookie(t *testing.T, e *env, state, ret string) *http.Cookie {
	t.Helper()
	store, err := newLoginStore([]string{"an-attackers-secret-of-sufficient-length-0123"}, false, e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	ls := &loginState{State: state, Nonce: "n", Verifier: strings.Repeat("v", 43), Return: ret, Started: e.clock.Now().Unix()}
	if err := store.save(w, httptest.NewRequest(http.MethodGet, "/", nil), ls); err != nil {
		t.Fatal(err)
	}
	c := w.Result().Cookies()
	if len(c) != 1 {
		t.Fatalf("forged login state: %d cookies; want 1", len(c))
	}
	return c[0]
}

// TestLogoutTakesNoReturnFromTheRequest: signing out never sends the
// browser where a parameter says; the way back from the provider is always
// public_url's /auth/signed-out.
func TestLogoutTakesNoReturnFromTheRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	b := e.browser()
	e.roomToken(first(e.enter(b, "/standup")), "daily-standup")
	evil := url.Values{
		"post_logout_redirect_uri": {"https://evil.example/"},
		"next":                     {"//evil.example"},
		"redirect_uri":             {"https://evil.example/"},
		"return_to":                {"https://evil.example/"},
	}.Encode()
	req, _ := http.NewRequest(http.MethodPost, e.url("/auth/logout?"+evil), strings.NewReader(evil))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp := b.Do(t, req)
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		loc := e.checkLocation(t, resp.Header.Get("Location"))
		if got, want := loc.Query().Get("post_logout_redirect_uri"), e.url("/auth/signed-out"); got != want {
			t.Errorf("post_logout_redirect_uri = %q; want %q", got, want)
		}
		if strings.Contains(loc.String(), "evil") {
			t.Errorf("logout redirect carries the request's parameters: %s", loc)
		}
	} else if resp.StatusCode != http.StatusOK {
		t.Errorf("logout: status %d; want the signed-out page or the provider", resp.StatusCode)
	}
	resp = b.Do(t, mustGet(t, e.url("/auth/signed-out?"+evil)))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Location") != "" {
		t.Errorf("/auth/signed-out with parameters: status %d, Location %q; want the page", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// cookieHeader is the Cookie header b would send to path of the env.
func (e *env) cookieHeader(t *testing.T, b *oidctest.Browser, path string) string {
	t.Helper()
	var parts []string
	for _, c := range b.Cookies(t, e.url(path)) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// TestSignInStateCannotSignAPersonOut sends a signed-in browser through
// /auth/login hundreds of times, as another site can: the pending sign-ins
// stay at maxPendingLogins, the Cookie header roomgate causes stays under
// 4 KB on every path, and the session is still there.
func TestSignInStateCannotSignAPersonOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	b := e.browser()
	e.roomToken(first(e.enter(b, "/standup")), "daily-standup")

	b.StopAt = func(u *url.URL) bool { return strings.HasSuffix(u.Path, "/authorize") }
	for range 300 {
		resp, _ := b.Follow(t, e.url("/auth/login?next=/standup"))
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("/auth/login: status %d; want 302 to the provider", resp.StatusCode)
		}
	}
	pending := 0
	for _, c := range b.Cookies(t, e.url("/auth/callback")) {
		if strings.HasPrefix(c.Name, "roomgate_login_") {
			pending++
		}
	}
	if pending != maxPendingLogins {
		t.Errorf("after 300 sign-ins started: %d pending in the browser; want %d", pending, maxPendingLogins)
	}
	for _, path := range []string{"/standup", "/auth/callback", "/auth/logout"} {
		if h := e.cookieHeader(t, b, path); len(h) >= 4096 {
			t.Errorf("Cookie header for %s: %d bytes; want under 4 KB", path, len(h))
		}
	}
	b.StopAt = oidctest.StopAtHost(roomHost)
	resp, hops := e.enter(b, "/standup")
	e.roomToken(resp, "daily-standup")
	if len(hops) != 1 {
		t.Errorf("entering after the flood took %d hops; want 1 (still signed in)", len(hops))
	}
}

// TestCookieHeaderBudget signs in people whose sessions grow with the
// number of group patterns they match, up to more than a cookie can hold,
// with maxPendingLogins sign-ins under way: each gets a working session or
// a clear page, and the whole Cookie header stays under 4 KB on every path.
func TestCookieHeaderBudget(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 10, 25, 35, 60} {
		t.Run(fmt.Sprint(n, " patterns"), func(t *testing.T) {
			t.Parallel()
			var rules strings.Builder
			groups := []string{"eng-leads"}
			for i := range n {
				g := fmt.Sprintf("team-%03d-%s", i, strings.Repeat("x", 60))
				groups = append(groups, g)
				fmt.Fprintf(&rules, "      - groups: [\"team-%03d-*\"]\n        role: attendee\n", i)
			}
			e := newEnv(t, withRooms(`
  - path: standup
    room: daily-standup
    rules:
      - groups: [eng-leads]
        role: moderator
`+rules.String()))
			e.provider.SetUser(user("ada", "ada@example.com", groups...))
			b := e.browser()
			resp, _ := e.enter(b, "/standup")
			if resp.StatusCode != http.StatusFound {
				page := body(t, resp)
				if resp.StatusCode >= 500 && !strings.Contains(page, "groups") {
					t.Fatalf("status %d without a page that says why: %.300s", resp.StatusCode, page)
				}
				return
			}
			e.roomToken(resp, "daily-standup")
			b.StopAt = func(u *url.URL) bool { return strings.HasSuffix(u.Path, "/authorize") }
			for range maxPendingLogins + 2 {
				b.Follow(t, e.url("/auth/login?next=/"+strings.Repeat("s", maxReturnPath-1)))
			}
			for _, path := range []string{"/", "/standup", "/auth/callback", "/auth/logout"} {
				if h := e.cookieHeader(t, b, path); len(h) >= 4096 {
					t.Errorf("Cookie header for %s: %d bytes; want under 4 KB", path, len(h))
				}
			}
		})
	}
}

// TestSignInStateIsBoundToItsName: a login cookie that a sibling subdomain
// plants under another name (no prefix, or __Secure- for the parent
// domain) never passes for the __Host- one, even with a value roomgate
// sealed itself.
func TestSignInStateIsBoundToItsName(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	logins, err := newLoginStore([]string{testSessionKey}, true, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	ls := &loginState{State: randomToken(), Nonce: randomToken(), Verifier: strings.Repeat("v", 43), Return: "/standup", Started: now.Unix()}
	w := httptest.NewRecorder()
	if err := logins.save(w, httptest.NewRequest(http.MethodGet, "/", nil), ls); err != nil {
		t.Fatal(err)
	}
	real := w.Result().Cookies()[0]
	if !strings.HasPrefix(real.Name, "__Host-") || real.Path != "/" || real.Domain != "" {
		t.Fatalf("login cookie %s, path %s, domain %q; want __Host-, /, no domain", real.Name, real.Path, real.Domain)
	}
	for _, name := range []string{"roomgate_login_" + ls.State, "__Secure-roomgate_login_" + ls.State} {
		r := httptest.NewRequest(http.MethodGet, "/auth/callback", nil)
		r.AddCookie(&http.Cookie{Name: name, Value: real.Value})
		if got := logins.take(httptest.NewRecorder(), r, ls.State); got != nil {
			t.Errorf("planted cookie %s was taken for the sign-in", name)
		}
	}
	// The value of one sign-in under the name of another does not open.
	other := randomToken()
	r := httptest.NewRequest(http.MethodGet, "/auth/callback", nil)
	r.AddCookie(&http.Cookie{Name: "__Host-roomgate_login_" + other, Value: real.Value})
	if got := logins.take(httptest.NewRecorder(), r, other); got != nil {
		t.Errorf("one sign-in's value opened under another state")
	}
	r = httptest.NewRequest(http.MethodGet, "/auth/callback", nil)
	r.AddCookie(&http.Cookie{Name: real.Name, Value: real.Value})
	if got := logins.take(httptest.NewRecorder(), r, ls.State); got == nil || got.Nonce != ls.Nonce || got.Return != ls.Return {
		t.Errorf("the real cookie: got %+v; want the sign-in back", got)
	}
}

// TestHostileGroupSets signs in people whose directory groups someone who
// can create groups chose: huge names, many names, names that crowd a
// pattern. Each gets a working session with the decision their groups
// deserve, or a clear page, never a 500 "something went wrong", and never
// more than the rules give them.
func TestHostileGroupSets(t *testing.T) {
	t.Parallel()
	huge := func(prefix string) string { return prefix + strings.Repeat("A", 4096) }
	var many []string
	for i := range 3000 {
		many = append(many, fmt.Sprintf("eng-%04d-%s", i, strings.Repeat("b", 40)))
	}
	rooms := `
  - path: standup
    room: daily-standup
    rules:
      - groups: ["contractor-*"]
        deny: true
      - groups: [eng-leads]
        role: moderator
      - groups: ["eng-*"]
        role: attendee
`
	tests := []struct {
		name     string
		groups   []string
		wantRole string // "" for a 403; "page" for the page that says the groups do not fit
	}{
		{"a 4 KB group beside eng-leads", []string{huge("eng-"), "eng-leads"}, "moderator"},
		{"a 4 KB group beside a short match of the same pattern", []string{huge("eng-"), "eng-platform"}, "attendee"},
		{"only a 4 KB group: it gives nothing", []string{huge("eng-")}, ""},
		{"a 4 KB group that a deny rule needs", []string{huge("contractor-"), "eng-leads"}, "page"},
		{"3,000 long groups of one pattern", many, "attendee"},
		{"many huge groups", []string{huge("eng-a"), huge("eng-b"), huge("x"), huge("y"), "eng-leads"}, "moderator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withRooms(rooms))
			e.provider.SetUser(user("ada", "ada@example.com", tt.groups...))
			b := e.browser()
			resp, _ := e.enter(b, "/standup")
			switch tt.wantRole {
			case "":
				if page := body(t, resp); resp.StatusCode != http.StatusForbidden {
					t.Fatalf("status %d; want the 403 page (%.200s)", resp.StatusCode, page)
				}
			case "page":
				page := body(t, resp)
				if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(page, "Your groups could not be kept") {
					t.Fatalf("status %d; want the page that says the groups do not fit (%.200s)", resp.StatusCode, page)
				}
			default:
				if got := e.roomToken(resp, "daily-standup").Role; got != tt.wantRole {
					t.Errorf("role %q; want %q", got, tt.wantRole)
				}
			}
		})
	}
}

// TestPagesNeverSayAnAttackersSentence: a link whose path is a sentence
// gets no page that repeats it, signed out (a sign-in) or signed in (a 404
// that does not echo it); a path that could be a room is named.
func TestPagesNeverSayAnAttackersSentence(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const sentence = "Your password has expired. Call 555-0100 now"
	target := "/" + url.PathEscape(sentence)
	resp := e.browser().Do(t, mustGet(t, e.url(target)))
	if page := body(t, resp); strings.Contains(page, "password") || strings.Contains(resp.Header.Get("Location"), "password") {
		t.Errorf("signed out, the page or redirect repeats the sentence: %d %s %.300s", resp.StatusCode, resp.Header.Get("Location"), page)
	}
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	b := e.browser()
	e.roomToken(first(e.enter(b, "/standup")), "daily-standup")
	for _, path := range []string{target, "/" + strings.Repeat("a", 65), "/%3Cb%3Ehi%3C%2Fb%3E"} {
		resp, _ := e.enter(b, path)
		page := body(t, resp)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %.40s: status %d; want 404", path, resp.StatusCode)
		}
		if strings.Contains(page, "password") || strings.Contains(page, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") || strings.Contains(page, "hi</b>") || strings.Contains(page, "&lt;b&gt;") {
			t.Errorf("GET %.40s: the 404 page repeats the path:\n%.500s", path, page)
		}
	}
}

// TestStaticServesOnlyTheStyleSheet: /static/ is the style sheet, never
// the templates behind the pages.
func TestStaticServesOnlyTheStyleSheet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for path, want := range map[string]int{
		"/static/roomgate.css": http.StatusOK,
		"/static/index.html":   http.StatusNotFound,
		"/static/layout.html":  http.StatusNotFound,
		"/static/problem.html": http.StatusNotFound,
		"/static/":             http.StatusNotFound,
	} {
		resp := e.browser().Do(t, mustGet(t, e.url(path)))
		page := body(t, resp)
		if resp.StatusCode != want || strings.Contains(page, "{{") {
			t.Errorf("GET %s: status %d; want %d, and never a template (%.100s)", path, resp.StatusCode, want, page)
		}
	}
}

// TestAnonymousCallbacksCannotSpendTheProvidersQuota: a client that starts
// sign-ins and answers each with a made-up code reaches the token endpoint
// at most failureBurst times (the clock stands still here, so nothing
// refills), and the rest are counted as throttled; a copy of one sign-in's
// cookie, replayed by a client that ignores Set-Cookie, reaches the
// provider once.
func TestAnonymousCallbacksCannotSpendTheProvidersQuota(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	e := newEnv(t, withMetrics(m))
	const attempts = 3 * failureBurst
	throttled := 0
	for range attempts {
		b := e.browser()
		b.StopAt = func(u *url.URL) bool { return strings.HasSuffix(u.Path, "/authorize") }
		resp, _ := b.Follow(t, e.url("/auth/login"))
		auth, err := resp.Location()
		if err != nil {
			t.Fatal(err)
		}
		cb := e.url("/auth/callback?code=made-up&state=" + auth.Query().Get("state") + "&iss=" + url.QueryEscape(e.provider.Issuer()))
		resp = b.Do(t, mustGet(t, cb))
		if resp.StatusCode == http.StatusTooManyRequests {
			throttled++
		}
		body(t, resp)
	}
	calls := len(e.provider.TokenRequests())
	if calls > failureBurst || throttled != attempts-calls {
		t.Errorf("%d anonymous callbacks: %d token endpoint calls, %d throttled; want at most %d calls, the rest throttled", attempts, calls, throttled, failureBurst)
	}
	if got := scrape(t, e); !strings.Contains(got, fmt.Sprintf(`roomgate_sign_ins_total{provider="oidc",result="throttled"} %d`, throttled)) {
		t.Errorf("metrics do not count %d throttled sign-ins", throttled)
	}

	// One cookie, replayed: the provider hears of it once.
	e2 := newEnv(t)
	cb, cookie, _ := e2.pendingSignIn(t, "/standup")
	q := cb.Query()
	q.Set("code", "made-up")
	cb.RawQuery = q.Encode()
	for range 5 {
		e2.callbackWith(t, cb, cookie)
	}
	if n := len(e2.provider.TokenRequests()); n != 1 {
		t.Errorf("one login cookie replayed 5 times: %d token endpoint calls; want 1", n)
	}
}

// TestAuthorizationResponseIssuer (RFC 9207): a callback whose iss is not
// the issuer, or that lacks iss from a provider that promises it, is
// refused before the code is exchanged.
func TestAuthorizationResponseIssuer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	for name, iss := range map[string][]string{
		"another issuer": {"https://evil.example"},
		"no iss":         nil,
		"two iss":        {e.provider.Issuer(), "https://evil.example"},
	} {
		cb, cookie, _ := e.pendingSignIn(t, "/standup")
		q := cb.Query()
		q["iss"] = iss
		cb.RawQuery = q.Encode()
		before := len(e.provider.TokenRequests())
		resp := e.callbackWith(t, cb, cookie)
		if resp.StatusCode != http.StatusBadRequest || len(e.provider.TokenRequests()) != before {
			t.Errorf("%s: status %d, %d token calls; want 400 before any", name, resp.StatusCode, len(e.provider.TokenRequests())-before)
		}
	}
	cb, cookie, _ := e.pendingSignIn(t, "/standup")
	if resp := e.callbackWith(t, cb, cookie); resp.StatusCode != http.StatusFound {
		t.Errorf("the provider's own iss: status %d; want 302", resp.StatusCode)
	}
}
