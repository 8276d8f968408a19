package idp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

var testPeople = []Person{
	{Subject: "ada", Name: "Ada Lovelace", Email: "ada@example.com", Groups: []string{"eng-leads", "engineering"}, About: "moderator"},
	{Subject: "cleo", Name: "Cleo Martin", Email: "cleo@example.com", About: "in no group"},
}

// rig is a provider under /demo/idp on a loopback test server, its client
// registration, and a browser that does not follow redirects, so each hop
// of the code flow can be looked at.
type rig struct {
	t        *testing.T
	srv      *httptest.Server
	issuer   string
	oauth    oauth2.Config
	provider *oidc.Provider
	browser  *http.Client
}

func newRig(t *testing.T) *rig {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	idp, err := New(Config{
		Issuer:       base + "/demo/idp",
		ClientID:     "roomgate-demo",
		ClientSecret: "client-secret",
		RedirectURI:  base + "/auth/callback",
		People:       testPeople,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/demo/idp/", idp)
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)

	ctx := oidc.ClientContext(context.Background(), srv.Client())
	provider, err := oidc.NewProvider(ctx, idp.Issuer())
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return &rig{
		t:      t,
		srv:    srv,
		issuer: idp.Issuer(),
		oauth: oauth2.Config{
			ClientID:     "roomgate-demo",
			ClientSecret: "client-secret",
			Endpoint:     provider.Endpoint(),
			RedirectURL:  base + "/auth/callback",
			Scopes:       []string{oidc.ScopeOpenID, "profile", "email", "groups"},
		},
		provider: provider,
		browser: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
	}
}

func (r *rig) ctx() context.Context {
	return oidc.ClientContext(context.Background(), r.srv.Client())
}

// get fetches u and returns the status, the Location and the body.
func (r *rig) get(u string) (int, string, string) {
	r.t.Helper()
	return r.do(http.MethodGet, u, nil, nil)
}

func (r *rig) do(method, u string, form url.Values, header http.Header) (int, string, string) {
	r.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		r.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := r.browser.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	loc := resp.Header.Get("Location")
	if loc != "" {
		lu, err := req.URL.Parse(loc)
		if err != nil {
			r.t.Fatalf("bad Location %q: %v", loc, err)
		}
		loc = lu.String()
	}
	return resp.StatusCode, loc, string(b)
}

// authorize starts a sign-in and returns the sign-in page's URL and the
// authorization request's id.
func (r *rig) authorize(opts ...oauth2.AuthCodeOption) (loginURL, id string) {
	r.t.Helper()
	status, loc, body := r.get(r.oauth.AuthCodeURL("state-1", opts...))
	if status != http.StatusFound {
		r.t.Fatalf("authorize: got status %d; want 302 (body %q)", status, body)
	}
	u, err := url.Parse(loc)
	if err != nil {
		r.t.Fatal(err)
	}
	if got, want := u.Path, "/demo/idp/login"; got != want {
		r.t.Fatalf("authorize redirected to %q; want the sign-in page %q", loc, want)
	}
	return loc, u.Query().Get("authRequestID")
}

// pick posts the choice of person on the sign-in page and follows op's
// callback to the client's redirect URI, whose query it returns.
func (r *rig) pick(id, subject string) url.Values {
	r.t.Helper()
	status, loc, body := r.do(http.MethodPost, r.issuer+"/login", url.Values{"id": {id}, "person": {subject}}, nil)
	if status != http.StatusSeeOther {
		r.t.Fatalf("pick: got status %d; want 303 (body %q)", status, body)
	}
	status, loc, body = r.get(loc)
	if status != http.StatusFound {
		r.t.Fatalf("op callback: got status %d; want 302 (body %q)", status, body)
	}
	if !strings.HasPrefix(loc, r.oauth.RedirectURL+"?") {
		r.t.Fatalf("op callback redirected to %q; want the redirect URI %q", loc, r.oauth.RedirectURL)
	}
	u, _ := url.Parse(loc)
	return u.Query()
}

// signIn runs the code flow up to the code, as subject.
func (r *rig) signIn(subject, verifier, nonce string) string {
	r.t.Helper()
	loginURL, id := r.authorize(oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	if status, _, _ := r.get(loginURL); status != http.StatusOK {
		r.t.Fatalf("sign-in page: got status %d; want 200", status)
	}
	q := r.pick(id, subject)
	if got, want := q.Get("state"), "state-1"; got != want {
		r.t.Fatalf("state = %q; want %q", got, want)
	}
	if q.Get("code") == "" {
		r.t.Fatalf("no code in the redirect: %v", q)
	}
	return q.Get("code")
}

type idClaims struct {
	Subject       string   `json:"sub"`
	Name          string   `json:"name"`
	Email         string   `json:"email"`
	EmailVerified bool     `json:"email_verified"`
	Groups        []string `json:"groups"`
	Nonce         string   `json:"nonce"`
}

// verify checks raw as roomgate does (OIDC Core 3.1.3.7) and returns its
// claims.
func (r *rig) verify(raw string) idClaims {
	r.t.Helper()
	tok, err := r.provider.Verifier(&oidc.Config{ClientID: r.oauth.ClientID}).Verify(r.ctx(), raw)
	if err != nil {
		r.t.Fatalf("verify ID token: %v", err)
	}
	var c idClaims
	if err := tok.Claims(&c); err != nil {
		r.t.Fatal(err)
	}
	return c
}

// TestCodeFlow walks the whole authorization code flow with PKCE, as
// roomgate will, and checks the ID token and userinfo.
func TestCodeFlow(t *testing.T) {
	t.Parallel()
	r := newRig(t)

	loginURL, _ := r.authorize(oidc.Nonce("n"), oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	status, _, page := r.get(loginURL)
	if status != http.StatusOK {
		t.Fatalf("sign-in page: got status %d; want 200", status)
	}
	for _, p := range testPeople {
		for _, want := range []string{p.Name, p.Email, p.About, `value="` + p.Subject + `"`} {
			if !strings.Contains(page, want) {
				t.Errorf("sign-in page lacks %q", want)
			}
		}
	}
	if strings.Contains(page, "<script") {
		t.Errorf("sign-in page has a script; the CSP forbids it")
	}

	verifier := oauth2.GenerateVerifier()
	code := r.signIn("ada", verifier, "nonce-ada")
	tok, err := r.oauth.Exchange(r.ctx(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatal("token response has no id_token")
	}
	got := r.verify(raw)
	want := idClaims{Subject: "ada", Name: "Ada Lovelace", Email: "ada@example.com", EmailVerified: true,
		Groups: []string{"eng-leads", "engineering"}, Nonce: "nonce-ada"}
	if got.Subject != want.Subject || got.Name != want.Name || got.Email != want.Email ||
		got.EmailVerified != want.EmailVerified || got.Nonce != want.Nonce || !slices.Equal(got.Groups, want.Groups) {
		t.Errorf("ID token claims = %+v; want %+v", got, want)
	}
	if tok.RefreshToken != "" {
		t.Errorf("a refresh token without offline_access")
	}

	info, err := r.provider.UserInfo(r.ctx(), oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var ic idClaims
	if err := info.Claims(&ic); err != nil {
		t.Fatal(err)
	}
	if ic.Subject != "ada" || ic.Email != "ada@example.com" || !slices.Equal(ic.Groups, want.Groups) {
		t.Errorf("userinfo = %+v; want sub ada, her email and groups", ic)
	}

	if _, err := r.oauth.Exchange(r.ctx(), code, oauth2.VerifierOption(verifier)); err == nil {
		t.Errorf("the same code was redeemed twice")
	}
}

// TestNoGroups: a person in no group gets an empty groups claim, not a
// missing one, so roomgate can tell "no groups" from "provider sends none".
func TestNoGroups(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	verifier := oauth2.GenerateVerifier()
	tok, err := r.oauth.Exchange(r.ctx(), r.signIn("cleo", verifier, "n"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	tk, err := r.provider.Verifier(&oidc.Config{ClientID: r.oauth.ClientID}).Verify(r.ctx(), raw)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := tk.Claims(&m); err != nil {
		t.Fatal(err)
	}
	groups, ok := m["groups"].([]any)
	if !ok || len(groups) != 0 {
		t.Errorf("groups claim = %#v; want an empty list", m["groups"])
	}
}

// TestRefresh: with offline_access, a refresh token is issued; it gives a
// new signed ID token, and it works once (rotation).
func TestRefresh(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.oauth.Scopes = append(r.oauth.Scopes, oidc.ScopeOfflineAccess)
	verifier := oauth2.GenerateVerifier()
	tok, err := r.oauth.Exchange(r.ctx(), r.signIn("ada", verifier, "n"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token with offline_access")
	}
	fresh, err := r.oauth.TokenSource(r.ctx(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	raw, _ := fresh.Extra("id_token").(string)
	if got := r.verify(raw); got.Subject != "ada" || !slices.Equal(got.Groups, []string{"eng-leads", "engineering"}) {
		t.Errorf("refreshed ID token = %+v; want Ada with her groups", got)
	}
	if fresh.RefreshToken == "" || fresh.RefreshToken == tok.RefreshToken {
		t.Errorf("refresh token not rotated")
	}
	_, err = r.oauth.TokenSource(r.ctx(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Errorf("reusing a rotated refresh token: got %v; want an OAuth error", err)
	}
}

// TestAuthorizeRefused: without PKCE S256 there is no sign-in; the client
// gets an OAuth error at its redirect URI.
func TestAuthorizeRefused(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	tests := []struct {
		name      string
		opts      []oauth2.AuthCodeOption
		wantError string
	}{
		{"no PKCE", nil, "invalid_request"},
		{"plain PKCE", []oauth2.AuthCodeOption{
			oauth2.SetAuthURLParam("code_challenge", "abcdefghijabcdefghijabcdefghijabcdefghij123"),
			oauth2.SetAuthURLParam("code_challenge_method", "plain"),
		}, "invalid_request"},
		{"prompt none", []oauth2.AuthCodeOption{
			oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
			oauth2.SetAuthURLParam("prompt", "none"),
		}, "login_required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, loc, _ := r.get(r.oauth.AuthCodeURL("s", tt.opts...))
			if status != http.StatusFound || !strings.HasPrefix(loc, r.oauth.RedirectURL+"?") {
				t.Fatalf("got status %d to %q; want 302 to the redirect URI", status, loc)
			}
			u, _ := url.Parse(loc)
			if got := u.Query().Get("error"); got != tt.wantError {
				t.Errorf("error = %q; want %q", got, tt.wantError)
			}
		})
	}
}

// TestExchangeRefused: the token endpoint wants the right verifier and the
// right secret, and a refused attempt uses the code up.
func TestExchangeRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		secret string
		verify string // "" means the right verifier
	}{
		{name: "wrong verifier", secret: "client-secret", verify: oauth2.GenerateVerifier()},
		{name: "no verifier", secret: "client-secret", verify: "-"},
		{name: "wrong secret", secret: "guess"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			verifier := oauth2.GenerateVerifier()
			code := r.signIn("ada", verifier, "n")
			bad := r.oauth
			bad.ClientSecret = tt.secret
			var opts []oauth2.AuthCodeOption
			switch tt.verify {
			case "":
				opts = append(opts, oauth2.VerifierOption(verifier))
			case "-":
			default:
				opts = append(opts, oauth2.VerifierOption(tt.verify))
			}
			if _, err := bad.Exchange(r.ctx(), code, opts...); err == nil {
				t.Fatal("exchange succeeded; want it refused")
			}
			if _, err := r.oauth.Exchange(r.ctx(), code, oauth2.VerifierOption(verifier)); err == nil {
				t.Errorf("the code still worked after a refused attempt")
			}
		})
	}
}

// TestLoginPageRefuses: the sign-in page turns away what it cannot finish,
// with a page, not an error dump.
func TestLoginPageRefuses(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	_, id := r.authorize(oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	_, used := r.authorize(oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	r.pick(used, "ada")

	tests := []struct {
		name       string
		method     string
		target     string
		form       url.Values
		header     http.Header
		wantStatus int
	}{
		{"unknown request", http.MethodGet, r.issuer + "/login?authRequestID=nope", nil, nil, http.StatusBadRequest},
		{"no request", http.MethodGet, r.issuer + "/login", nil, nil, http.StatusBadRequest},
		{"unknown person", http.MethodPost, r.issuer + "/login", url.Values{"id": {id}, "person": {"mallory"}}, nil, http.StatusBadRequest},
		{"finished request", http.MethodPost, r.issuer + "/login", url.Values{"id": {used}, "person": {"cleo"}}, nil, http.StatusBadRequest},
		{"cross-site post", http.MethodPost, r.issuer + "/login", url.Values{"id": {id}, "person": {"ada"}},
			http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden},
		{"other origin", http.MethodPost, r.issuer + "/login", url.Values{"id": {id}, "person": {"ada"}},
			http.Header{"Origin": {"https://evil.example"}}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, loc, body := r.do(tt.method, tt.target, tt.form, tt.header)
			if status != tt.wantStatus {
				t.Errorf("got status %d (Location %q); want %d", status, loc, tt.wantStatus)
			}
			if tt.wantStatus == http.StatusBadRequest && !strings.Contains(body, "<h1>") {
				t.Errorf("got body %q; want a page", body)
			}
		})
	}
	// After all that, the untouched request still signs in.
	if q := r.pick(id, "ada"); q.Get("code") == "" {
		t.Errorf("no code after the refusals: %v", q)
	}
}

func TestLoginPageHeaders(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	loginURL, _ := r.authorize(oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	resp, err := r.browser.Get(loginURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "style-src 'self'", "form-action 'self' " + r.srv.URL, "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if got, want := resp.Header.Get("Cache-Control"), "no-store"; got != want {
		t.Errorf("Cache-Control = %q; want %q", got, want)
	}
	if status, _, css := r.get(r.issuer + "/login.css"); status != http.StatusOK || !strings.Contains(css, ".people") {
		t.Errorf("stylesheet: got status %d; want 200 with the page's styles", status)
	}
}

func TestServesOnlyItsPath(t *testing.T) {
	t.Parallel()
	idp, err := New(Config{Issuer: "http://127.0.0.1:1/demo/idp", ClientID: "c", ClientSecret: "s",
		RedirectURI: "http://127.0.0.1:1/auth/callback", People: testPeople})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path       string
		wantStatus int
	}{
		{"/demo/idp/.well-known/openid-configuration", http.StatusOK},
		{"/demo/idp/keys", http.StatusOK},
		{"/demo/idpx/keys", http.StatusNotFound},
		{"/keys", http.StatusNotFound},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		idp.ServeHTTP(w, httptest.NewRequest(http.MethodGet, tt.path, nil))
		if w.Code != tt.wantStatus {
			t.Errorf("GET %s: got status %d; want %d", tt.path, w.Code, tt.wantStatus)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	good := Config{Issuer: "http://127.0.0.1:1/demo/idp", ClientID: "c", ClientSecret: "s",
		RedirectURI: "http://127.0.0.1:1/auth/callback", People: testPeople}
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"relative issuer", func(c *Config) { c.Issuer = "/demo/idp" }, "idp: issuer: want an absolute http or https URL"},
		{"issuer with query", func(c *Config) { c.Issuer += "?x=1" }, "idp: issuer: want no query or fragment"},
		{"no secret", func(c *Config) { c.ClientSecret = "" }, "idp: client secret is empty"},
		{"no people", func(c *Config) { c.People = nil }, "idp: no people"},
		{"same subject twice", func(c *Config) { c.People = append(c.People, testPeople[0]) }, `idp: subject "ada" is used twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.edit(&cfg)
			_, err := New(cfg)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("got %v; want an error starting %q", err, tt.want)
			}
		})
	}
}
