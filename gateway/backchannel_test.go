package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomgate/roomgate/internal/oidctest"
	"github.com/roomgate/roomgate/internal/redistest"
	"github.com/roomgate/roomgate/internal/store"
)

// sidUser is a person whose ID tokens carry the provider's session id.
func sidUser(sub, sid string) oidctest.User {
	u := user(sub, sub+"@example.com", "eng-leads")
	u.Claims["sid"] = sid
	return u
}

// replica is a second gateway of the same configuration behind its own
// listener, with its own view of st, as another pod would be: the
// browser's cookies (which know no port) work at both.
func (e *env) replica(t *testing.T, st store.Store) *Server {
	t.Helper()
	v := store.NewRevocations(st, nil, nil)
	gw, err := New(e.cfg, Deps{Logger: slog.New(slog.NewJSONHandler(e.logs, nil)), HTTPClient: e.provider.Client(), Now: e.clock.Now, Revocations: v})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go v.Run(ctx)
	waitFor(t, time.Second, "the replica's revocations to load", v.Ready)
	return gw
}

func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// entersAt reports whether b, signed in, goes straight into the room at gw.
func entersAt(t *testing.T, gw http.Handler, b *oidctest.Browser, base string) bool {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, base+"/standup", nil)
	for _, c := range b.Cookies(t, base+"/standup") {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, req)
	return rec.Code == http.StatusFound && strings.HasPrefix(rec.Header().Get("Location"), "https://"+roomHost)
}

// TestBackchannelLogout: a logout token from the provider ends the session
// of its sid; answered 200 with no-store; written in the audit log.
func TestBackchannelLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(sidUser("ada", "sid-1"))
	b := e.browser()
	e.roomToken(first(e.enter(b, "/standup")), "daily-standup")
	tok, err := e.provider.LogoutToken("ada", "sid-1")
	if err != nil {
		t.Fatal(err)
	}
	resp := oidctest.SendLogout(t, e.url("/auth/backchannel-logout"), tok)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("logout token: %d, Cache-Control %q; want 200, no-store", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	if entersAt(t, e.gw, b, e.url("")) {
		t.Error("the session still enters after the provider ended it")
	}
	if !strings.Contains(e.logs.String(), `"msg":"revocation","audit":true`) {
		t.Errorf("no audit line for the revocation:\n%s", e.logs.String())
	}
	// Signing in again is the provider's to decide: here it lets them.
	b2 := e.browser()
	e.roomToken(first(e.enter(b2, "/standup")), "daily-standup")
}

// signedIn signs u in at the provider and into the stand-up, in a
// browser of its own.
func (e *env) signedIn(u oidctest.User) *oidctest.Browser {
	e.provider.SetUser(u)
	b := e.browser()
	e.roomToken(first(e.enter(b, "/standup")), "daily-standup")
	return b
}

// TestLogoutTokenEndsSessionsWithoutSid: a logout token with sid and sub
// ends that sid's session and the person's sessions that remember no sid
// (cookies from before sessions kept one), but not their other sids.
func TestLogoutTokenEndsSessionsWithoutSid(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	old := e.signedIn(user("ada", "ada@example.com", "eng-leads")) // no sid
	other := e.signedIn(sidUser("ada", "sid-2"))
	b := e.signedIn(sidUser("ada", "sid-1"))

	tok, err := e.provider.LogoutToken("ada", "sid-1")
	if err != nil {
		t.Fatal(err)
	}
	if resp := oidctest.SendLogout(t, e.url("/auth/backchannel-logout"), tok); resp.StatusCode != http.StatusOK {
		t.Fatalf("logout token: %d; want 200", resp.StatusCode)
	}
	if entersAt(t, e.gw, b, e.url("")) {
		t.Error("the session of the token's sid still enters")
	}
	if entersAt(t, e.gw, old, e.url("")) {
		t.Error("a session without a sid outlived a logout token naming its person")
	}
	if !entersAt(t, e.gw, other, e.url("")) {
		t.Error("a session with another sid was ended too")
	}
}

// TestLogoutTokensThatMustFail: every way a logout token can be wrong is
// refused with 400, and the session goes on.
func TestLogoutTokensThatMustFail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(sidUser("ada", "sid-1"))
	b := e.browser()
	e.roomToken(first(e.enter(b, "/standup")), "daily-standup")
	replayed, _ := e.provider.LogoutToken("nobody", "sid-other")
	if resp := oidctest.SendLogout(t, e.url("/auth/backchannel-logout"), replayed); resp.StatusCode != http.StatusOK {
		t.Fatalf("a good token for another session: %d", resp.StatusCode)
	}
	set := func(k string, v any) oidctest.Mutation { return func(tok *oidctest.IDToken) { tok.Claims[k] = v } }
	del := oidctest.WithoutClaim
	signed := func(s oidctest.Signing) oidctest.Mutation { return func(tok *oidctest.IDToken) { tok.Signing = s } }
	now := e.clock.Now()
	for name, muts := range map[string][]oidctest.Mutation{
		"wrong audience":       {set("aud", "another-client")},
		"wrong issuer":         {set("iss", "https://evil.example")},
		"with a nonce":         {set("nonce", "n")},
		"issued long ago":      {set("iat", now.Add(-time.Hour).Unix()), set("exp", now.Add(time.Hour).Unix())},
		"issued in the future": {set("iat", now.Add(time.Hour).Unix())},
		"expired":              {set("exp", now.Add(-time.Minute).Unix())},
		"no event":             {del("events")},
		"another event":        {set("events", map[string]any{"http://example.com/other": map[string]any{}})},
		"no sid, no sub":       {del("sid"), del("sub")},
		"no jti":               {del("jti")},
		"no iat":               {del("iat")},
		"unsigned":             {signed(oidctest.Unsigned)},
		"HS256 client secret":  {signed(oidctest.SignedHS256ClientSecret)},
		"an unknown key":       {signed(oidctest.SignedByUnknownKey)},
		"an impostor key":      {signed(oidctest.SignedByImpostorKey)},
	} {
		tok, err := e.provider.LogoutToken("ada", "sid-1", muts...)
		if err != nil {
			t.Fatal(err)
		}
		if resp := oidctest.SendLogout(t, e.url("/auth/backchannel-logout"), tok); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d; want 400", name, resp.StatusCode)
		}
	}
	if resp := oidctest.SendLogout(t, e.url("/auth/backchannel-logout"), replayed); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a replayed jti: status %d; want 400", resp.StatusCode)
	}
	for _, body := range []string{"", "logout_token=", "logout_token=not.a.jwt"} {
		resp, _ := http.Post(e.url("/auth/backchannel-logout"), "application/x-www-form-urlencoded", strings.NewReader(body))
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("body %q: status %d; want 400", body, resp.StatusCode)
		}
	}
	if !entersAt(t, e.gw, b, e.url("")) {
		t.Error("a refused logout token ended the session")
	}
}

// TestForgedLogoutTokensFetchNoKeys: anonymous logout tokens with a known
// key id and a wrong signature are refused against the cached keys, without
// a fetch of the provider's key set; an unknown key id fetches it at most
// once a minute; failures from one address are throttled; and a real
// logout token still ends its session afterwards.
func TestForgedLogoutTokensFetchNoKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(sidUser("ada", "sid-1"))
	b := e.browser()
	e.roomToken(first(e.enter(b, "/standup")), "daily-standup")
	warm, _ := e.provider.LogoutToken("nobody", "sid-warm")
	oidctest.SendLogout(t, e.url("/auth/backchannel-logout"), warm)
	before := e.provider.KeyRequests()

	send := func(s oidctest.Signing) int {
		tok, err := e.provider.LogoutToken("ada", "sid-1", func(tok *oidctest.IDToken) { tok.Signing = s })
		if err != nil {
			t.Fatal(err)
		}
		return oidctest.SendLogout(t, e.url("/auth/backchannel-logout"), tok).StatusCode
	}
	throttled := 0
	for range 200 {
		switch send(oidctest.SignedByImpostorKey) {
		case http.StatusTooManyRequests:
			throttled++
		case http.StatusBadRequest:
		default:
			t.Fatal("a forged logout token was accepted")
		}
	}
	if n := e.provider.KeyRequests() - before; n != 0 {
		t.Errorf("200 forged logout tokens with a known key id: %d key set fetches; want 0", n)
	}
	if throttled != 200-failureBurst {
		t.Errorf("200 forged logout tokens from one address: %d throttled; want %d", throttled, 200-failureBurst)
	}

	e.clock.Advance(time.Duration(failureBurst) * failureEvery) // the budget is back
	for range 20 {
		send(oidctest.SignedByUnknownKey)
	}
	if n := e.provider.KeyRequests() - before; n != 1 {
		t.Errorf("20 tokens with an unknown key id within a minute: %d key set fetches; want 1", n)
	}

	e.clock.Advance(keyRefetchEvery)
	e.provider.RotateKeys() // a new key id: fetched, since a minute has passed
	tok, _ := e.provider.LogoutToken("ada", "sid-1")
	if resp := oidctest.SendLogout(t, e.url("/auth/backchannel-logout"), tok); resp.StatusCode != http.StatusOK {
		t.Fatalf("a real logout token signed with a new key: %d; want 200", resp.StatusCode)
	}
	if entersAt(t, e.gw, b, e.url("")) {
		t.Error("the session outlived its back-channel logout")
	}
}

// TestRevocationAcrossReplicas: with Redis shared, a back-channel logout at
// one replica, and a revocation from the store (roomgate revoke), are
// refused at the other within a second; a replica started later (a
// restart) knows them too.
func TestRevocationAcrossReplicas(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	open := func() store.Store {
		s, err := store.OpenRedis(srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	e := newEnv(t, withRevocations(store.NewRevocations(open(), nil, nil)))
	waitFor(t, 2*time.Second, "revocations loaded", e.gw.revoked.Ready)
	other := e.replica(t, open())

	e.provider.SetUser(sidUser("ada", "sid-1"))
	ada := e.browser()
	e.roomToken(first(e.enter(ada, "/standup")), "daily-standup")
	e.provider.SetUser(sidUser("ben", "sid-2"))
	ben := e.browser()
	e.roomToken(first(e.enter(ben, "/standup")), "daily-standup")
	if !entersAt(t, other, ada, e.url("")) || !entersAt(t, other, ben, e.url("")) {
		t.Fatal("the other replica does not take the sessions")
	}

	tok, _ := e.provider.LogoutToken("ada", "sid-1")
	if resp := oidctest.SendLogout(t, e.url("/auth/backchannel-logout"), tok); resp.StatusCode != http.StatusOK {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	waitFor(t, time.Second, "the back-channel logout at the other replica", func() bool { return !entersAt(t, other, ada, e.url("")) })

	// roomgate revoke writes to the store; every replica hears it.
	now := e.clock.Now()
	if err := open().Revoke(context.Background(), store.Revocation{Kind: store.KindUser, Value: "ben", At: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "the revocation at the first replica", func() bool { return !entersAt(t, e.gw, ben, e.url("")) })
	waitFor(t, time.Second, "the revocation at the other replica", func() bool { return !entersAt(t, other, ben, e.url("")) })

	restarted := e.replica(t, open())
	if entersAt(t, restarted, ada, e.url("")) || entersAt(t, restarted, ben, e.url("")) {
		t.Error("a restarted replica forgot the revocations")
	}
}

// TestStoreOutageUnderLoad: Redis stops and starts while requests come in:
// no request fails for someone not revoked, no revoked person enters, a
// logout token that cannot be shared is not answered 200, /readyz says the
// store is down, and once it is back the replicas catch up.
func TestStoreOutageUnderLoad(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	st, err := store.OpenRedis(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := newEnv(t, withRevocations(store.NewRevocations(st, nil, nil)))
	waitFor(t, 2*time.Second, "revocations loaded", e.gw.revoked.Ready)
	e.provider.SetUser(sidUser("ada", "sid-1"))
	ada := e.browser()
	e.roomToken(first(e.enter(ada, "/standup")), "daily-standup")
	e.provider.SetUser(sidUser("ben", "sid-2"))
	ben := e.browser()
	e.roomToken(first(e.enter(ben, "/standup")), "daily-standup")
	tok, _ := e.provider.LogoutToken("ben", "sid-2")
	if resp := oidctest.SendLogout(t, e.url("/auth/backchannel-logout"), tok); resp.StatusCode != http.StatusOK {
		t.Fatalf("logout: %d", resp.StatusCode)
	}

	var failed, entered, total atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				total.Add(1)
				if !entersAt(t, e.gw, ada, e.url("")) {
					failed.Add(1)
				}
				if entersAt(t, e.gw, ben, e.url("")) {
					entered.Add(1)
				}
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	srv.Stop()
	waitFor(t, 5*time.Second, "the store seen down", func() bool { return !e.gw.revoked.Up() })
	rec := httptest.NewRecorder()
	e.gw.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if !strings.Contains(rec.Body.String(), "store unreachable") {
		t.Errorf("/readyz during the outage: %d %q; want it to say the store is unreachable", rec.Code, rec.Body.String())
	}
	cara, _ := e.provider.LogoutToken("cara", "sid-3")
	if resp := oidctest.SendLogout(t, e.url("/auth/backchannel-logout"), cara); resp.StatusCode == http.StatusOK {
		t.Error("a logout token answered 200 while the store was down")
	}
	time.Sleep(300 * time.Millisecond)
	srv.Restart() // empty: persistence is off, as in the tests' Redis
	// What the store lost, this replica keeps (ben was revoked through it).
	waitFor(t, 15*time.Second, "the store seen up again", e.gw.revoked.Up)
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failed.Load() != 0 || entered.Load() != 0 || total.Load() < 100 {
		t.Errorf("%d requests: %d failed for someone not revoked, %d let a revoked person in; want many, none, none", total.Load(), failed.Load(), entered.Load())
	}
}
