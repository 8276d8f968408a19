package oidctest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// testRedirectURI is never contacted: the tests stop at the redirect.
const testRedirectURI = "https://meet.example.com/auth/callback"

// relyingParty is what the gateway does, built from go-oidc and oauth2 the
// way their documentation shows.
type relyingParty struct {
	ctx      context.Context
	provider *oidc.Provider
	config   *oauth2.Config
	verifier *oidc.IDTokenVerifier
	noFollow *http.Client
}

func newRelyingParty(t *testing.T, p *Provider, scopes ...string) *relyingParty {
	t.Helper()
	ctx := oidc.ClientContext(t.Context(), p.Client())
	op, err := oidc.NewProvider(ctx, p.Issuer())
	if err != nil {
		t.Fatalf("oidc.NewProvider: %v", err)
	}
	return &relyingParty{
		ctx:      ctx,
		provider: op,
		config: &oauth2.Config{
			ClientID:     p.ClientID(),
			ClientSecret: p.ClientSecret(),
			Endpoint:     op.Endpoint(),
			RedirectURL:  testRedirectURI,
			Scopes:       append([]string{oidc.ScopeOpenID, "profile", "email"}, scopes...),
		},
		verifier: op.Verifier(&oidc.Config{ClientID: p.ClientID()}),
		noFollow: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
}

// authorize sends the browser to the authorization endpoint and returns the
// query of the redirect back to the relying party.
func (rp *relyingParty) authorize(t *testing.T, authURL string) url.Values {
	t.Helper()
	resp, err := rp.noFollow.Get(authURL)
	if err != nil {
		t.Fatalf("GET authorize: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize status: got %d; want %d", resp.StatusCode, http.StatusFound)
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("authorize Location: %v", err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != testRedirectURI {
		t.Fatalf("authorize redirected to %q; want %q", got, testRedirectURI)
	}
	return loc.Query()
}

// signIn runs the code flow with PKCE up to the token response.
func (rp *relyingParty) signIn(t *testing.T, nonce string) *oauth2.Token {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	q := rp.authorize(t, rp.config.AuthCodeURL("state-1", oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
	if got := q.Get("state"); got != "state-1" {
		t.Fatalf("state: got %q; want %q", got, "state-1")
	}
	if q.Get("error") != "" {
		t.Fatalf("authorize error: got %q (%s); want none", q.Get("error"), q.Get("error_description"))
	}
	tok, err := rp.config.Exchange(rp.ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return tok
}

// verify checks the ID token in tok as OIDC Core 3.1.3.7 asks, nonce included.
func (rp *relyingParty) verify(tok *oauth2.Token, nonce string) (*oidc.IDToken, error) {
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return nil, errors.New("no id_token in token response")
	}
	idToken, err := rp.verifier.Verify(rp.ctx, raw)
	if err != nil {
		return nil, err
	}
	if idToken.Nonce != nonce {
		return nil, errors.New("nonce mismatch: got " + idToken.Nonce)
	}
	return idToken, nil
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		opts           []Option
		wantEndSession bool
	}{
		{name: "default", wantEndSession: true},
		{name: "without end session", opts: []Option{WithoutEndSession()}, wantEndSession: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := New(t, tt.opts...)
			resp, err := p.Client().Get(p.Issuer() + "/.well-known/openid-configuration")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var doc map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{
				"issuer":                 p.Issuer(),
				"authorization_endpoint": p.Issuer() + "/authorize",
				"token_endpoint":         p.Issuer() + "/token",
				"jwks_uri":               p.Issuer() + "/keys",
				"userinfo_endpoint":      p.Issuer() + "/userinfo",
			}
			for k, v := range want {
				if doc[k] != v {
					t.Errorf("%s: got %q; want %q", k, doc[k], v)
				}
			}
			for k, v := range map[string]string{
				"code_challenge_methods_supported":      "S256",
				"response_types_supported":              "code",
				"id_token_signing_alg_values_supported": "RS256",
				"subject_types_supported":               "public",
			} {
				if got, _ := json.Marshal(doc[k]); string(got) != `["`+v+`"]` {
					t.Errorf("%s: got %s; want [%q]", k, got, v)
				}
			}
			_, hasEndSession := doc["end_session_endpoint"]
			if hasEndSession != tt.wantEndSession {
				t.Errorf("end_session_endpoint present: got %v; want %v", hasEndSession, tt.wantEndSession)
			}
			if hasEndSession && doc["end_session_endpoint"] != p.Issuer()+"/logout" {
				t.Errorf("end_session_endpoint: got %q; want %q", doc["end_session_endpoint"], p.Issuer()+"/logout")
			}
			if !strings.HasPrefix(p.Issuer(), "http://127.0.0.1:") {
				t.Errorf("issuer: got %q; want http://127.0.0.1:port", p.Issuer())
			}
			newRelyingParty(t, p) // go-oidc accepts the document
		})
	}
}

func TestCodeFlow(t *testing.T) {
	t.Parallel()
	p := New(t, WithRedirectURI(testRedirectURI))
	p.SetUser(User{
		Subject:  "bob",
		Claims:   map[string]any{"email": "bob@example.com", "groups": []string{"eng-leads", "engineering"}},
		UserInfo: map[string]any{"name": "Bob Userinfo", "groups": []string{"only-in-userinfo"}},
	})
	rp := newRelyingParty(t, p)
	tok := rp.signIn(t, "nonce-1")

	if tok.TokenType != "Bearer" || tok.AccessToken == "" || tok.Expiry.IsZero() {
		t.Errorf("token: got type %q, access token %t, expiry %v; want Bearer, a token, an expiry", tok.TokenType, tok.AccessToken != "", tok.Expiry)
	}
	if tok.RefreshToken != "" {
		t.Errorf("refresh token without offline_access: got one; want none")
	}
	idToken, err := rp.verify(tok, "nonce-1")
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	var claims struct {
		Email  string   `json:"email"`
		Groups []string `json:"groups"`
	}
	if err := idToken.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if idToken.Subject != "bob" || claims.Email != "bob@example.com" || !slices.Equal(claims.Groups, []string{"eng-leads", "engineering"}) {
		t.Errorf("ID token: got sub %q email %q groups %q; want bob, bob@example.com, [eng-leads engineering]", idToken.Subject, claims.Email, claims.Groups)
	}

	info, err := rp.provider.UserInfo(rp.ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("UserInfo: %v", err)
	}
	var infoClaims struct {
		Name   string   `json:"name"`
		Groups []string `json:"groups"`
	}
	if err := info.Claims(&infoClaims); err != nil {
		t.Fatal(err)
	}
	if info.Subject != "bob" || infoClaims.Name != "Bob Userinfo" || !slices.Equal(infoClaims.Groups, []string{"only-in-userinfo"}) {
		t.Errorf("userinfo: got sub %q name %q groups %q; want bob, Bob Userinfo, [only-in-userinfo]", info.Subject, infoClaims.Name, infoClaims.Groups)
	}

	reqs := p.AuthorizeRequests()
	if len(reqs) != 1 {
		t.Fatalf("authorize requests: got %d; want 1", len(reqs))
	}
	r := reqs[0]
	if r.State != "state-1" || r.Nonce != "nonce-1" || r.CodeChallengeMethod != "S256" || r.Scope != "openid profile email" {
		t.Errorf("recorded authorize request: got state %q nonce %q method %q scope %q; want state-1, nonce-1, S256, %q", r.State, r.Nonce, r.CodeChallengeMethod, r.Scope, "openid profile email")
	}
	treqs := p.TokenRequests()
	if len(treqs) != 1 || treqs[0].GrantType != "authorization_code" || treqs[0].AuthMethod != "client_secret_basic" {
		t.Errorf("token requests: got %+v; want one authorization_code with client_secret_basic", treqs)
	}
	if got := p.UserInfoRequests(); got != 1 {
		t.Errorf("userinfo requests: got %d; want 1", got)
	}
}

func TestRotateKeys(t *testing.T) {
	t.Parallel()
	p := New(t, WithRedirectURI(testRedirectURI))
	rp := newRelyingParty(t, p)
	before := rp.signIn(t, "n")
	if _, err := rp.verify(before, "n"); err != nil {
		t.Fatalf("before rotation: %v", err)
	}
	oldKID := p.KeyID()

	p.RotateKeys()
	if p.KeyID() == oldKID {
		t.Fatalf("key id after rotation: got %q again; want a new one", oldKID)
	}
	after := rp.signIn(t, "n")
	if got := header(t, after.Extra("id_token").(string))["kid"]; got != p.KeyID() {
		t.Errorf("kid of new token: got %q; want %q", got, p.KeyID())
	}
	if _, err := rp.verify(after, "n"); err != nil {
		t.Errorf("new token after rotation: got %v; want no error", err)
	}
	if _, err := rp.verify(before, "n"); err == nil {
		t.Errorf("old token after rotation: got no error; want one")
	}

	resp, err := p.Client().Get(p.Issuer() + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var jwks struct {
		Keys []struct {
			KID string `json:"kid"`
			Kty string `json:"kty"`
			Alg string `json:"alg"`
			Use string `json:"use"`
			D   string `json:"d"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil {
		t.Fatal(err)
	}
	if len(jwks.Keys) != 1 {
		t.Fatalf("JWKS keys: got %d; want 1", len(jwks.Keys))
	}
	k := jwks.Keys[0]
	if k.KID != p.KeyID() || k.Kty != "RSA" || k.Alg != "RS256" || k.Use != "sig" || k.D != "" {
		t.Errorf("JWKS key: got %+v; want the current public RSA key for RS256 signatures", k)
	}
}

func TestDown(t *testing.T) {
	t.Parallel()
	p := New(t, WithRedirectURI(testRedirectURI), WithRefreshTokens())
	rp := newRelyingParty(t, p)
	tok := rp.signIn(t, "n")

	p.SetDown(true)
	for _, path := range []string{"/.well-known/openid-configuration", "/keys", "/authorize", "/userinfo", "/logout"} {
		resp, err := p.Client().Get(p.Issuer() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("GET %s while down: got %d; want 503", path, resp.StatusCode)
		}
	}
	if _, err := oidc.NewProvider(oidc.ClientContext(t.Context(), p.Client()), p.Issuer()); err == nil {
		t.Errorf("discovery while down: got no error; want one")
	}
	_, err := refresh(rp, tok.RefreshToken)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("refresh while down: got %v; want a 503", err)
	}

	p.SetDown(false)
	if _, err := refresh(rp, tok.RefreshToken); err != nil {
		t.Errorf("refresh after the outage: got %v; want no error", err)
	}
	rp.signIn(t, "n")
}

func TestDelay(t *testing.T) {
	t.Parallel()
	p := New(t)
	p.SetDelay(time.Minute)
	client := &http.Client{Timeout: 50 * time.Millisecond}
	start := time.Now()
	if _, err := client.Get(p.Issuer() + "/keys"); err == nil {
		t.Errorf("GET /keys with a 50ms timeout and a 1m delay: got no error; want a timeout")
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("the request took %v; want about 50ms", elapsed)
	}
	p.SetDelay(0)
	resp, err := client.Get(p.Issuer() + "/keys")
	if err != nil {
		t.Fatalf("GET /keys without delay: %v", err)
	}
	resp.Body.Close()
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	p := New(t)
	p.SetUnreachable(true)
	resp, err := p.Client().Get(p.Issuer() + "/.well-known/openid-configuration")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("discovery while unreachable: got %d; want a transport error", resp.StatusCode)
	}
	p.SetUnreachable(false)
	resp, err = p.Client().Get(p.Issuer() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatalf("discovery after: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("discovery after: got %d; want 200", resp.StatusCode)
	}
}
