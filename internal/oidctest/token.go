package oidctest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// TokenRequest is one request the gateway made to /token.
type TokenRequest struct {
	// GrantType is "authorization_code" or "refresh_token".
	GrantType string
	// AuthMethod is how the client authenticated: "client_secret_basic",
	// "client_secret_post", or "" when it did not.
	AuthMethod string
	// Form is the whole form body.
	Form url.Values
}

// accessGrant is what an access token stands for.
type accessGrant struct {
	subject string
	expires time.Time
}

// tokenError is an OAuth error answer from the token endpoint (RFC 6749 5.2).
type tokenError struct {
	status      int
	code        string
	description string
}

// TokenRequests returns every token request so far, oldest first.
func (p *Provider) TokenRequests() []TokenRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.tokenRequests)
}

// UserInfoRequests is how many userinfo requests were made so far, answered
// or not.
func (p *Provider) UserInfoRequests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.userInfoRequests
}

// serveToken is the token endpoint (RFC 6749 3.2, OIDC Core 3.1.3).
func (p *Provider) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": err.Error()})
		return
	}
	form := r.PostForm
	req := TokenRequest{GrantType: form.Get("grant_type"), Form: form}

	p.mu.Lock()
	defer p.mu.Unlock()
	var body map[string]any
	method, terr := p.authenticateClient(r)
	req.AuthMethod = method
	p.tokenRequests = append(p.tokenRequests, req)
	if terr == nil {
		switch req.GrantType {
		case "authorization_code":
			body, terr = p.redeemCode(form)
		case "refresh_token":
			body, terr = p.refresh(form)
		default:
			terr = &tokenError{http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant_type %q", req.GrantType)}
		}
	}
	if terr != nil {
		if terr.status == http.StatusUnauthorized && method == "client_secret_basic" {
			w.Header().Set("WWW-Authenticate", `Basic realm="oidctest"`)
		}
		writeJSON(w, terr.status, map[string]string{"error": terr.code, "error_description": terr.description})
		return
	}
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, body)
}

// authenticateClient checks client_secret_basic or client_secret_post
// (OIDC Core 9); using both at once is an error (RFC 6749 2.3).
func (p *Provider) authenticateClient(r *http.Request) (method string, terr *tokenError) {
	id, secret, basic := r.BasicAuth()
	_, posted := r.PostForm["client_secret"]
	switch {
	case basic && posted:
		return "", &tokenError{http.StatusBadRequest, "invalid_request", "more than one client authentication method"}
	case basic:
		method = "client_secret_basic"
		// The client encodes both with application/x-www-form-urlencoded
		// before Basic (RFC 6749 2.3.1).
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return method, &tokenError{http.StatusUnauthorized, "invalid_client", "bad encoding in Basic credentials"}
		}
	case posted:
		method = "client_secret_post"
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	default:
		return "", &tokenError{http.StatusUnauthorized, "invalid_client", "no client authentication"}
	}
	if id != p.clientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.clientSecret)) != 1 {
		return method, &tokenError{http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret"}
	}
	if formID := r.PostForm.Get("client_id"); formID != "" && formID != id {
		return method, &tokenError{http.StatusBadRequest, "invalid_request", "client_id in the form differs from the authenticated client"}
	}
	return method, nil
}

// codeVerifier is the syntax of a PKCE code verifier (RFC 7636 4.1).
var codeVerifier = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// redeemCode answers grant_type=authorization_code (RFC 6749 4.1.3). The
// caller holds p.mu.
func (p *Provider) redeemCode(form url.Values) (map[string]any, *tokenError) {
	invalid := func(format string, args ...any) *tokenError {
		return &tokenError{http.StatusBadRequest, "invalid_grant", fmt.Sprintf(format, args...)}
	}
	g, ok := p.codes[form.Get("code")]
	switch {
	case !ok:
		return nil, invalid("unknown code")
	case g.used:
		// A replayed code may mean it was stolen: revoke what it gave
		// (RFC 6749 4.1.2).
		for _, tok := range g.issued {
			delete(p.accessTokens, tok)
			delete(p.refreshTokens, tok)
		}
		return nil, invalid("code already used")
	case !p.now().Before(g.expires):
		return nil, invalid("code expired")
	case form.Get("redirect_uri") != g.redirectURI:
		return nil, invalid("redirect_uri %q; want %q", form.Get("redirect_uri"), g.redirectURI)
	}
	verifier := form.Get("code_verifier")
	if !codeVerifier.MatchString(verifier) {
		return nil, invalid("code_verifier missing or malformed (RFC 7636 4.1)")
	}
	sum := sha256.Sum256([]byte(verifier))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.codeChallenge {
		return nil, invalid("code_verifier does not match code_challenge (RFC 7636 4.6)")
	}
	g.used = true
	u, ok := p.users[g.subject]
	if !ok {
		return nil, invalid("user %q no longer exists", g.subject)
	}
	withRefresh := p.alwaysRefresh || slices.Contains(strings.Fields(g.scope), "offline_access")
	return p.issue(g, u, withRefresh, true)
}

// refresh answers grant_type=refresh_token (RFC 6749 6) with the user's
// current claims. Refresh tokens are single use: the answer carries a new
// one and the old one stops working. The new ID token keeps the original
// auth_time and nonce, as Keycloak's does (OIDC Core 12.2). The caller holds
// p.mu.
func (p *Provider) refresh(form url.Values) (map[string]any, *tokenError) {
	invalid := func(format string, args ...any) *tokenError {
		return &tokenError{http.StatusBadRequest, "invalid_grant", fmt.Sprintf(format, args...)}
	}
	old := form.Get("refresh_token")
	g, ok := p.refreshTokens[old]
	if !ok {
		return nil, invalid("unknown or revoked refresh token")
	}
	u, ok := p.users[g.subject]
	switch {
	case !ok:
		return nil, invalid("user %q no longer exists", g.subject)
	case u.RefreshDisabled:
		return nil, invalid("refresh disabled for user %q", g.subject)
	}
	if scope := form.Get("scope"); scope != "" {
		granted := strings.Fields(g.scope)
		for _, s := range strings.Fields(scope) {
			if !slices.Contains(granted, s) {
				return nil, &tokenError{http.StatusBadRequest, "invalid_scope", fmt.Sprintf("scope %q was not granted", s)}
			}
		}
	}
	delete(p.refreshTokens, old)
	return p.issue(g, u, true, p.idTokenOnRefresh)
}

// issue makes the tokens for a grant (OIDC Core 3.1.3.3). The caller holds
// p.mu.
func (p *Provider) issue(g *grant, u User, withRefresh, withIDToken bool) (map[string]any, *tokenError) {
	now := p.now()
	access := randomToken()
	p.accessTokens[access] = &accessGrant{subject: u.Subject, expires: now.Add(p.tokenTTL)}
	g.issued = append(g.issued, access)
	body := map[string]any{
		"access_token": access,
		"token_type":   "Bearer",
		"expires_in":   int(p.tokenTTL / time.Second),
		"scope":        g.scope,
	}
	if withIDToken {
		idToken, err := p.newIDToken(g, u)
		if err != nil {
			return nil, &tokenError{http.StatusInternalServerError, "server_error", err.Error()}
		}
		body["id_token"] = idToken
	}
	if withRefresh {
		refresh := randomToken()
		p.refreshTokens[refresh] = g
		g.issued = append(g.issued, refresh)
		body["refresh_token"] = refresh
	}
	return body, nil
}

// serveUserInfo is the userinfo endpoint (OIDC Core 5.3).
func (p *Provider) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.userInfoRequests++

	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	a, known := p.accessTokens[token]
	u, exists := User{}, false
	if known {
		u, exists = p.users[a.subject]
	}
	if !ok || !known || !p.now().Before(a.expires) || !exists {
		// RFC 6750 3.1.
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	claims := map[string]any{"sub": u.Subject}
	maps.Copy(claims, u.UserInfo)
	writeJSON(w, http.StatusOK, claims)
}

// serveRevoke is the revocation endpoint (RFC 7009 2): an authenticated
// client revokes a refresh token it was issued. An unknown token is not an
// error (2.2): the answer is 200 either way.
func (p *Provider) serveRevoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, terr := p.authenticateClient(r); terr != nil {
		writeJSON(w, terr.status, map[string]string{"error": terr.code, "error_description": terr.description})
		return
	}
	tok := r.PostForm.Get("token")
	p.revocations = append(p.revocations, r.PostForm.Get("token_type_hint"))
	delete(p.refreshTokens, tok)
	w.WriteHeader(http.StatusOK)
}

// Revocations returns the token_type_hint of every accepted revocation
// request, in order.
func (p *Provider) Revocations() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.revocations)
}
