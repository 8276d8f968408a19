// Package gateway is roomgate's HTTP server: the OIDC sign-in, the session,
// the room entry that turns a decision of package mapping into a Digital
// Samba room token, and the pages a person sees.
package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/internal/metrics"
	"github.com/roomgate/roomgate/internal/store"
	"github.com/roomgate/roomgate/mapping"
)

// ReservedPaths returns the first path segments roomgate serves itself, a
// new slice each call. No room may use one (config.Options.Reserved, which
// mapping checks), so a room can never shadow a route.
func ReservedPaths() []string { return slices.Clone(reservedPaths) }

// isReserved reports whether a first path segment is one of roomgate's
// own, whatever its letter case.
func isReserved(segment string) bool {
	return slices.ContainsFunc(reservedPaths, func(p string) bool { return strings.EqualFold(p, segment) })
}

var reservedPaths = []string{
	"auth", "healthz", "readyz", "metrics", "static", "demo", "guest", "admin",
	"favicon.ico", "robots.txt", ".well-known",
}

// Deps are what the gateway needs from the world around it.
type Deps struct {
	// Logger receives operational and audit logs. Nil discards them.
	Logger *slog.Logger
	// HTTPClient talks to the OIDC provider. Nil means a client whose
	// timeout is oidc.timeout: a person is waiting.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now. Tests move it to expire things.
	Now func() time.Time
	// Revocations is this replica's view of the sessions ended on purpose
	// (roomgate revoke, back-channel logout), fed by a shared store; nil
	// means a view of a store in this process alone.
	Revocations *store.Revocations
	// Metrics counts entries, denials, sign-ins and provider errors and
	// times requests; nil records nothing. The gateway never serves
	// /metrics itself: room paths and roles are not for anonymous visitors,
	// so serve exposes them on server.metrics_listen only.
	Metrics *metrics.Metrics
}

// Server is the gateway. It is an http.Handler; all its routes are in
// routes.
type Server struct {
	cfg       *config.Config
	log       *slog.Logger
	now       func() time.Time
	rules     atomic.Pointer[mapping.RuleSet]
	providers []*provider // the primary first (provider.go)
	sessions  *sessionStore
	flights   refreshFlights  // one refresh per refresh token at a time (recheck.go)
	callbacks failureThrottle // failed callbacks per client network (throttle.go)
	logouts   failureThrottle // refused back-channel logouts per client network
	// guestFailures counts refused invitation links per client network.
	guestFailures failureThrottle
	used          usedStates // states of finished callbacks (throttle.go)
	logins        *loginStore
	tokens        *tokenMinter
	pages         *pages
	revoked       *store.Revocations // sessions ended on purpose (backchannel.go)
	metrics       *metrics.Metrics
	mux           *http.ServeMux
	handler       http.Handler
	prefix        string       // public_url's path: where roomgate is mounted; "" for the root
	decisions     *recorder    // keeps decisions for the helpdesk console; nil: keep none
	rulesVersion  atomic.Value // string: when the rule set serving now was loaded
	reloadProblem atomic.Value // string: the problems of the last refused reload, "" after a good one
	csp           string       // the Content-Security-Policy of every page (withHeaders)
	guestCSP      string       // the guest page's: its form leads into the room
	chooserCSP    string       // the chooser's: its form leads through a provider's sign-in
}

// New builds a gateway for cfg. It does not contact the provider: that
// happens in Run and on the first sign-in, so roomgate starts even while the
// provider is down.
func New(cfg *config.Config, deps Deps) (*Server, error) {
	if cfg == nil || cfg.Rules == nil {
		return nil, errors.New("gateway: a validated config is required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.HTTPClient == nil {
		deps.HTTPClient = &http.Client{Timeout: cfg.OIDC.Timeout} // each call has its provider's own timeout besides
	}
	secure := cfg.Server.PublicURL.Scheme == "https"
	logins, err := newLoginStore(cfg.Session.Secrets, secure, deps.Now)
	if err != nil {
		return nil, err
	}
	// The pending sign-ins' cookies come with every request while they
	// live; the session and its token cookies have the rest.
	budget := maxCookieHeader - maxPendingLogins*logins.maxLoginCookieBytes()
	sessions, err := newSessionStore(cfg.Session, secure, deps.Now, budget)
	if err != nil {
		return nil, err
	}
	pg, err := newPages(cfg.Server.Contact, cfg.Server.Brand, cfg.Server.Languages)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	if deps.Revocations == nil {
		deps.Revocations = store.NewRevocations(store.NewMemory(), deps.Now, deps.Logger)
	}
	s := &Server{
		revoked:  deps.Revocations,
		cfg:      cfg.Settings(), // the rules are s.rules', which a reload replaces
		log:      deps.Logger,
		now:      deps.Now,
		sessions: sessions,
		logins:   logins,
		tokens:   newTokenMinter(cfg.DigitalSamba, deps.Now),
		pages:    pg,
		metrics:  deps.Metrics,
		mux:      http.NewServeMux(),
		prefix:   strings.TrimSuffix(cfg.Server.PublicURL.Path, "/"),
	}
	var ids []string
	for i := range max(len(cfg.Providers), 1) {
		p := newProvider(cfg, i, deps.HTTPClient, deps.Logger, deps.Now)
		p.metrics = deps.Metrics
		s.providers = append(s.providers, p)
		ids = append(ids, p.name())
	}
	deps.Metrics.SetProviders(ids)
	s.sessions.issuers = s.providers
	s.reloadProblem.Store("")
	s.decisions = newRecorder(deps.Revocations.Store(), cfg.Decisions.Keep, deps.Metrics, deps.Logger)
	s.SetRules(cfg.Rules)
	s.warnProvider(cfg)
	s.routes()
	s.handler = s.withRequest(s.withRecover(s.withHeaders(s.mux)))
	return s, nil
}

// routes is the whole surface of the gateway.
func (s *Server) routes() {
	s.mux.HandleFunc("GET /{$}", s.serveIndex)
	s.mux.HandleFunc("GET /{path}", s.serveRoom)
	s.mux.HandleFunc("GET /auth/login", s.serveLogin)
	s.mux.HandleFunc("GET /auth/callback", s.serveCallback)
	s.mux.HandleFunc("GET /auth/callback/{provider}", s.serveCallback)
	s.mux.HandleFunc("GET /auth/choose", s.serveChooser)
	s.mux.Handle("POST /auth/logout", http.NewCrossOriginProtection().Handler(http.HandlerFunc(s.serveLogout)))
	s.mux.HandleFunc("GET /auth/signed-out", s.serveSignedOut)
	s.mux.Handle("POST /auth/switch", http.NewCrossOriginProtection().Handler(http.HandlerFunc(s.serveSwitchAccount)))
	s.mux.HandleFunc("POST /auth/backchannel-logout", s.serveBackchannelLogout)
	// /{path}/invite and /guest/{token} overlap at /guest/invite, which
	// ServeMux refuses: one pattern takes both and tells them apart.
	s.mux.HandleFunc("GET /{first}/{second}", s.twoSegments(s.serveGuest, s.serveInvite))
	s.mux.Handle("POST /{first}/{second}", http.NewCrossOriginProtection().Handler(s.twoSegments(s.serveGuestEntry, s.serveCreateInvitation)))
	s.mux.Handle("POST /{path}/invite/revoke", http.NewCrossOriginProtection().Handler(http.HandlerFunc(s.serveRevokeInvitation)))
	s.adminRoutes()
	s.mux.HandleFunc("GET /healthz", s.serveHealthz)
	s.mux.HandleFunc("GET /readyz", s.serveReadyz)
	s.mux.Handle("GET /static/{file}", staticHandler(s.serveNotFound))
	s.mux.HandleFunc("/", s.serveNotFound)
}

// ServeHTTP serves one request. Under a path prefix (public_url's path),
// the routes see the path below it, and a request outside it is not
// roomgate's: a plain 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.prefix != "" {
		rest, ok := strings.CutPrefix(r.URL.Path, s.prefix)
		if !ok || rest != "" && rest[0] != '/' {
			http.NotFound(w, r)
			return
		}
		if rest == "" {
			rest = "/"
		}
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path, u.RawPath = rest, ""
		r2.URL = &u
		r = r2
	}
	s.handler.ServeHTTP(w, r)
}

// path is where the browser finds the route path (such as /standup) of
// this gateway: under public_url's path.
func (s *Server) path(p string) string { return s.prefix + p }

// redirect sends the browser to the route path p of this gateway.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, p string, code int) {
	http.Redirect(w, r, s.path(p), code)
}

// Store is the store the gateway keeps revocations, invitations and
// decisions in.
func (s *Server) Store() store.Store { return s.revoked.Store() }

// Rules is the rule set serving now.
func (s *Server) Rules() *mapping.RuleSet { return s.rules.Load() }

// SetRules swaps in a new, validated rule set. Requests already deciding
// finish with the set they started with; no request sees half of each.
func (s *Server) SetRules(rs *mapping.RuleSet) {
	if rs != nil {
		s.sessions.prepare(rs)
		s.rulesVersion.Store(s.now().UTC().Format(time.RFC3339))
		s.rules.Store(rs)
	}
}

// ReloadProblems tells the gateway the problems of the last refused reload
// of the config file (nil after a good one), for the helpdesk console.
func (s *Server) ReloadProblems(err error) {
	if err == nil {
		s.reloadProblem.Store("")
		return
	}
	s.reloadProblem.Store(err.Error())
}

// NewHTTPServer returns the http.Server that serve and demo both run h
// behind, with the timeouts and limits a server facing a company network
// needs: slow or oversized requests cannot hold connections, and a request
// whose headers pass MaxHeaderBytes gets a 431.
func NewHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

var _ http.Handler = (*Server)(nil)
