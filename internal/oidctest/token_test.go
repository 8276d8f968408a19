package oidctest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// testVerifier is a valid PKCE code verifier (RFC 7636 4.1).
const testVerifier = "dBjftJeZ4CVP-mJ0kzrGCNt3Xf1mPg5u-8vSu6yVRrA"

// fakeClock is a clock a test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// authorizeCode gets a code for testRedirectURI with the S256 challenge of
// testVerifier, asking for scope.
func authorizeCode(t *testing.T, p *Provider, scope string) string {
	t.Helper()
	sum := sha256.Sum256([]byte(testVerifier))
	q := url.Values{
		"client_id":             {p.ClientID()},
		"redirect_uri":          {testRedirectURI},
		"response_type":         {"code"},
		"scope":                 {scope},
		"state":                 {"s"},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	rp := &relyingParty{noFollow: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	code := rp.authorize(t, p.Issuer()+"/authorize?"+q.Encode()).Get("code")
	if code == "" {
		t.Fatal("authorize: got no code")
	}
	return code
}

// postToken posts form to the token endpoint, with Basic credentials when
// basic is set, and decodes the JSON answer.
func postToken(t *testing.T, p *Provider, form url.Values, basic *url.Userinfo) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, p.Issuer()+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic != nil {
		secret, _ := basic.Password()
		req.SetBasicAuth(url.QueryEscape(basic.Username()), url.QueryEscape(secret))
	}
	resp, err := p.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("token answer: %v", err)
	}
	return resp, body
}

func codeForm(code string) url.Values {
	return url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {testRedirectURI},
		"code_verifier": {testVerifier},
	}
}

func TestClientAuthentication(t *testing.T) {
	t.Parallel()
	good := url.UserPassword(DefaultClientID, DefaultClientSecret)
	tests := []struct {
		name       string
		basic      *url.Userinfo
		post       url.Values
		wantStatus int
		wantError  string
		wantMethod string
	}{
		{name: "basic", basic: good, wantStatus: 200, wantMethod: "client_secret_basic"},
		{name: "post", post: url.Values{"client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}}, wantStatus: 200, wantMethod: "client_secret_post"},
		{name: "basic wrong secret", basic: url.UserPassword(DefaultClientID, "nope"), wantStatus: 401, wantError: "invalid_client", wantMethod: "client_secret_basic"},
		{name: "basic wrong client", basic: url.UserPassword("other", DefaultClientSecret), wantStatus: 401, wantError: "invalid_client", wantMethod: "client_secret_basic"},
		{name: "post wrong secret", post: url.Values{"client_id": {DefaultClientID}, "client_secret": {"nope"}}, wantStatus: 401, wantError: "invalid_client", wantMethod: "client_secret_post"},
		{name: "none", post: url.Values{"client_id": {DefaultClientID}}, wantStatus: 401, wantError: "invalid_client"},
		{name: "both", basic: good, post: url.Values{"client_secret": {DefaultClientSecret}}, wantStatus: 400, wantError: "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := New(t, WithRedirectURI(testRedirectURI))
			form := codeForm(authorizeCode(t, p, "openid"))
			for k, v := range tt.post {
				form[k] = v
			}
			resp, body := postToken(t, p, form, tt.basic)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status: got %d; want %d (%v)", resp.StatusCode, tt.wantStatus, body)
			}
			if got, _ := body["error"].(string); got != tt.wantError {
				t.Errorf("error: got %q; want %q", got, tt.wantError)
			}
			if got := p.TokenRequests()[0].AuthMethod; got != tt.wantMethod {
				t.Errorf("recorded method: got %q; want %q", got, tt.wantMethod)
			}
			wantChallenge := tt.wantStatus == 401 && tt.basic != nil
			if got := resp.Header.Get("WWW-Authenticate") != ""; got != wantChallenge {
				t.Errorf("WWW-Authenticate present: got %v; want %v", got, wantChallenge)
			}
		})
	}
}

func TestCodeRedemption(t *testing.T) {
	t.Parallel()
	good := url.UserPassword(DefaultClientID, DefaultClientSecret)
	tests := []struct {
		name      string
		change    func(form url.Values)
		advance   time.Duration
		wantError string
	}{
		{name: "good"},
		{name: "wrong verifier", change: func(f url.Values) { f.Set("code_verifier", strings.Repeat("a", 43)) }, wantError: "invalid_grant"},
		{name: "missing verifier", change: func(f url.Values) { f.Del("code_verifier") }, wantError: "invalid_grant"},
		{name: "verifier too short", change: func(f url.Values) { f.Set("code_verifier", testVerifier[:42]) }, wantError: "invalid_grant"},
		{name: "challenge as verifier", change: func(f url.Values) {
			sum := sha256.Sum256([]byte(testVerifier))
			f.Set("code_verifier", base64.RawURLEncoding.EncodeToString(sum[:]))
		}, wantError: "invalid_grant"},
		{name: "wrong redirect_uri", change: func(f url.Values) { f.Set("redirect_uri", testRedirectURI+"x") }, wantError: "invalid_grant"},
		{name: "missing redirect_uri", change: func(f url.Values) { f.Del("redirect_uri") }, wantError: "invalid_grant"},
		{name: "unknown code", change: func(f url.Values) { f.Set("code", "forged") }, wantError: "invalid_grant"},
		{name: "code expired", advance: 11 * time.Minute, wantError: "invalid_grant"},
		{name: "unknown grant type", change: func(f url.Values) { f.Set("grant_type", "password") }, wantError: "unsupported_grant_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
			p := New(t, WithRedirectURI(testRedirectURI), WithNow(clock.Now))
			form := codeForm(authorizeCode(t, p, "openid"))
			if tt.change != nil {
				tt.change(form)
			}
			clock.Advance(tt.advance)
			resp, body := postToken(t, p, form, good)
			got, _ := body["error"].(string)
			if got != tt.wantError {
				t.Errorf("error: got %q; want %q (%v)", got, tt.wantError, body["error_description"])
			}
			if tt.wantError == "" && (resp.StatusCode != 200 || body["id_token"] == nil || body["token_type"] != "Bearer") {
				t.Errorf("answer: got %d %v; want 200 with a Bearer token and an id_token", resp.StatusCode, body)
			}
			if tt.wantError != "" && resp.StatusCode != 400 {
				t.Errorf("status: got %d; want 400", resp.StatusCode)
			}
		})
	}
}

func TestCodeReplayFailsAndRevokes(t *testing.T) {
	t.Parallel()
	p := New(t, WithRedirectURI(testRedirectURI))
	rp := newRelyingParty(t, p, "offline_access")
	verifier := oauth2.GenerateVerifier()
	code := rp.authorize(t, rp.config.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier))).Get("code")
	first, err := rp.config.Exchange(rp.ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("first exchange: %v", err)
	}
	_, err = rp.config.Exchange(rp.ctx, code, oauth2.VerifierOption(verifier))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != 400 {
		t.Fatalf("second exchange: got %v; want 400 invalid_grant", err)
	}
	// RFC 6749 4.1.2: what the code gave is revoked.
	if _, err := rp.provider.UserInfo(rp.ctx, oauth2.StaticTokenSource(first)); err == nil {
		t.Errorf("userinfo with the first access token: got no error; want 401")
	}
	if _, err := refresh(rp, first.RefreshToken); err == nil {
		t.Errorf("refresh with the first refresh token: got no error; want invalid_grant")
	}
}

// refresh asks for new tokens with a refresh token.
func refresh(rp *relyingParty, refreshToken string) (*oauth2.Token, error) {
	return rp.config.TokenSource(rp.ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
}

// groupsOf verifies the ID token in tok and returns its groups claim.
func groupsOf(t *testing.T, rp *relyingParty, tok *oauth2.Token) []string {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	idToken, err := rp.verifier.Verify(rp.ctx, raw)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	var claims struct {
		Groups []string `json:"groups"`
	}
	if err := idToken.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return claims.Groups
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	p := New(t, WithRedirectURI(testRedirectURI))
	rp := newRelyingParty(t, p, oidc.ScopeOfflineAccess)
	bob := User{Subject: "bob", Claims: map[string]any{"groups": []string{"engineering"}}}
	p.SetUser(bob)
	tok := rp.signIn(t, "n")
	if tok.RefreshToken == "" {
		t.Fatal("refresh token with offline_access: got none; want one")
	}

	bob.Claims = map[string]any{"groups": []string{"eng-leads"}}
	p.SetUser(bob)
	refreshed, err := refresh(rp, tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if got := groupsOf(t, rp, refreshed); !slices.Equal(got, []string{"eng-leads"}) {
		t.Errorf("groups after refresh: got %q; want [eng-leads]", got)
	}
	if refreshed.RefreshToken == "" || refreshed.RefreshToken == tok.RefreshToken {
		t.Errorf("refresh token after refresh: got a reused or no token; want a new one")
	}
	if _, err := refresh(rp, tok.RefreshToken); err == nil {
		t.Errorf("reusing the old refresh token: got no error; want invalid_grant")
	}

	tests := []struct {
		name   string
		revoke func()
	}{
		{name: "RevokeRefresh", revoke: p.RevokeRefresh},
		{name: "RefreshDisabled", revoke: func() { bob.RefreshDisabled = true; p.PutUser(bob) }},
		{name: "DeleteUser", revoke: func() { p.DeleteUser("bob") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bob.RefreshDisabled = false
			p.SetUser(bob)
			tok := rp.signIn(t, "n")
			tt.revoke()
			_, err := refresh(rp, tok.RefreshToken)
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
				t.Errorf("refresh: got %v; want invalid_grant", err)
			}
		})
	}
}

func TestRefreshTokenIssuance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		opts            []Option
		scopes          []string
		wantRefresh     bool
		wantRefreshedID bool
	}{
		{name: "no offline_access", wantRefresh: false},
		{name: "offline_access", scopes: []string{"offline_access"}, wantRefresh: true, wantRefreshedID: true},
		{name: "always", opts: []Option{WithRefreshTokens()}, wantRefresh: true, wantRefreshedID: true},
		{name: "no ID token on refresh", opts: []Option{WithRefreshTokens(), WithoutIDTokenOnRefresh()}, wantRefresh: true, wantRefreshedID: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := New(t, append(tt.opts, WithRedirectURI(testRedirectURI))...)
			rp := newRelyingParty(t, p, tt.scopes...)
			tok := rp.signIn(t, "n")
			if got := tok.RefreshToken != ""; got != tt.wantRefresh {
				t.Fatalf("refresh token: got %v; want %v", got, tt.wantRefresh)
			}
			if !tt.wantRefresh {
				return
			}
			refreshed, err := refresh(rp, tok.RefreshToken)
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if got := refreshed.Extra("id_token") != nil; got != tt.wantRefreshedID {
				t.Errorf("id_token on refresh: got %v; want %v", got, tt.wantRefreshedID)
			}
		})
	}
}

func TestUserInfo(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	p := New(t, WithRedirectURI(testRedirectURI), WithNow(clock.Now), WithTokenTTL(5*time.Minute))
	rp := newRelyingParty(t, p)

	p.SetUser(User{Subject: "carol", UserInfo: map[string]any{"sub": "mallory"}})
	tok := rp.signIn(t, "n")
	info, err := rp.provider.UserInfo(rp.ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if info.Subject != "mallory" {
		t.Errorf("overridden sub: got %q; want %q", info.Subject, "mallory")
	}

	tests := []struct {
		name   string
		header string
		before func()
	}{
		{name: "no token", header: ""},
		{name: "unknown token", header: "Bearer forged"},
		{name: "not bearer", header: "Basic " + tok.AccessToken},
		{name: "revoked", header: "Bearer " + tok.AccessToken, before: p.RevokeAccessTokens},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.before != nil {
				tt.before()
			}
			assertUserInfo401(t, p, tt.header)
		})
	}

	t.Run("expired", func(t *testing.T) {
		tok := rp.signIn(t, "n")
		clock.Advance(5 * time.Minute)
		assertUserInfo401(t, p, "Bearer "+tok.AccessToken)
	})
}

func assertUserInfo401(t *testing.T, p *Provider, authorization string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.Issuer()+"/userinfo", nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := p.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("userinfo: got %d %q; want 401 with invalid_token", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}
