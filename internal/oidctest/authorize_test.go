package oidctest

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// goodAuthorizeQuery is an authorize request the provider accepts.
func goodAuthorizeQuery() url.Values {
	sum := sha256.Sum256([]byte(testVerifier))
	return url.Values{
		"client_id":             {DefaultClientID},
		"redirect_uri":          {testRedirectURI},
		"response_type":         {"code"},
		"scope":                 {"openid email"},
		"state":                 {"st"},
		"nonce":                 {"no"},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
}

// getAuthorize sends q to /authorize without following the redirect.
func getAuthorize(t *testing.T, p *Provider, q url.Values) *http.Response {
	t.Helper()
	b := NewBrowser(t)
	req, err := http.NewRequest(http.MethodGet, p.Issuer()+"/authorize?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return b.Do(t, req)
}

func TestAuthorize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		change     func(q url.Values)
		setup      func(p *Provider)
		wantStatus int    // 302 means redirected to the client
		wantError  string // the error parameter of that redirect; "" means a code
	}{
		{name: "good", wantStatus: 302},
		{name: "unknown client", change: func(q url.Values) { q.Set("client_id", "evil") }, wantStatus: 400},
		{name: "unregistered redirect_uri", change: func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }, wantStatus: 400},
		{name: "redirect_uri with extra path", change: func(q url.Values) { q.Set("redirect_uri", testRedirectURI+"/x") }, wantStatus: 400},
		{name: "no redirect registered", setup: func(p *Provider) { p.SetRedirectURI() }, wantStatus: 400},
		{name: "implicit flow", change: func(q url.Values) { q.Set("response_type", "id_token") }, wantStatus: 302, wantError: "unsupported_response_type"},
		{name: "no openid scope", change: func(q url.Values) { q.Set("scope", "email") }, wantStatus: 302, wantError: "invalid_scope"},
		{name: "no code challenge", change: func(q url.Values) { q.Del("code_challenge") }, wantStatus: 302, wantError: "invalid_request"},
		{name: "plain challenge", change: func(q url.Values) { q.Set("code_challenge_method", "plain") }, wantStatus: 302, wantError: "invalid_request"},
		{name: "no challenge method", change: func(q url.Values) { q.Del("code_challenge_method") }, wantStatus: 302, wantError: "invalid_request"},
		{name: "access denied", setup: func(p *Provider) { p.SetAuthorizeError("access_denied") }, wantStatus: 302, wantError: "access_denied"},
		{name: "prompt none with session", change: func(q url.Values) { q.Set("prompt", "none") }, wantStatus: 302},
		{name: "prompt none without session", change: func(q url.Values) { q.Set("prompt", "none") }, setup: func(p *Provider) { p.SetLoginRequired(true) }, wantStatus: 302, wantError: "login_required"},
		{name: "interactive without session", setup: func(p *Provider) { p.SetLoginRequired(true) }, wantStatus: 302},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := New(t, WithRedirectURI(testRedirectURI))
			if tt.setup != nil {
				tt.setup(p)
			}
			q := goodAuthorizeQuery()
			if tt.change != nil {
				tt.change(q)
			}
			resp := getAuthorize(t, p, q)
			if resp.StatusCode != tt.wantStatus {
				body, _ := io.ReadAll(resp.Body)
				t.Fatalf("status: got %d; want %d (%s)", resp.StatusCode, tt.wantStatus, body)
			}
			if got := len(p.AuthorizeRequests()); got != 1 {
				t.Errorf("recorded requests: got %d; want 1", got)
			}
			if resp.StatusCode != http.StatusFound {
				if loc := resp.Header.Get("Location"); loc != "" {
					t.Errorf("Location: got %q; want none", loc)
				}
				return
			}
			loc, err := resp.Location()
			if err != nil {
				t.Fatal(err)
			}
			got := loc.Query()
			if got.Get("state") != "st" || got.Get("iss") != p.Issuer() {
				t.Errorf("state, iss: got %q, %q; want %q, %q", got.Get("state"), got.Get("iss"), "st", p.Issuer())
			}
			if got.Get("error") != tt.wantError {
				t.Errorf("error: got %q; want %q", got.Get("error"), tt.wantError)
			}
			if hasCode := got.Get("code") != ""; hasCode != (tt.wantError == "") {
				t.Errorf("code present: got %v; want %v", hasCode, tt.wantError == "")
			}
		})
	}
}

func TestWhoSignsIn(t *testing.T) {
	t.Parallel()
	p := New(t, WithRedirectURI(testRedirectURI))
	rp := newRelyingParty(t, p)
	subject := func() string {
		t.Helper()
		idToken, err := rp.verify(rp.signIn(t, "n"), "n")
		if err != nil {
			t.Fatal(err)
		}
		return idToken.Subject
	}

	var got []string
	got = append(got, subject())
	p.SetUser(User{Subject: "bob"})
	p.NextUser(User{Subject: "carol"})
	p.NextUser(User{Subject: "dave"})
	for range 3 {
		got = append(got, subject())
	}
	if want := []string{"alice", "carol", "dave", "bob"}; !slices.Equal(got, want) {
		t.Errorf("subjects: got %q; want %q", got, want)
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		opts         []Option
		query        url.Values
		wantStatus   int
		wantLocation string
	}{
		{
			name:         "redirect back",
			query:        url.Values{"id_token_hint": {"the-id-token"}, "post_logout_redirect_uri": {"https://meet.example.com/"}, "state": {"s1"}},
			wantStatus:   302,
			wantLocation: "https://meet.example.com/?state=s1",
		},
		{name: "no redirect", query: url.Values{"id_token_hint": {"the-id-token"}}, wantStatus: 200},
		{name: "relative redirect", query: url.Values{"post_logout_redirect_uri": {"/home"}}, wantStatus: 400},
		{name: "end session switched off", opts: []Option{WithoutEndSession()}, query: url.Values{}, wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := New(t, append(tt.opts, WithRedirectURI(testRedirectURI))...)
			req, _ := http.NewRequest(http.MethodGet, p.Issuer()+"/logout?"+tt.query.Encode(), nil)
			resp := NewBrowser(t).Do(t, req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status: got %d; want %d", resp.StatusCode, tt.wantStatus)
			}
			if got := resp.Header.Get("Location"); got != tt.wantLocation {
				t.Errorf("Location: got %q; want %q", got, tt.wantLocation)
			}
			if tt.wantStatus == 404 {
				return
			}
			reqs := p.LogoutRequests()
			if len(reqs) != 1 || reqs[0].IDTokenHint != tt.query.Get("id_token_hint") || reqs[0].PostLogoutRedirectURI != tt.query.Get("post_logout_redirect_uri") {
				t.Errorf("recorded: got %+v; want one with the query's hint and redirect", reqs)
			}
			// The session at the provider is gone: a silent sign-in fails.
			q := goodAuthorizeQuery()
			q.Set("prompt", "none")
			loc, _ := getAuthorize(t, p, q).Location()
			if got := loc.Query().Get("error"); got != "login_required" {
				t.Errorf("prompt=none after logout: got error %q; want login_required", got)
			}
		})
	}
}
