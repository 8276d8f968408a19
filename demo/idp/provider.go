// Package idp is the OpenID provider built into `roomgate demo`: a
// real provider (zitadel/oidc's op package: discovery, authorization code
// flow with PKCE, RS256-signed ID tokens, userinfo, refresh tokens, end
// session) whose sign-in page, instead of asking for a password, lets the
// visitor pick one of a few sample people.
//
// It keeps everything in memory and forgets it on restart. It is for a demo
// on one machine, never for signing real people in: anyone who reaches the
// page can be anyone on the list.
package idp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// Person is someone the visitor can sign in as.
type Person struct {
	// Subject is the ID token's sub: stable and unique among People.
	Subject string
	// Name is the name claim, e.g. "Ada Lovelace".
	Name string
	// Email is the email claim; it is always marked verified.
	Email string
	// Groups is the groups claim, in the ID token and in userinfo.
	Groups []string
	// About is one line on the sign-in page that says what this person
	// will see, e.g. "eng-leads: moderator in the stand-up".
	About string
}

// Config describes the provider and its one client.
type Config struct {
	// Issuer is the provider's issuer URL, e.g.
	// http://127.0.0.1:8080/demo/idp. The Provider serves its path and
	// everything below it, so it can share a listener with other handlers.
	Issuer string
	// ClientID and ClientSecret register the one client (roomgate). The
	// client authenticates with HTTP Basic or in the form body.
	ClientID     string
	ClientSecret string
	// RedirectURI is the client's only redirect URI (roomgate's
	// /auth/callback).
	RedirectURI string
	// PostLogoutRedirectURI, when set, is where the end-session endpoint
	// may send the browser back to.
	PostLogoutRedirectURI string
	// People are who can sign in, in the order the page lists them.
	People []Person
}

// Provider is the demo OpenID provider. It is an http.Handler for the
// issuer's path and below.
type Provider struct {
	issuer  string
	prefix  string // the issuer's path, without a trailing slash
	op      *op.Provider
	store   *storage
	login   *login
	handler http.Handler
}

// New builds a provider for cfg. It generates its signing key and token
// encryption key here, so every run has its own.
func New(cfg Config) (*Provider, error) {
	u, err := checkConfig(cfg)
	if err != nil {
		return nil, err
	}
	issuer := strings.TrimSuffix(cfg.Issuer, "/")
	store, err := newStorage(cfg, issuer)
	if err != nil {
		return nil, err
	}
	var crypto [32]byte
	rand.Read(crypto[:]) // never fails (crypto/rand, Go 1.24+)
	opConfig := &op.Config{
		CryptoKey:   crypto,
		CryptoKeyId: "demo",
		// RFC 7636: only S256 is offered, and storage refuses a request
		// without it.
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		DefaultLogoutRedirectURI: cfg.PostLogoutRedirectURI,
		SupportedScopes:          []string{"openid", "profile", "email", "groups", "offline_access"},
		SupportedClaims: []string{
			"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "at_hash", "c_hash", "amr", "azp",
			"name", "email", "email_verified", "groups",
		},
	}
	var opts []op.Option
	if u.Scheme == "http" {
		// The demo runs on a developer's machine, without TLS.
		opts = append(opts, op.WithAllowInsecure())
	}
	provider, err := op.NewProvider(opConfig, store, op.StaticIssuer(issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	p := &Provider{
		issuer: issuer,
		prefix: strings.TrimSuffix(u.Path, "/"),
		op:     provider,
		store:  store,
	}
	p.login, err = newLogin(store, cfg, func(ctx context.Context, id string) string {
		return op.AuthCallbackURL(provider)(op.ContextWithIssuer(ctx, issuer), id)
	})
	if err != nil {
		return nil, err
	}
	p.handler = http.StripPrefix(p.prefix, p.routes())
	return p, nil
}

// routes puts the sign-in page in front of the library's endpoints.
func (p *Provider) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+loginPath, p.login.serveForm)
	mux.Handle("POST "+loginPath, http.NewCrossOriginProtection().Handler(http.HandlerFunc(p.login.servePick)))
	mux.HandleFunc("GET "+stylePath, serveStyle)
	mux.Handle("/", p.op)
	return mux
}

// Issuer is the issuer URL, without a trailing slash.
func (p *Provider) Issuer() string { return p.issuer }

// ServeHTTP serves the issuer's path and below; anything else is not found.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != p.prefix && !strings.HasPrefix(r.URL.Path, p.prefix+"/") {
		http.NotFound(w, r)
		return
	}
	p.handler.ServeHTTP(w, r)
}

// checkConfig refuses a configuration the provider could not serve.
func checkConfig(cfg Config) (*url.URL, error) {
	u, err := url.Parse(cfg.Issuer)
	switch {
	case err != nil, u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return nil, fmt.Errorf("idp: issuer: want an absolute http or https URL, found %q", cfg.Issuer)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("idp: issuer: want no query or fragment, found %q", cfg.Issuer)
	case cfg.ClientID == "":
		return nil, errors.New("idp: client id is empty")
	case cfg.ClientSecret == "":
		return nil, errors.New("idp: client secret is empty")
	case cfg.RedirectURI == "":
		return nil, errors.New("idp: redirect URI is empty")
	case len(cfg.People) == 0:
		return nil, errors.New("idp: no people to sign in as")
	}
	var seen []string
	for i, person := range cfg.People {
		switch {
		case person.Subject == "":
			return nil, fmt.Errorf("idp: person %d (%q) has no subject", i, person.Name)
		case slices.Contains(seen, person.Subject):
			return nil, fmt.Errorf("idp: subject %q is used twice", person.Subject)
		}
		seen = append(seen, person.Subject)
	}
	return u, nil
}

var _ http.Handler = (*Provider)(nil)
