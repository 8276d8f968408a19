package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/internal/metrics"
)

// retryAfter is how long a failed discovery is remembered before a request
// may try again: meanwhile the 502 page comes at once, so an outage turns
// neither every page view into a connection attempt nor a person's wait
// into a timeout.
const retryAfter = 5 * time.Second

// provider is the company's OIDC provider as roomgate knows it after
// discovery. Discovery is lazy and retried: roomgate starts while the
// provider is down and becomes ready when it appears.
type provider struct {
	cfg      config.OIDC
	callback string
	client   *http.Client
	log      *slog.Logger
	now      func() time.Time
	metrics  *metrics.Metrics // nil records nothing

	found atomic.Pointer[discovered]
	// downSince is when a token or userinfo call last failed for want of
	// an answer (unix nanoseconds; 0: none lately): for retryAfter, the
	// calls that need the provider fail at once instead of timing out.
	downSince atomic.Int64

	mu      sync.Mutex // serialises discovery attempts
	lastTry time.Time
	lastErr error
}

// discovered is what discovery yields; immutable once built.
type discovered struct {
	oidc       *oidc.Provider
	verifier   *oidc.IDTokenVerifier
	oauth2     oauth2.Config
	endSession string   // empty when the provider offers no end-session endpoint
	revocation string   // RFC 7009 revocation endpoint; empty when there is none
	prompts    []string // prompt_values_supported (OpenID Connect Prompt Create 1.0)
	// issParam: the provider puts iss in every authorization response
	// (RFC 9207 3), so a callback without it is refused.
	issParam bool
}

func newProvider(cfg *config.Config, client *http.Client, log *slog.Logger, now func() time.Time) *provider {
	return &provider{
		cfg:      cfg.OIDC,
		callback: cfg.Server.PublicURL.String() + "/auth/callback",
		client:   client,
		log:      log,
		now:      now,
	}
}

// context returns ctx carrying the provider's HTTP client, which go-oidc
// and oauth2 both use.
func (p *provider) context(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, p.client)
}

// get returns the discovered provider, discovering it first if needed.
func (p *provider) get(ctx context.Context) (*discovered, error) {
	if d := p.found.Load(); d != nil {
		return d, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if d := p.found.Load(); d != nil {
		return d, nil
	}
	if p.lastErr != nil && p.now().Sub(p.lastTry) < retryAfter {
		return nil, p.lastErr
	}
	p.lastTry = p.now()
	d, err := p.discover(ctx)
	if err != nil {
		p.metrics.ProviderError(metrics.ProviderDiscovery)
		p.lastErr = err
		return nil, err
	}
	p.lastErr = nil
	p.found.Store(d)
	p.log.Info("provider discovered", "issuer", p.cfg.Issuer, "end_session", d.endSession != "")
	return d, nil
}

func (p *provider) discover(ctx context.Context) (*discovered, error) {
	// The provider keeps the context for its key set's later fetches, so it
	// must not be a request's context; the client's timeout bounds them.
	op, err := oidc.NewProvider(p.context(context.WithoutCancel(ctx)), p.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("gateway: discovering %s: %w", p.cfg.Issuer, err)
	}
	var extra struct {
		EndSession  string   `json:"end_session_endpoint"`
		Revocation  string   `json:"revocation_endpoint"`
		IssParam    bool     `json:"authorization_response_iss_parameter_supported"`
		AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
		Prompts     []string `json:"prompt_values_supported"`
	}
	if err := op.Claims(&extra); err != nil {
		return nil, fmt.Errorf("gateway: reading discovery of %s: %w", p.cfg.Issuer, err)
	}
	return &discovered{
		oidc: op,
		// OIDC Core 3.1.3.7: issuer, audience, signature, expiry. go-oidc
		// accepts only the asymmetric algorithms the provider advertises,
		// so "none" and HS256 tokens are refused.
		verifier: op.Verifier(&oidc.Config{ClientID: p.cfg.ClientID, Now: p.now}),
		oauth2: oauth2.Config{
			ClientID:     p.cfg.ClientID,
			ClientSecret: p.cfg.ClientSecret,
			Endpoint:     endpoint(op.Endpoint(), extra.AuthMethods),
			RedirectURL:  p.callback,
			Scopes:       p.cfg.Scopes,
		},
		endSession: extra.EndSession,
		revocation: extra.Revocation,
		prompts:    extra.Prompts,
		issParam:   extra.IssParam,
	}, nil
}

// endpoint fixes how roomgate authenticates at the token endpoint, so a
// refused code costs the provider one call, not oauth2's auto-detecting two:
// client_secret_basic, which OIDC Discovery makes the default when the
// provider lists no methods, unless the provider lists only
// client_secret_post.
func endpoint(e oauth2.Endpoint, methods []string) oauth2.Endpoint {
	e.AuthStyle = oauth2.AuthStyleInHeader
	if len(methods) > 0 && !slices.Contains(methods, "client_secret_basic") && slices.Contains(methods, "client_secret_post") {
		e.AuthStyle = oauth2.AuthStyleInParams
	}
	return e
}

// failed records that a call to the provider got no useful answer.
func (p *provider) failed() { p.downSince.Store(p.now().UnixNano()) }

// down reports whether a call failed so lately that another would too:
// the 502 page comes at once.
func (p *provider) down() bool {
	since := p.downSince.Load()
	return since != 0 && p.now().Sub(time.Unix(0, since)) < retryAfter
}

// ready reports whether discovery has succeeded.
func (p *provider) ready() bool { return p.found.Load() != nil }

// run discovers the provider in the background until it succeeds or ctx
// ends, backing off up to a minute between tries.
func (p *provider) run(ctx context.Context) {
	wait := retryAfter // get refuses to retry sooner anyway
	for {
		_, err := p.get(ctx)
		if err == nil {
			return
		}
		p.log.Warn("provider not reachable yet; will retry", "issuer", p.cfg.Issuer, "err", err, "retry_in", wait.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Minute)
	}
}

// Run does the gateway's background work until ctx ends: discovering the
// provider so readiness does not wait for the first visitor, and keeping
// the revocations current.
func (s *Server) Run(ctx context.Context) {
	go s.revoked.Run(ctx)
	s.provider.run(ctx)
}
