package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/internal/metrics"
)

// retryAfter is how long after a failed call the provider is tried again.
// Meanwhile it is known down: the 502 page comes at once, so an outage
// turns neither every page view into a connection attempt nor a person's
// wait into a timeout.
const retryAfter = 5 * time.Second

// downWait is the most a request waits, while the provider is known down,
// for the one attempt that finds out whether it is back: a person sees the
// 502 page in under half a second, or enters if the provider answers.
const downWait = 250 * time.Millisecond

// errKnownDown answers requests while the provider is known down and no
// attempt may start yet.
var errKnownDown = errors.New("gateway: the provider failed moments ago; not calling it again yet")

// provider is the company's OIDC provider as roomgate knows it after
// discovery. Discovery is lazy and retried: roomgate starts while the
// provider is down and becomes ready when it appears.
//
// Its health is one state for every request: after a call fails for the
// provider's own reasons (refused, timed out, 5xx) it is known down, and
// requests get the 502 page at once; one attempt at a time, never sooner
// than retryAfter after the last, finds out whether it is back. Attempts
// run on their own context with their own timeout, so neither a person
// closing a tab nor a crowd of waiting requests decides when they end.
type provider struct {
	cfg config.OIDC
	// id is the provider's id in session identities, revocations and
	// rules: "" for the primary, whose people are as they were before
	// there were several; qual is what its people's ids are qualified
	// with: "" for the primary, "ID:" for another.
	id, qual string
	callback string
	client   *http.Client
	log      *slog.Logger
	now      func() time.Time
	metrics  *metrics.Metrics // nil records nothing

	found atomic.Pointer[discovered]

	mu      sync.Mutex
	outage  bool      // the last call failed for the provider's own reasons
	lastTry time.Time // when the last failure happened or the last attempt began
	lastErr error
	running *attempt // the discovery or probe under way, or nil
}

// attempt is one discovery or probe; done closes when err is set.
type attempt struct {
	done chan struct{}
	err  error
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
	// logoutKeys checks back-channel logout tokens (logoutkeys.go).
	logoutKeys *logoutKeys
	// algorithms are the signing algorithms the provider names, of those
	// roomgate accepts.
	algorithms []string
}

func newProvider(cfg *config.Config, i int, client *http.Client, log *slog.Logger, now func() time.Time) *provider {
	o := cfg.OIDC // the primary's settings
	if i > 0 {
		o = cfg.Providers[i]
	}
	p := &provider{
		cfg:      o,
		callback: cfg.Server.PublicURL.String() + cfg.CallbackPath(i),
		client:   client,
		log:      log.With("provider", o.ID),
		now:      now,
	}
	if i > 0 {
		p.id, p.qual = p.cfg.ID, p.cfg.ID+":"
	}
	return p
}

// name is the provider's id as logs and metrics say it.
func (p *provider) name() string { return p.cfg.ID }

// context returns ctx carrying the provider's HTTP client, which go-oidc
// and oauth2 both use.
func (p *provider) context(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, p.client)
}

// call returns the context for calls to the provider made on behalf of a
// request: they keep their own timeout and do not end when the request
// does, so a person closing a tab (or a stranger hanging up on purpose)
// never looks like a provider outage.
func (p *provider) call(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(p.context(context.WithoutCancel(ctx)), timeout)
}

// get returns the discovered provider when it can be called now. A
// request never waits longer than the attempt under way has left of its
// own timeout, and while the provider is known down at most downWait.
func (p *provider) get(ctx context.Context) (*discovered, error) {
	d := p.found.Load()
	p.mu.Lock()
	if d != nil && !p.outage {
		p.mu.Unlock()
		return d, nil
	}
	a, down := p.running, p.outage
	if a == nil {
		if down && p.now().Sub(p.lastTry) < retryAfter {
			err := p.lastErr
			p.mu.Unlock()
			return nil, fmt.Errorf("%w: %w", errKnownDown, err)
		}
		a = p.startLocked()
	}
	p.mu.Unlock()

	var timeout <-chan time.Time
	if down {
		t := time.NewTimer(downWait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-a.done:
		if a.err != nil {
			return nil, a.err
		}
		return p.found.Load(), nil
	case <-timeout:
		return nil, fmt.Errorf("%w: %w", errKnownDown, p.lastError())
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// lastError is the failure that made the provider known down.
func (p *provider) lastError() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastErr
}

// startLocked starts an attempt in the background: discovery until it has
// succeeded once, then a fetch of the discovery document. p.mu is held.
func (p *provider) startLocked() *attempt {
	a := &attempt{done: make(chan struct{})}
	p.running = a
	p.lastTry = p.now()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), p.cfg.Timeout)
		defer cancel()
		var err error
		if p.found.Load() == nil {
			var d *discovered
			if d, err = p.discover(ctx); err == nil {
				p.found.Store(d)
				p.log.Info("provider discovered", "issuer", p.cfg.Issuer, "end_session", d.endSession != "")
			} else {
				p.metrics.ProviderError(p.name(), metrics.ProviderDiscovery)
			}
		} else {
			err = p.probe(p.context(ctx))
		}
		p.mu.Lock()
		p.running = nil
		if err != nil {
			p.outage, p.lastErr, p.lastTry = true, err, p.now()
		} else if p.outage {
			p.outage, p.lastErr = false, nil
			p.log.Info("provider answers again", "issuer", p.cfg.Issuer)
		}
		p.mu.Unlock()
		p.metrics.ProviderUp(p.name(), err == nil)
		a.err = err
		close(a.done)
	}()
	return a
}

// probe asks for the discovery document: an answer means the provider is
// back.
func (p *provider) probe(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(p.cfg.Issuer, "/")+"/.well-known/openid-configuration", nil)
	if err != nil {
		return fmt.Errorf("gateway: probing %s: %w", p.cfg.Issuer, err)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("gateway: probing %s: %w", p.cfg.Issuer, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("gateway: probing %s: %s", p.cfg.Issuer, resp.Status)
	}
	return nil
}

func (p *provider) discover(ctx context.Context) (*discovered, error) {
	// go-oidc keeps the client, not the context, for its key set's later
	// fetches, so the attempt's timeout bounds discovery alone.
	op, err := oidc.NewProvider(p.context(ctx), p.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("gateway: discovering %s: %w", p.cfg.Issuer, err)
	}
	var extra struct {
		EndSession  string   `json:"end_session_endpoint"`
		Revocation  string   `json:"revocation_endpoint"`
		IssParam    bool     `json:"authorization_response_iss_parameter_supported"`
		AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
		Prompts     []string `json:"prompt_values_supported"`
		JWKS        string   `json:"jwks_uri"`
		Algorithms  []string `json:"id_token_signing_alg_values_supported"`
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
		logoutKeys: &logoutKeys{url: extra.JWKS, client: p.client, now: p.now, timeout: p.cfg.Timeout},
		algorithms: signingAlgorithms(extra.Algorithms),
	}, nil
}

// signingAlgorithms are those of named that roomgate accepts, or every
// asymmetric one when the provider names none: its keys decide then.
func signingAlgorithms(named []string) []string {
	var algs []string
	for _, a := range asymmetric {
		if len(named) == 0 || slices.Contains(named, string(a)) {
			algs = append(algs, string(a))
		}
	}
	return algs
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

// failed records a call to the provider that went wrong, and reports
// whether it was the provider's fault: then the provider is known down for
// retryAfter. A refusal (4xx) is an answer, and a call cut short by its
// caller says nothing about the provider.
func (p *provider) failed(err error) bool {
	if !providerFault(err) {
		return false
	}
	p.mu.Lock()
	p.outage, p.lastErr, p.lastTry = true, err, p.now()
	p.mu.Unlock()
	p.metrics.ProviderUp(p.name(), false)
	return true
}

// up reports whether the provider is discovered and not known down.
func (p *provider) up() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.found.Load() != nil && !p.outage
}

// refusal is how go-oidc words an answer below 500 from userinfo.
var refusal = regexp.MustCompile(`^[1-4][0-9][0-9] [^:]*: `)

// providerFault reports whether err means the provider did not answer
// usefully: no connection, no answer within the timeout, or a 5xx.
func providerFault(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.StatusCode >= 500
	}
	// go-oidc reports a userinfo answer other than 200 as "STATUS: body".
	var last error
	for e := err; e != nil; e = errors.Unwrap(e) {
		last = e
	}
	return !refusal.MatchString(last.Error())
}

// ready reports whether discovery has succeeded.
func (p *provider) ready() bool { return p.found.Load() != nil }

// run discovers the provider in the background until it succeeds or ctx
// ends, so readiness does not wait for the first visitor.
func (p *provider) run(ctx context.Context) {
	wait := retryAfter
	for {
		_, err := p.get(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		if !errors.Is(err, errKnownDown) {
			p.log.Warn("provider not reachable yet; will retry", "issuer", p.cfg.Issuer, "err", err, "retry_in", wait)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Minute)
	}
}

// Run does the gateway's background work until ctx ends: discovering the
// providers so readiness does not wait for the first visitor, and keeping
// the revocations current.
func (s *Server) Run(ctx context.Context) {
	go s.revoked.Run(ctx)
	var wg sync.WaitGroup
	for _, p := range s.providers {
		wg.Go(func() { p.run(ctx) })
	}
	wg.Wait()
}

// primary is the first provider: /readyz needs it.
func (s *Server) primary() *provider { return s.providers[0] }

// providerOf returns the provider that signed id in (its id; "" is the
// primary), or nil when there is none such now.
func (s *Server) providerOf(id string) *provider {
	for _, p := range s.providers {
		if p.id == id {
			return p
		}
	}
	return nil
}
