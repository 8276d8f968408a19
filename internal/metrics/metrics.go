// Package metrics is what roomgate tells Prometheus: room entries and
// denials, sign-ins, provider errors, config reloads and request latency,
// plus the Go runtime and process collectors, on a registry of its own.
//
// Every label takes values from a small fixed set or from the rule set
// (room paths), never from a request, so the number of series stays
// bounded whatever people type into the address bar.
//
// A nil *Metrics is valid and records nothing, so code and tests that do
// not care about metrics need none.
package metrics

import (
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DenialReason is why a person was kept out of a room.
type DenialReason string

// The reasons a person is kept out of a room.
const (
	// DenialNoRule: no rule of the room covers the person.
	DenialNoRule DenialReason = "no_rule"
	// DenialDenyRule: the first rule that covers the person says deny.
	DenialDenyRule DenialReason = "deny_rule"
)

// DenialClosed: a rule admits the person, but the room is outside its
// opening hours.
const DenialClosed DenialReason = "closed"

var denialReasons = []DenialReason{DenialNoRule, DenialDenyRule, DenialClosed}

// SignInResult is how a return from the provider ended.
type SignInResult string

// The ways a sign-in ends.
const (
	// SignInSuccess: the person is signed in.
	SignInSuccess SignInResult = "success"
	// SignInStateInvalid: the callback's state is missing, expired, forged
	// or from another browser.
	SignInStateInvalid SignInResult = "state_invalid"
	// SignInExchangeFailed: the provider refused to exchange the code.
	SignInExchangeFailed SignInResult = "exchange_failed"
	// SignInTokenInvalid: the ID token failed verification (signature,
	// issuer, audience, expiry, nonce).
	SignInTokenInvalid SignInResult = "token_invalid"
	// SignInProviderError: the provider sent the person back with an
	// error, or could not be reached.
	SignInProviderError SignInResult = "provider_error"
	// SignInRefused: the person was authenticated but roomgate will not
	// sign them in, e.g. a claim it needs is missing.
	SignInRefused SignInResult = "refused"
	// SignInThrottled: a client address finished more sign-ins than one
	// person does, and roomgate did not call the provider for it.
	SignInThrottled SignInResult = "throttled"
)

var signInResults = []SignInResult{
	SignInSuccess, SignInStateInvalid, SignInExchangeFailed,
	SignInTokenInvalid, SignInProviderError, SignInRefused, SignInThrottled,
}

// InvitationResult is what happened to a guest invitation.
type InvitationResult string

// The results of invitations.
const (
	InvitationCreated InvitationResult = "created" // an employee or admin made one
	InvitationEntered InvitationResult = "entered" // a guest entered the room with one
	InvitationRefused InvitationResult = "refused" // a link was refused: unknown, ended, used up or the room closed
	InvitationRevoked InvitationResult = "revoked" // its inviter or an admin ended one
)

var invitationResults = []InvitationResult{InvitationCreated, InvitationEntered, InvitationRefused, InvitationRevoked}

// ProviderOp is a call roomgate makes to the OIDC provider.
type ProviderOp string

// The calls to the provider that can fail.
const (
	ProviderDiscovery ProviderOp = "discovery" // the discovery document and keys
	ProviderExchange  ProviderOp = "exchange"  // code for tokens
	ProviderUserinfo  ProviderOp = "userinfo"  // the userinfo endpoint
	ProviderRefresh   ProviderOp = "refresh"   // refresh token for fresh claims
	ProviderRevoke    ProviderOp = "revoke"    // revoking the refresh token at logout (RFC 7009)
)

var providerOps = []ProviderOp{ProviderDiscovery, ProviderExchange, ProviderUserinfo, ProviderRefresh, ProviderRevoke}

// other stands in for a label value outside its fixed set, so a caller's
// mistake cannot add series without bound.
const other = "other"

// unmatched is the route of a request no pattern matched.
const unmatched = "unmatched"

// Metrics holds roomgate's metrics and the registry they are served from.
type Metrics struct {
	reg *prometheus.Registry

	roomEntries         *prometheus.CounterVec
	denials             *prometheus.CounterVec
	signIns             *prometheus.CounterVec
	invitations         *prometheus.CounterVec
	decisionsDropped    prometheus.Counter
	providerErrors      *prometheus.CounterVec
	reloads             *prometheus.CounterVec
	lastReloadSuccessTS prometheus.Gauge
	lastReloadOK        prometheus.Gauge
	requestDuration     *prometheus.HistogramVec
	requests            series[routeCode, prometheus.Observer] // of requestDuration
	entries             series[roomRole, prometheus.Counter]   // of roomEntries
	storeUp             prometheus.Gauge
	ready               prometheus.Gauge
	restartPending      prometheus.Gauge
	buildInfo           *prometheus.GaugeVec
	providerUp          *prometheus.GaugeVec
	providers           []string // the provider ids label values may name (SetProviders)
}

// New registers roomgate's metrics, and the Go runtime and process
// collectors, on a new registry.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		roomEntries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomgate_room_entries_total",
			Help: "Room tokens issued, by room path and Digital Samba role.",
		}, []string{"room", "role"}),
		denials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomgate_room_denials_total",
			Help: "Signed-in people kept out of a room, by room path and reason (no_rule, deny_rule, closed).",
		}, []string{"room", "reason"}),
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomgate_sign_ins_total",
			Help: "Returns from an OIDC provider, by provider id and result.",
		}, []string{"provider", "result"}),
		invitations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomgate_invitations_total",
			Help: "Guest invitations, by result (created, entered, refused, revoked).",
		}, []string{"result"}),
		decisionsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roomgate_decisions_dropped_total",
			Help: "Decisions not kept for the helpdesk console: its queue was full or the store refused them (the audit log still has every one).",
		}),
		providerErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomgate_provider_errors_total",
			Help: "Failed calls to an OIDC provider, by provider id and operation (discovery, exchange, userinfo, refresh, revoke).",
		}, []string{"provider", "op"}),
		providerUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "roomgate_provider_up",
			Help: "1 while an OIDC provider is discovered and answering, 0 while it is known down or not discovered yet, by provider id.",
		}, []string{"provider"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomgate_config_reloads_total",
			Help: "Config file reloads, by result (success, failure). A failed reload keeps the last good rule set.",
		}, []string{"result"}),
		lastReloadSuccessTS: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "roomgate_config_last_reload_success_timestamp_seconds",
			Help: "When the rule set serving now was loaded, in seconds since the Unix epoch.",
		}),
		lastReloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "roomgate_config_last_reload_successful",
			Help: "1 when the last load of the config file succeeded, 0 when it was refused and an older rule set is serving.",
		}),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "roomgate_ready",
			Help: "1 while /readyz answers 200 (rule set loaded, provider discovered, revocations loaded), else 0.",
		}),
		restartPending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "roomgate_config_restart_pending",
			Help: "1 when the file holds a change outside rooms that takes effect only after a restart.",
		}),
		buildInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "roomgate_build_info",
			Help: "Always 1, labelled with the version and the Go version roomgate was built with.",
		}, []string{"version", "goversion"}),
		storeUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "roomgate_store_up",
			Help: "1 while the revocation store answers; 0 while it does not (known revocations keep applying, new ones cannot be shared).",
		}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "roomgate_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route pattern and status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "code"}),
	}
	m.reg.MustRegister(
		m.roomEntries, m.denials, m.signIns, m.invitations, m.decisionsDropped, m.providerErrors, m.reloads, m.providerUp,
		m.lastReloadSuccessTS, m.lastReloadOK, m.requestDuration, m.storeUp, m.ready, m.restartPending, m.buildInfo,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	// Series that exist from the start read 0 instead of missing, so
	// rate() and alerts on them work before the first event.
	for _, r := range invitationResults {
		m.invitations.WithLabelValues(string(r))
	}
	m.reloads.WithLabelValues("success")
	m.reloads.WithLabelValues("failure")
	return m
}

// BuildInfo records the version roomgate runs.
func (m *Metrics) BuildInfo(version string) {
	if m == nil {
		return
	}
	m.buildInfo.WithLabelValues(version, runtime.Version()).Set(1)
}

// Ready records whether the gateway is ready.
func (m *Metrics) Ready(ready bool) {
	if m == nil {
		return
	}
	m.ready.Set(boolFloat(ready))
}

// RestartPending records whether a change outside rooms waits for a
// restart.
func (m *Metrics) RestartPending(pending bool) {
	if m == nil {
		return
	}
	m.restartPending.Set(boolFloat(pending))
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// StoreUp records whether the revocation store answers.
func (m *Metrics) StoreUp(up bool) {
	if m == nil {
		return
	}
	if up {
		m.storeUp.Set(1)
	} else {
		m.storeUp.Set(0)
	}
}

// RoomEntry counts a room token issued for room (its path) with role.
func (m *Metrics) RoomEntry(room, role string) {
	if m == nil {
		return
	}
	m.entrySeries(room, role).Inc()
}

// Denial counts a person kept out of room (its path) for reason.
func (m *Metrics) Denial(room string, reason DenialReason) {
	if m == nil {
		return
	}
	m.denials.WithLabelValues(room, known(reason, denialReasons)).Inc()
}

// SetProviders names the providers, by id, that sign-ins and provider
// errors are counted for; their series read 0 from the start. Another id
// is counted as other.
func (m *Metrics) SetProviders(ids []string) {
	if m == nil {
		return
	}
	m.providers = ids
	for _, id := range ids {
		for _, r := range signInResults {
			m.signIns.WithLabelValues(id, string(r))
		}
		for _, op := range providerOps {
			m.providerErrors.WithLabelValues(id, string(op))
		}
		m.providerUp.WithLabelValues(id).Set(0)
	}
}

// SignIn counts a return from the provider whose id is provider that
// ended with result.
func (m *Metrics) SignIn(provider string, result SignInResult) {
	if m == nil {
		return
	}
	m.signIns.WithLabelValues(known(provider, m.providers), known(result, signInResults)).Inc()
}

// ProviderUp records whether a provider is discovered and answering.
func (m *Metrics) ProviderUp(provider string, up bool) {
	if m == nil {
		return
	}
	v := 0.0
	if up {
		v = 1
	}
	m.providerUp.WithLabelValues(known(provider, m.providers)).Set(v)
}

// DecisionsDropped counts n decisions the console will not have.
func (m *Metrics) DecisionsDropped(n int) {
	if m == nil {
		return
	}
	m.decisionsDropped.Add(float64(n))
}

// Invitation counts what happened to a guest invitation.
func (m *Metrics) Invitation(result InvitationResult) {
	if m == nil {
		return
	}
	m.invitations.WithLabelValues(known(result, invitationResults)).Inc()
}

// ProviderError counts a failed call to the provider.
func (m *Metrics) ProviderError(provider string, op ProviderOp) {
	if m == nil {
		return
	}
	m.providerErrors.WithLabelValues(known(provider, m.providers), known(op, providerOps)).Inc()
}

// ConfigLoaded records the config file loaded at start, at time at: the
// reload gauges say success from the start, and no reload is counted.
func (m *Metrics) ConfigLoaded(at time.Time) {
	if m == nil {
		return
	}
	m.lastReloadOK.Set(1)
	m.lastReloadSuccessTS.Set(unixSeconds(at))
}

// Reload records a reload of the config file that ended at time at. Its
// signature fits reload.Watcher.OnResult.
func (m *Metrics) Reload(ok bool, at time.Time) {
	if m == nil {
		return
	}
	if !ok {
		m.reloads.WithLabelValues("failure").Inc()
		m.lastReloadOK.Set(0)
		return
	}
	m.reloads.WithLabelValues("success").Inc()
	m.lastReloadOK.Set(1)
	m.lastReloadSuccessTS.Set(unixSeconds(at))
}

// Handler serves the metrics in Prometheus' exposition format. On a nil
// *Metrics it answers 404.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Request records one answered request under its route, a pattern of the
// mux or "" for none ("unmatched"), and its status code. The raw path is
// never a label: anyone can invent paths.
func (m *Metrics) Request(route string, code int, took time.Duration) {
	if m == nil {
		return
	}
	if route == "" {
		route = unmatched
	}
	m.requestSeries(route, code).Observe(took.Seconds())
}

// series finds the child metrics of a vector in a map of its own:
// WithLabelValues hashes and checks the labels and allocates on every call,
// and Request and RoomEntry are on every request.
type series[K comparable, V any] struct {
	mu sync.RWMutex
	of map[K]V
}

// get returns the child for key, made by with the first time.
func (s *series[K, V]) get(key K, with func() V) V {
	s.mu.RLock()
	v, ok := s.of[key]
	s.mu.RUnlock()
	if ok {
		return v
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok = s.of[key]; !ok {
		if s.of == nil {
			s.of = map[K]V{}
		}
		v = with()
		s.of[key] = v
	}
	return v
}

func (m *Metrics) requestSeries(route string, code int) prometheus.Observer {
	return m.requests.get(routeCode{route, code}, func() prometheus.Observer {
		return m.requestDuration.WithLabelValues(route, strconv.Itoa(code))
	})
}

func (m *Metrics) entrySeries(room, role string) prometheus.Counter {
	return m.entries.get(roomRole{room, role}, func() prometheus.Counter {
		return m.roomEntries.WithLabelValues(room, role)
	})
}

type roomRole struct{ room, role string }

type routeCode struct {
	route string
	code  int
}

// known returns v when it is one of set, otherwise "other".
func known[T ~string](v T, set []T) string {
	for _, s := range set {
		if v == s {
			return string(v)
		}
	}
	return other
}

func unixSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}
