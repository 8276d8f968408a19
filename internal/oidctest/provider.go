// Package oidctest runs an OpenID Connect provider inside the test process,
// so that the gateway's tests sign people in through real OIDC (discovery,
// JWKS, authorization code flow with PKCE, RS256-signed ID tokens, userinfo,
// refresh, end session) without any outside service. The provider listens
// on 127.0.0.1 through net/http/httptest.
//
// The provider has no login page: the test decides beforehand who signs in.
//
//	p := oidctest.New(t)                                  // client "roomgate" / "secret"
//	p.SetRedirectURI(gatewayURL + "/auth/callback")
//	p.SetUser(oidctest.User{Subject: "bob", Claims: map[string]any{"groups": []string{"eng-leads"}}})
//
// It can misbehave on demand, so that tests can try to break the gateway:
//
//	p.MutateNextIDToken(oidctest.Expired)   // the next ID token is expired
//	p.MutateIDTokens(oidctest.AlgNone)      // every ID token from now on is unsigned
//	p.SetAuthorizeError("access_denied")    // the person refuses consent
//	p.SetLoginRequired(true)                // prompt=none answers login_required
//	p.RevokeRefresh()                       // refresh tokens issued so far stop working
//	p.RotateKeys()                          // new signing key, old one leaves the JWKS
//	p.SetDown(true)                         // every endpoint answers 503
//	p.SetUnreachable(true)                  // every endpoint hangs up without an answer
//	p.SetDelay(3 * time.Second)             // every endpoint is slow
//
// Routes: GET /.well-known/openid-configuration, GET /authorize, POST /token,
// GET|POST /userinfo, GET /keys and GET /logout (the end-session endpoint,
// absent with WithoutEndSession).
//
// Everything the gateway sent is recorded for inspection: AuthorizeRequests,
// TokenRequests, LogoutRequests and UserInfoRequests.
package oidctest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// The client registered at every new Provider unless WithClient says otherwise.
const (
	DefaultClientID     = "roomgate"
	DefaultClientSecret = "secret"
)

// DefaultTokenTTL is how long access and ID tokens live unless WithTokenTTL
// says otherwise.
const DefaultTokenTTL = time.Hour

// codeTTL is how long an authorization code may wait before it is redeemed;
// RFC 6749 4.1.2 recommends at most 10 minutes.
const codeTTL = 10 * time.Minute

// User is a person the provider can sign in.
type User struct {
	// Subject is the stable user id, the ID token's "sub".
	Subject string
	// Claims are added to the ID token (email, name, groups, ...). They
	// never replace iss, sub, aud, exp, iat, auth_time or nonce; use a
	// Mutation for that.
	Claims map[string]any
	// UserInfo is what the userinfo endpoint answers, besides "sub". It is
	// separate from Claims so that a test can put groups only here. A "sub"
	// key replaces the real subject, to test OIDC Core 5.3.2.
	UserInfo map[string]any
	// RefreshDisabled makes every refresh for this user fail with
	// invalid_grant, as if an admin had disabled the account.
	RefreshDisabled bool
}

// DefaultUser is who signs in until a test calls SetUser.
func DefaultUser() User {
	return User{
		Subject: "alice",
		Claims: map[string]any{
			"email":          "alice@example.com",
			"email_verified": true,
			"name":           "Alice Example",
			"groups":         []string{"engineering"},
		},
		UserInfo: map[string]any{
			"email": "alice@example.com",
			"name":  "Alice Example",
		},
	}
}

// Option configures a Provider when New creates it.
type Option func(*Provider)

// WithClient registers the client id and secret instead of the defaults.
func WithClient(id, secret string) Option {
	return func(p *Provider) { p.clientID, p.clientSecret = id, secret }
}

// WithRedirectURI registers the client's redirect URIs; see SetRedirectURI.
func WithRedirectURI(uris ...string) Option {
	return func(p *Provider) { p.redirectURIs = slices.Clone(uris) }
}

// WithNow gives the provider a clock; it stamps and checks every token and
// code with it. The default is time.Now.
func WithNow(now func() time.Time) Option {
	return func(p *Provider) { p.now = now }
}

// WithTokenTTL sets the lifetime of access and ID tokens.
func WithTokenTTL(d time.Duration) Option {
	return func(p *Provider) { p.tokenTTL = d }
}

// WithoutEndSession leaves end_session_endpoint out of the discovery
// document and makes /logout answer 404, like providers without RP-initiated
// logout (Google).
func WithoutEndSession() Option {
	return func(p *Provider) { p.endSession = false }
}

// WithRefreshTokens makes the token endpoint issue a refresh token even when
// the scope lacks offline_access, as Keycloak and Entra ID do.
func WithRefreshTokens() Option {
	return func(p *Provider) { p.alwaysRefresh = true }
}

// WithoutIDTokenOnRefresh makes refresh responses carry no id_token, which
// OAuth 2.0 allows and some providers do.
func WithoutIDTokenOnRefresh() Option {
	return func(p *Provider) { p.idTokenOnRefresh = false }
}

// Provider is an OpenID Connect provider served by an httptest.Server. All
// methods are safe for concurrent use.
type Provider struct {
	server *httptest.Server

	// Fixed by New.
	clientID         string
	clientSecret     string
	tokenTTL         time.Duration
	endSession       bool
	alwaysRefresh    bool
	idTokenOnRefresh bool

	mu             sync.Mutex
	now            func() time.Time
	redirectURIs   []string
	key            signingKey
	keyCount       int
	strangers      map[Signing]signingKey // keys outside the JWKS, made on first use
	users          map[string]User
	current        string   // who signs in
	next           []string // who signs in at the next authorize requests, first first
	loginRequired  bool
	authorizeError string
	down           bool
	unreachable    bool
	delay          time.Duration
	revocations    []string // token_type_hint of each accepted revocation
	mutations      []Mutation
	nextMutations  [][]Mutation
	codes          map[string]*grant
	accessTokens   map[string]*accessGrant
	refreshTokens  map[string]*grant

	authorizeRequests []AuthorizeRequest
	tokenRequests     []TokenRequest
	keyRequests       int
	logoutRequests    []LogoutRequest
	userInfoRequests  int
}

// signingKey is an RSA key with its JWKS key id.
type signingKey struct {
	id      string
	private *rsa.PrivateKey
}

// New starts a provider on 127.0.0.1 and closes it when the test ends.
func New(t testing.TB, opts ...Option) *Provider {
	t.Helper()
	u := DefaultUser()
	p := &Provider{
		clientID:         DefaultClientID,
		clientSecret:     DefaultClientSecret,
		tokenTTL:         DefaultTokenTTL,
		endSession:       true,
		idTokenOnRefresh: true,
		now:              time.Now,
		strangers:        map[Signing]signingKey{},
		users:            map[string]User{u.Subject: u},
		current:          u.Subject,
		codes:            map[string]*grant{},
		accessTokens:     map[string]*accessGrant{},
		refreshTokens:    map[string]*grant{},
	}
	for _, opt := range opts {
		opt(p)
	}
	key, err := p.newKey()
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	p.key = key
	p.server = httptest.NewServer(p.routes())
	t.Cleanup(p.Close)
	return p
}

// routes is the provider's whole HTTP surface.
func (p *Provider) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.serveDiscovery)
	mux.HandleFunc("GET /authorize", p.serveAuthorize)
	mux.HandleFunc("POST /token", p.serveToken)
	mux.HandleFunc("GET /userinfo", p.serveUserInfo)
	mux.HandleFunc("POST /userinfo", p.serveUserInfo)
	mux.HandleFunc("GET /keys", p.serveKeys)
	mux.HandleFunc("GET /logout", p.serveLogout)
	mux.HandleFunc("POST /revoke", p.serveRevoke)
	return p.outage(mux)
}

// outage waits out the delay set by SetDelay, then hangs up while the
// provider is unreachable and answers 503 while it is down.
func (p *Provider) outage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		down, unreachable, delay := p.down, p.unreachable, p.delay
		p.mu.Unlock()
		if delay > 0 {
			// net/http notices a client hanging up only once the body is
			// read, so it is read first and handed on.
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(b))
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		if unreachable {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		if down {
			http.Error(w, "oidctest: provider is down", http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Close shuts the server down. New registers it with t.Cleanup; calling it
// again is harmless.
func (p *Provider) Close() { p.server.Close() }

// Issuer is the provider's URL, e.g. "http://127.0.0.1:40123", with no
// trailing slash; it is the "iss" of every good ID token.
func (p *Provider) Issuer() string { return p.server.URL }

// ClientID is the registered client's id.
func (p *Provider) ClientID() string { return p.clientID }

// ClientSecret is the registered client's secret.
func (p *Provider) ClientSecret() string { return p.clientSecret }

// Client is an http.Client that reaches the provider.
func (p *Provider) Client() *http.Client { return p.server.Client() }

// SetRedirectURI replaces the registered redirect URIs. /authorize and
// /token accept only these, compared as exact strings (OAuth 2.0 Security
// BCP, RFC 9700 2.1). Until one is set every authorize request fails.
func (p *Provider) SetRedirectURI(uris ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.redirectURIs = slices.Clone(uris)
}

// SetNow replaces the provider's clock.
func (p *Provider) SetNow(now func() time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.now = now
}

// SetUser stores u (replacing any user with the same Subject) and makes u
// the person who signs in from now on. Calling it again with changed claims
// is how a test changes someone's groups: the next refresh and userinfo
// answer with the new claims.
func (p *Provider) SetUser(u User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.users[u.Subject] = u
	p.current = u.Subject
}

// NextUser stores u and makes u the person who signs in at the next
// authorize request only. Several calls queue several sign-ins.
func (p *Provider) NextUser(u User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.users[u.Subject] = u
	p.next = append(p.next, u.Subject)
}

// PutUser stores u, replacing any user with the same Subject, without
// changing who signs in.
func (p *Provider) PutUser(u User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.users[u.Subject] = u
}

// DeleteUser forgets the user: refreshes and userinfo for them fail from now
// on, as if the account had been deleted.
func (p *Provider) DeleteUser(subject string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.users, subject)
}

// SetLoginRequired says whether the person has a session at the provider.
// Without one, an authorize request with prompt=none answers
// error=login_required (OIDC Core 3.1.2.6); any other authorize request signs
// the person in and so creates the session again. /logout ends it.
func (p *Provider) SetLoginRequired(required bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.loginRequired = required
}

// SetAuthorizeError makes every authorize request with a valid client and
// redirect URI answer with this OAuth error code, e.g. "access_denied" for a
// person who refuses consent, or "server_error". "" turns it off.
func (p *Provider) SetAuthorizeError(code string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.authorizeError = code
}

// SetDown makes every endpoint answer 503 Service Unavailable while down is
// true, to simulate an outage.
func (p *Provider) SetDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
}

// SetUnreachable makes every endpoint close the connection without an
// answer while unreachable is true, so clients see a transport error.
func (p *Provider) SetUnreachable(unreachable bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.unreachable = unreachable
}

// SetDelay makes every endpoint wait d before answering, to simulate a slow
// provider; a request whose context ends meanwhile gets no answer.
func (p *Provider) SetDelay(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = d
}

// RevokeRefresh invalidates every refresh token issued so far; refreshing
// with one answers 400 invalid_grant. Tokens issued later work.
func (p *Provider) RevokeRefresh() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.refreshTokens)
}

// RevokeAccessTokens invalidates every access token issued so far; userinfo
// answers 401 for them.
func (p *Provider) RevokeAccessTokens() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.accessTokens)
}

// RotateKeys replaces the signing key with a new one under a new key id. The
// old key leaves the JWKS at once, so tokens it signed no longer verify.
func (p *Provider) RotateKeys() {
	key, err := p.newKey()
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.key = key
}

// KeyID is the key id of the current signing key.
func (p *Provider) KeyID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.key.id
}

// newKey makes an RSA 2048 key with the next key id.
func (p *Provider) newKey() (signingKey, error) {
	private, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return signingKey{}, fmt.Errorf("oidctest: generating RSA key: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keyCount++
	return signingKey{id: fmt.Sprintf("key-%d", p.keyCount), private: private}, nil
}

// serveDiscovery answers the OpenID Provider metadata (OIDC Discovery 3).
func (p *Provider) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	iss := p.Issuer()
	doc := map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + "/authorize",
		"token_endpoint":                        iss + "/token",
		"jwks_uri":                              iss + "/keys",
		"userinfo_endpoint":                     iss + "/userinfo",
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"scopes_supported":                      []string{"openid", "profile", "email", "groups", "offline_access"},
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "name", "email", "groups"},
		"revocation_endpoint":                   iss + "/revoke",
		"prompt_values_supported":               []string{"none", "login", "consent", "select_account"},
		// RFC 9207: the authorization response carries iss.
		"authorization_response_iss_parameter_supported": true,
	}
	if p.endSession {
		doc["end_session_endpoint"] = iss + "/logout"
	}
	writeJSON(w, http.StatusOK, doc)
}

// KeyRequests is how many times the JWKS was fetched so far.
func (p *Provider) KeyRequests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keyRequests
}

// serveKeys answers the JWKS with the current signing key only.
func (p *Provider) serveKeys(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	key := p.key
	p.keyRequests++
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key:       &key.private.PublicKey,
		KeyID:     key.id,
		Algorithm: string(jose.RS256),
		Use:       "sig",
	}}})
}

// writeJSON answers v as JSON; tokens must not be cached (RFC 6749 5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// randomToken is 32 random bytes, base64url: codes, access and refresh tokens.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
