package oidctest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// AuthorizeRequest is one request the browser made to /authorize.
type AuthorizeRequest struct {
	ClientID            string
	RedirectURI         string
	ResponseType        string
	Scope               string
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              string
	// Query is the whole query string, for parameters not named above.
	Query url.Values
}

// LogoutRequest is one request the browser made to the end-session endpoint.
type LogoutRequest struct {
	IDTokenHint           string
	PostLogoutRedirectURI string
	State                 string
	ClientID              string
	// Query is the whole query string.
	Query url.Values
}

// grant is what an authorization code, and later a refresh token, stands for.
type grant struct {
	clientID      string
	redirectURI   string
	scope         string
	nonce         string
	codeChallenge string
	subject       string
	authTime      time.Time
	expires       time.Time // of the code
	used          bool      // the code was redeemed
	issued        []string  // access and refresh tokens made from the code
}

// AuthorizeRequests returns every authorize request so far, oldest first.
func (p *Provider) AuthorizeRequests() []AuthorizeRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.authorizeRequests)
}

// LogoutRequests returns every end-session request so far, oldest first.
func (p *Provider) LogoutRequests() []LogoutRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.logoutRequests)
}

// serveAuthorize is the authorization endpoint (OIDC Core 3.1.2). Nobody
// types a password: the user set by SetUser or NextUser signs in at once.
func (p *Provider) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := AuthorizeRequest{
		ClientID:            q.Get("client_id"),
		RedirectURI:         q.Get("redirect_uri"),
		ResponseType:        q.Get("response_type"),
		Scope:               q.Get("scope"),
		State:               q.Get("state"),
		Nonce:               q.Get("nonce"),
		CodeChallenge:       q.Get("code_challenge"),
		CodeChallengeMethod: q.Get("code_challenge_method"),
		Prompt:              q.Get("prompt"),
		Query:               q,
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	p.authorizeRequests = append(p.authorizeRequests, req)

	// An unknown client or redirect URI must not be redirected to
	// (RFC 6749 4.1.2.1): the person sees an error page at the provider.
	if req.ClientID != p.clientID {
		http.Error(w, fmt.Sprintf("oidctest: unknown client_id %q", req.ClientID), http.StatusBadRequest)
		return
	}
	if !slices.Contains(p.redirectURIs, req.RedirectURI) {
		http.Error(w, fmt.Sprintf("oidctest: redirect_uri %q is not registered (registered: %q)", req.RedirectURI, p.redirectURIs), http.StatusBadRequest)
		return
	}
	fail := func(code, description string) {
		redirect(w, r, req.RedirectURI, url.Values{
			"error":             {code},
			"error_description": {description},
			"state":             {req.State},
			"iss":               {p.Issuer()},
		})
	}
	switch {
	case req.ResponseType != "code":
		fail("unsupported_response_type", fmt.Sprintf("response_type %q; want %q", req.ResponseType, "code"))
		return
	case !slices.Contains(strings.Fields(req.Scope), "openid"):
		fail("invalid_scope", fmt.Sprintf("scope %q lacks openid", req.Scope))
		return
	case req.CodeChallenge == "":
		fail("invalid_request", "code_challenge is required (RFC 7636)")
		return
	case req.CodeChallengeMethod != "S256":
		fail("invalid_request", fmt.Sprintf("code_challenge_method %q; want S256", req.CodeChallengeMethod))
		return
	case p.authorizeError != "":
		fail(p.authorizeError, "set by the test")
		return
	case req.Prompt == "none" && p.loginRequired:
		fail("login_required", "no session at the provider")
		return
	}

	subject := p.current
	if len(p.next) > 0 {
		subject, p.next = p.next[0], p.next[1:]
	}
	p.loginRequired = false
	now := p.now()
	code := randomToken()
	p.codes[code] = &grant{
		clientID:      req.ClientID,
		redirectURI:   req.RedirectURI,
		scope:         req.Scope,
		nonce:         req.Nonce,
		codeChallenge: req.CodeChallenge,
		subject:       subject,
		authTime:      now,
		expires:       now.Add(codeTTL),
	}
	// iss tells the client which provider answered (RFC 9207).
	redirect(w, r, req.RedirectURI, url.Values{"code": {code}, "state": {req.State}, "iss": {p.Issuer()}})
}

// serveLogout is the end-session endpoint (OIDC RP-Initiated Logout 1.0):
// it ends the person's session at the provider and sends them on to
// post_logout_redirect_uri when there is one.
func (p *Provider) serveLogout(w http.ResponseWriter, r *http.Request) {
	if !p.endSession {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	req := LogoutRequest{
		IDTokenHint:           q.Get("id_token_hint"),
		PostLogoutRedirectURI: q.Get("post_logout_redirect_uri"),
		State:                 q.Get("state"),
		ClientID:              q.Get("client_id"),
		Query:                 q,
	}
	p.mu.Lock()
	p.logoutRequests = append(p.logoutRequests, req)
	p.loginRequired = true
	p.mu.Unlock()

	if req.PostLogoutRedirectURI == "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "You are signed out.")
		return
	}
	target, err := url.Parse(req.PostLogoutRedirectURI)
	if err != nil || !target.IsAbs() {
		http.Error(w, fmt.Sprintf("oidctest: post_logout_redirect_uri %q is not an absolute URL", req.PostLogoutRedirectURI), http.StatusBadRequest)
		return
	}
	params := url.Values{}
	if req.State != "" {
		params.Set("state", req.State)
	}
	redirect(w, r, req.PostLogoutRedirectURI, params)
}

// redirect sends the browser to target with params added to its query;
// empty values are left out.
func redirect(w http.ResponseWriter, r *http.Request, target string, params url.Values) {
	u, err := url.Parse(target)
	if err != nil {
		http.Error(w, fmt.Sprintf("oidctest: bad redirect target %q", target), http.StatusBadRequest)
		return
	}
	q := u.Query()
	for k, vs := range params {
		for _, v := range vs {
			if v != "" {
				q.Add(k, v)
			}
		}
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}
