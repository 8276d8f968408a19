package idp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// How long things live. A person has authRequestTTL to pick someone and
// for the client to redeem the code.
const (
	authRequestTTL  = 10 * time.Minute
	accessTokenTTL  = 10 * time.Minute
	idTokenTTL      = 10 * time.Minute
	refreshTokenTTL = 8 * time.Hour
)

// scopeGroups asks for the groups claim, as Dex, Authentik and others name
// it.
const scopeGroups = "groups"

// storage is the provider's memory: one client, the people, the signing
// key, and the requests and tokens in flight. It implements op.Storage.
type storage struct {
	client *client
	people map[string]Person // by subject
	key    signingKey

	mu            sync.Mutex
	requests      map[string]*authRequest // by id
	codes         map[string]string       // code -> request id
	accessTokens  map[string]*accessToken // by id
	refreshTokens map[string]*refreshToken
}

func newStorage(cfg Config, issuer string) (*storage, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("idp: generating the signing key: %w", err)
	}
	s := &storage{
		client: &client{
			id:          cfg.ClientID,
			secret:      cfg.ClientSecret,
			redirectURI: cfg.RedirectURI,
			loginURL:    issuer + loginPath,
		},
		people:        make(map[string]Person, len(cfg.People)),
		key:           signingKey{id: rand.Text(), key: key},
		requests:      make(map[string]*authRequest),
		codes:         make(map[string]string),
		accessTokens:  make(map[string]*accessToken),
		refreshTokens: make(map[string]*refreshToken),
	}
	if cfg.PostLogoutRedirectURI != "" {
		s.client.postLogoutRedirectURIs = []string{cfg.PostLogoutRedirectURI}
	}
	for _, p := range cfg.People {
		s.people[p.Subject] = p
	}
	return s, nil
}

// authRequest is one authorization request, from /authorize until its code
// is redeemed. The op package only reads it; storage hands out copies so a
// sign-in finishing on another request never races with a reader.
type authRequest struct {
	id           string
	created      time.Time
	clientID     string
	redirectURI  string
	state        string
	nonce        string
	scopes       []string
	responseType oidc.ResponseType
	responseMode oidc.ResponseMode
	challenge    *oidc.CodeChallenge
	subject      string // set when the person is picked
	authTime     time.Time
	done         bool
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return nil }
func (a *authRequest) GetAudience() []string                 { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }

// accessToken is an issued access token; the client holds it encrypted
// (op's bearer format), the id is what comes back.
type accessToken struct {
	id       string
	clientID string
	subject  string
	scopes   []string
	expires  time.Time
}

// refreshToken is an issued refresh token. It is rotated on every use.
type refreshToken struct {
	token    string
	clientID string
	subject  string
	scopes   []string
	authTime time.Time
	expires  time.Time
	access   string // the access token issued with it
}

// refreshRequest is a refresh token presented at the token endpoint, as op
// wants it (op.RefreshTokenRequest).
type refreshRequest struct{ refreshToken }

func (r *refreshRequest) GetAMR() []string            { return nil }
func (r *refreshRequest) GetAudience() []string       { return []string{r.clientID} }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.authTime }
func (r *refreshRequest) GetClientID() string         { return r.clientID }
func (r *refreshRequest) GetScopes() []string         { return r.scopes }
func (r *refreshRequest) GetSubject() string          { return r.subject }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.scopes = s }

// CreateAuthRequest stores a validated authorization request. There is no
// provider session, so prompt=none can never succeed, and PKCE with S256
// is required (RFC 7636 section 4.2; plain is refused, as OAuth 2.1 does).
func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if slices.Contains(req.Prompt, oidc.PromptNone) {
		return nil, oidc.ErrLoginRequired()
	}
	if req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with code_challenge_method=S256 is required")
	}
	a := &authRequest{
		id:           rand.Text(),
		created:      time.Now(),
		clientID:     req.ClientID,
		redirectURI:  req.RedirectURI,
		state:        req.State,
		nonce:        req.Nonce,
		scopes:       slices.Clone(req.Scopes),
		responseType: req.ResponseType,
		responseMode: req.ResponseMode,
		challenge:    &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgetExpired(a.created)
	s.requests[a.id] = a
	c := *a
	return &c, nil
}

// forgetExpired drops what can no longer be used, so memory stays bounded
// by the traffic of the last few hours. Callers hold s.mu.
func (s *storage) forgetExpired(now time.Time) {
	for id, a := range s.requests {
		if now.Sub(a.created) > authRequestTTL {
			delete(s.requests, id)
		}
	}
	for code, id := range s.codes {
		if _, ok := s.requests[id]; !ok {
			delete(s.codes, code)
		}
	}
	for id, t := range s.accessTokens {
		if now.After(t.expires) {
			delete(s.accessTokens, id)
		}
	}
	for id, t := range s.refreshTokens {
		if now.After(t.expires) {
			delete(s.refreshTokens, id)
		}
	}
}

// request returns the live request with id. Callers hold s.mu.
func (s *storage) request(id string) (*authRequest, error) {
	a, ok := s.requests[id]
	if !ok || time.Since(a.created) > authRequestTTL {
		return nil, errors.New("idp: no such sign-in request (it expired or was used)")
	}
	return a, nil
}

// AuthRequestByID returns a copy of the request with id.
func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.request(id)
	if err != nil {
		return nil, err
	}
	c := *a
	return &c, nil
}

// pick finishes the sign-in of request id as the person with subject.
func (s *storage) pick(id, subject string) error {
	if _, ok := s.people[subject]; !ok {
		return fmt.Errorf("idp: no person with subject %q", subject)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.request(id)
	if err != nil {
		return err
	}
	if a.done {
		return errors.New("idp: this sign-in request is already finished")
	}
	a.subject, a.authTime, a.done = subject, time.Now(), true
	return nil
}

// AuthRequestByCode redeems code. A code works once, even when what comes
// after fails (a wrong verifier, say): RFC 6749 section 4.1.2.
func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.codes[code]
	if !ok {
		return nil, errors.New("idp: unknown or used code")
	}
	delete(s.codes, code)
	a, err := s.request(id)
	if err != nil {
		return nil, err
	}
	c := *a
	return &c, nil
}

// SaveAuthCode remembers the code issued for request id.
func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.request(id); err != nil {
		return err
	}
	s.codes[code] = id
	return nil
}

// DeleteAuthRequest forgets request id and its code.
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.requests, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
	return nil
}

// clientOf says which client a token request is for; only the flows this
// provider offers can reach it.
func clientOf(req op.TokenRequest) (clientID string, authTime time.Time, err error) {
	switch r := req.(type) {
	case *authRequest:
		return r.clientID, r.authTime, nil
	case *refreshRequest:
		return r.clientID, r.authTime, nil
	}
	return "", time.Time{}, fmt.Errorf("idp: token request of type %T is not supported", req)
}

// newAccessToken stores an access token. Callers hold s.mu.
func (s *storage) newAccessToken(clientID, subject string, scopes []string) *accessToken {
	t := &accessToken{
		id:       rand.Text(),
		clientID: clientID,
		subject:  subject,
		scopes:   slices.Clone(scopes),
		expires:  time.Now().Add(accessTokenTTL),
	}
	s.accessTokens[t.id] = t
	return t
}

// CreateAccessToken issues an access token without a refresh token.
func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	clientID, _, err := clientOf(req)
	if err != nil {
		return "", time.Time{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.newAccessToken(clientID, req.GetSubject(), req.GetScopes())
	return t.id, t.expires, nil
}

// CreateAccessAndRefreshTokens issues an access token and a refresh token;
// with current set, current is used up and replaced (rotation, RFC 9700
// section 4.14.2), and so is the access token issued with it.
func (s *storage) CreateAccessAndRefreshTokens(_ context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	clientID, authTime, err := clientOf(req)
	if err != nil {
		return "", "", time.Time{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if current != "" {
		old, ok := s.refreshTokens[current]
		if !ok || time.Now().After(old.expires) {
			return "", "", time.Time{}, op.ErrInvalidRefreshToken
		}
		delete(s.refreshTokens, current)
		delete(s.accessTokens, old.access)
	}
	t := s.newAccessToken(clientID, req.GetSubject(), req.GetScopes())
	rt := &refreshToken{
		token:    rand.Text(),
		clientID: clientID,
		subject:  req.GetSubject(),
		scopes:   slices.Clone(req.GetScopes()),
		authTime: authTime,
		expires:  time.Now().Add(refreshTokenTTL),
		access:   t.id,
	}
	s.refreshTokens[rt.token] = rt
	return t.id, rt.token, t.expires, nil
}

// TokenRequestByRefreshToken returns what a live refresh token was issued
// for.
func (s *storage) TokenRequestByRefreshToken(_ context.Context, token string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, ok := s.refreshTokens[token]
	if !ok || time.Now().After(rt.expires) {
		return nil, op.ErrInvalidRefreshToken
	}
	return &refreshRequest{*rt}, nil
}

// TerminateSession revokes every token of subject at clientID (end
// session).
func (s *storage) TerminateSession(_ context.Context, subject, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.accessTokens {
		if t.subject == subject && t.clientID == clientID {
			delete(s.accessTokens, id)
		}
	}
	for id, t := range s.refreshTokens {
		if t.subject == subject && t.clientID == clientID {
			delete(s.refreshTokens, id)
		}
	}
	return nil
}

// RevokeToken revokes an access token (by id) or a refresh token (by
// value) of clientID (RFC 7009). An unknown token is not an error.
func (s *storage) RevokeToken(_ context.Context, tokenOrID, _, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.accessTokens[tokenOrID]; ok {
		if t.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.accessTokens, tokenOrID)
		return nil
	}
	if rt, ok := s.refreshTokens[tokenOrID]; ok {
		if rt.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.refreshTokens, tokenOrID)
		delete(s.accessTokens, rt.access)
	}
	return nil
}

// GetRefreshTokenInfo says whose a refresh token is.
func (s *storage) GetRefreshTokenInfo(_ context.Context, clientID, token string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, ok := s.refreshTokens[token]
	if !ok || rt.clientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return rt.subject, rt.token, nil
}

// signingKey is the run's RS256 key; it never leaves the process.
type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.key }
func (k signingKey) ID() string                                  { return k.id }

// publicKey is the signing key's public half, published at /keys.
type publicKey struct{ signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.key.PublicKey }

// SigningKey returns the key ID tokens are signed with.
func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }

// SignatureAlgorithms lists the one algorithm used: RS256.
func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

// KeySet publishes the public key.
func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{s.key}}, nil
}

// GetClientByClientID returns the one client.
func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	if id != s.client.id {
		return nil, fmt.Errorf("idp: unknown client %q", id)
	}
	return s.client, nil
}

// AuthorizeClientIDSecret checks the client's credentials.
func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	if id != s.client.id || subtle.ConstantTimeCompare([]byte(secret), []byte(s.client.secret)) != 1 {
		return errors.New("idp: wrong client id or secret")
	}
	return nil
}

// SetUserinfoFromScopes is deprecated in op; SetUserinfoFromRequest does
// the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's claims.
func (s *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	return s.setUserinfo(info, req.GetSubject(), scopes)
}

// SetUserinfoFromToken answers the userinfo endpoint for a live access
// token.
func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	t, ok := s.accessTokens[tokenID]
	s.mu.Unlock()
	if !ok || t.subject != subject || time.Now().After(t.expires) {
		return errors.New("idp: access token is invalid or expired")
	}
	return s.setUserinfo(info, t.subject, t.scopes)
}

// SetIntrospectionFromToken answers the introspection endpoint (RFC 7662)
// for a live access token of clientID.
func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	s.mu.Lock()
	t, ok := s.accessTokens[tokenID]
	s.mu.Unlock()
	if !ok || t.subject != subject || t.clientID != clientID || time.Now().After(t.expires) {
		return errors.New("idp: access token is invalid or expired")
	}
	info := new(oidc.UserInfo)
	if err := s.setUserinfo(info, t.subject, t.scopes); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Scope = t.scopes
	resp.ClientID = t.clientID
	resp.Expiration = oidc.FromTime(t.expires)
	return nil
}

// setUserinfo sets the claims the granted scopes allow (OIDC Core 5.4;
// "groups" is not standard but widely used).
func (s *storage) setUserinfo(info *oidc.UserInfo, subject string, scopes []string) error {
	p, ok := s.people[subject]
	if !ok {
		return fmt.Errorf("idp: no person with subject %q", subject)
	}
	for _, scope := range scopes {
		switch scope {
		case oidc.ScopeOpenID:
			info.Subject = p.Subject
		case oidc.ScopeProfile:
			info.Name = p.Name
			info.PreferredUsername = p.Subject
		case oidc.ScopeEmail:
			info.Email = p.Email
			info.EmailVerified = true
		case scopeGroups:
			info.AppendClaims("groups", append([]string{}, p.Groups...))
		}
	}
	return nil
}

// GetPrivateClaimsFromScopes adds nothing: access tokens are opaque.
func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

var errJWTProfile = errors.New("idp: the JWT profile grant is not supported")

// GetKeyByIDAndClientID is for the JWT profile grant, which is not offered.
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errJWTProfile
}

// ValidateJWTProfileScopes is for the JWT profile grant, which is not
// offered.
func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errJWTProfile
}

// Health reports the storage healthy: it is memory.
func (s *storage) Health(context.Context) error { return nil }

// client is the one registered client: a confidential web application
// using the authorization code flow.
type client struct {
	id                     string
	secret                 string
	redirectURI            string
	postLogoutRedirectURIs []string
	loginURL               string
}

func (c *client) GetID() string                       { return c.id }
func (c *client) RedirectURIs() []string              { return []string{c.redirectURI} }
func (c *client) PostLogoutRedirectURIs() []string    { return c.postLogoutRedirectURIs }
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *client) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}
func (c *client) LoginURL(id string) string {
	return c.loginURL + "?" + url.Values{"authRequestID": {id}}.Encode()
}
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration      { return idTokenTTL }
func (c *client) DevMode() bool                       { return false }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) IsScopeAllowed(scope string) bool { return scope == scopeGroups }

// IDTokenUserinfoClaimsAssertion puts name, email and groups in the ID
// token itself, as most company providers do, so roomgate can decide
// without calling userinfo.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }

var (
	_ op.Storage                   = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest = (*storage)(nil)
	_ op.AuthRequest               = (*authRequest)(nil)
	_ op.RefreshTokenRequest       = (*refreshRequest)(nil)
	_ op.Client                    = (*client)(nil)
	_ op.SigningKey                = signingKey{}
	_ op.Key                       = publicKey{}
)
