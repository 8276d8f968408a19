package gateway

import (
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomgate/roomgate/config"
)

const (
	oldSecret = "the-secret-being-retired-0123456789abcdef"
	newSecret = "the-secret-taking-over-0123456789abcdefgh"
)

// TestOversizedSession: a session that cannot fit in a cookie is an error
// page, never a cookie the browser would silently drop.
func TestOversizedSession(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	s, err := newSessionStore(config.Session{Secrets: []string{testSessionKey}, Lifetime: 8 * time.Hour}, false, func() time.Time { return now }, maxCookieHeader)
	if err != nil {
		t.Fatal(err)
	}
	id := &identity{Subject: "ada", UserID: "ada", Expires: now.Add(time.Hour).Unix(), Names: []string{strings.Repeat("g", 3000)}}
	w := httptest.NewRecorder()
	if _, err := s.save(w, nil, id); err == nil || !strings.Contains(err.Error(), "larger than browsers keep") {
		t.Errorf("save: got %v; want errCookieTooLarge", err)
	}
	if n := len(w.Result().Cookies()); n != 0 {
		t.Errorf("save set %d cookies; want none", n)
	}
}

// TestIdentityEncodingKeepsEveryField fills every field of identity that
// the cookie carries with its own value, so a field added to identity but
// not to the binary layout fails here instead of vanishing from sessions.
func TestIdentityEncodingKeepsEveryField(t *testing.T) {
	t.Parallel()
	var want identity
	v := reflect.ValueOf(&want).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		name := v.Type().Field(i).Name
		if name == "Groups" || name == "Provider" { // carried as Names and Patterns; read from Issuer
			continue
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString("value of " + name + " ü\x00\"")
		case reflect.Int64:
			f.SetInt(int64(-1000 - i))
		case reflect.Int:
			f.SetInt(int64(1000 + i))
		case reflect.Slice:
			f.Set(reflect.ValueOf([]string{name + "-1", "", name + "-3"}))
		default:
			t.Fatalf("identity.%s has kind %s, which this test does not know", name, f.Kind())
		}
	}
	b := encodeIdentity(&want)
	got, err := decodeIdentity(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("round trip:\ngot  %+v\nwant %+v", *got, want)
	}
	for n := 0; n < len(b); n++ {
		if _, err := decodeIdentity(b[:n]); err == nil {
			t.Errorf("a session cut to %d of %d bytes decoded", n, len(b))
		}
	}
}

func TestSessionExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	b := e.browser()
	e.roomToken(first(e.enter(b, "/standup")), "daily-standup")

	e.clock.Advance(8*time.Hour + time.Second)
	resp, hops := e.enter(b, "/standup")
	e.roomToken(resp, "daily-standup")
	if len(hops) != 4 {
		t.Errorf("after the session's lifetime: hops %v; want a new sign-in", hops)
	}
	if n := len(e.provider.AuthorizeRequests()); n != 2 {
		t.Errorf("authorize requests: got %d; want 2", n)
	}
}

// TestOlderSessionsReadOn: a session cookie written by the release before
// AuthTime and GroupCount (format 2) still reads, its sign-in standing for
// when the person last proved who they are.
func TestOlderSessionsReadOn(t *testing.T) {
	t.Parallel()
	id := &identity{Subject: "ada", UserID: "ada", Name: "Ada", Sid: "s1", SignedIn: 1000, Checked: 1100, Expires: 9000, Names: []string{"eng"}, AuthTime: 1000}
	b := encodeIdentity(id)
	// Format 3 is format 4 without the issuer (an empty one is one byte
	// at the end); format 2 is format 3 without the two numbers before it.
	v3 := slices.Clone(b[:len(b)-1])
	v3[0] = 3
	v2 := slices.Clone(b[:len(b)-4])
	v2[0] = 2
	for _, old := range [][]byte{v2, v3} {
		got, err := decodeIdentity(old)
		if err != nil {
			t.Fatalf("a format %d session: %v", old[0], err)
		}
		if got.UserID != "ada" || got.Sid != "s1" || got.AuthTime != 1000 || got.Issuer != "" || !slices.Equal(got.Names, []string{"eng"}) {
			t.Errorf("a format %d session read as %+v", old[0], got)
		}
	}
}
