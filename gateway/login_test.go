package gateway

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roomgate/roomgate/internal/oidctest"
)

func TestSeveralTabsSignInAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	b := e.browser()
	b.StopAt = func(u *url.URL) bool { return strings.HasSuffix(u.Path, "/authorize") || u.Host == roomHost }

	// Two tabs each reach the provider before either comes back.
	resp1, _ := e.enter(b, "/standup")
	resp2, _ := e.enter(b, "/all-hands")
	auth1, _ := resp1.Location()
	auth2, _ := resp2.Location()
	b.StopAt = oidctest.StopAtHost(roomHost)

	// They come back in the other order; both land in their room.
	resp, _ := b.Follow(t, auth2.String())
	e.roomToken(resp, "7f9c2b1e-0000-4000-8000-000000000001")
	resp, _ = b.Follow(t, auth1.String())
	e.roomToken(resp, "daily-standup")
}

// TestLoginNextNeverLeavesTheGateway sends every open-redirect shape through
// /auth/login?next= and follows the whole sign-in: the browser must end on
// the gateway's own "/" or a room, never elsewhere.
func TestLoginNextNeverLeavesTheGateway(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	shapes := []string{
		"//evil.example", "/\\evil.example", "\\\\evil.example", "https://evil.example",
		"http:evil.example", "/%2F%2Fevil.example", "%2F%2Fevil.example", "/%5Cevil.example",
		"/\t/evil.example", "/ /evil.example", "javascript:alert(1)", "/@evil.example",
		"/standup@evil.example", "///evil.example", "/.//evil.example", "/%0d%0aLocation:%20https://evil.example",
		"\uff0f\uff0fevil.example", "/\u2215evil.example", "https:/evil.example", "//evil.example/%2e%2e",
		"/evil.example%00", "data:text/html,x", "/standup/../../evil", "%68ttps://evil.example",
		"https://127.0.0.1@evil.example", "//" + strings.Repeat("a", 3000), "/x?y=//evil.example", "/#//evil.example",
		"\x00//evil.example", "  //evil.example",
	}
	for _, next := range shapes {
		b := e.browser()
		b.StopAt = func(u *url.URL) bool { return u.Host != "127.0.0.1" && !strings.HasPrefix(u.Host, "127.0.0.1:") }
		resp, hops := b.Follow(t, e.url("/auth/login?next="+url.QueryEscape(next)))
		last := hops[len(hops)-1]
		if resp.StatusCode != http.StatusOK || last.String() != e.url("/") {
			loc, _ := resp.Location()
			t.Errorf("next=%q: ended %d at %s (Location %v); want 200 at %s", next, resp.StatusCode, last, loc, e.url("/"))
		}
	}

	// A room path is a fine place to come back to.
	b := e.browser()
	resp, _ := b.Follow(t, e.url("/auth/login?next=/standup"))
	e.roomToken(resp, "daily-standup")
}
