package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCounters(t *testing.T) {
	t.Parallel()
	m := New()
	m.RoomEntry("standup", "moderator")
	m.RoomEntry("standup", "attendee")
	m.RoomEntry("standup", "attendee")
	m.Denial("standup", DenialNoRule)
	m.Denial("all-hands", DenialDenyRule)
	m.Denial("all-hands", DenialReason("made_up"))
	m.SetProviders([]string{"acme", "partner"})
	m.SignIn("acme", SignInSuccess)
	m.SignIn("partner", SignInStateInvalid)
	m.SignIn("nope", SignInResult("made_up"))
	m.ProviderError("partner", ProviderDiscovery)
	m.ProviderError("partner", ProviderDiscovery)
	m.ProviderError("acme", ProviderOp("made_up"))
	m.ProviderUp("acme", true)

	want := `
# HELP roomgate_room_entries_total Room tokens issued, by room path and Digital Samba role.
# TYPE roomgate_room_entries_total counter
roomgate_room_entries_total{role="attendee",room="standup"} 2
roomgate_room_entries_total{role="moderator",room="standup"} 1
# HELP roomgate_room_denials_total Signed-in people kept out of a room, by room path and reason (no_rule, deny_rule, closed).
# TYPE roomgate_room_denials_total counter
roomgate_room_denials_total{reason="deny_rule",room="all-hands"} 1
roomgate_room_denials_total{reason="no_rule",room="standup"} 1
roomgate_room_denials_total{reason="other",room="all-hands"} 1
# HELP roomgate_provider_up 1 while an OIDC provider is discovered and answering, 0 while it is known down or not discovered yet, by provider id.
# TYPE roomgate_provider_up gauge
roomgate_provider_up{provider="acme"} 1
roomgate_provider_up{provider="partner"} 0
`
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want),
		"roomgate_room_entries_total", "roomgate_room_denials_total", "roomgate_provider_up"); err != nil {
		t.Error(err)
	}
	for _, c := range []struct {
		vec    *prometheus.CounterVec
		labels []string
		want   float64
	}{
		{m.signIns, []string{"acme", "success"}, 1},
		{m.signIns, []string{"partner", "success"}, 0},
		{m.signIns, []string{"partner", "state_invalid"}, 1},
		{m.signIns, []string{"other", "other"}, 1}, // neither a provider nor a result it knows adds a series
		{m.providerErrors, []string{"partner", "discovery"}, 2},
		{m.providerErrors, []string{"acme", "discovery"}, 0},
		{m.providerErrors, []string{"acme", "other"}, 1},
	} {
		if got := testutil.ToFloat64(c.vec.WithLabelValues(c.labels...)); got != c.want {
			t.Errorf("%v = %v; want %v", c.labels, got, c.want)
		}
	}
	if n := testutil.CollectAndCount(m.signIns); n != 2*len(signInResults)+1 {
		t.Errorf("%d sign-in series; want every result for each provider, and one other", n)
	}
}

func TestReload(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 2, 15, 4, 5, 500_000_000, time.UTC)
	tests := []struct {
		name        string
		record      func(m *Metrics)
		wantOK      float64
		wantAt      float64
		wantSuccess float64
		wantFailure float64
	}{
		{
			name:   "loaded at start",
			record: func(m *Metrics) { m.ConfigLoaded(start) },
			wantOK: 1, wantAt: 1767366245.5,
		},
		{
			name: "refused reload keeps the time of the good one",
			record: func(m *Metrics) {
				m.ConfigLoaded(start)
				m.Reload(false, start.Add(time.Minute))
			},
			wantOK: 0, wantAt: 1767366245.5, wantFailure: 1,
		},
		{
			name: "good reload after a refused one",
			record: func(m *Metrics) {
				m.ConfigLoaded(start)
				m.Reload(false, start.Add(time.Minute))
				m.Reload(true, start.Add(2*time.Minute))
			},
			wantOK: 1, wantAt: 1767366365.5, wantSuccess: 1, wantFailure: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := New()
			tt.record(m)
			for _, c := range []struct {
				name      string
				got, want float64
			}{
				{"last_reload_successful", testutil.ToFloat64(m.lastReloadOK), tt.wantOK},
				{"last_reload_success_timestamp_seconds", testutil.ToFloat64(m.lastReloadSuccessTS), tt.wantAt},
				{`reloads_total{result="success"}`, testutil.ToFloat64(m.reloads.WithLabelValues("success")), tt.wantSuccess},
				{`reloads_total{result="failure"}`, testutil.ToFloat64(m.reloads.WithLabelValues("failure")), tt.wantFailure},
			} {
				if c.got != c.want {
					t.Errorf("%s: got %v; want %v", c.name, c.got, c.want)
				}
			}
		})
	}
}

// requests counts the requests recorded under route and code.
func requests(t *testing.T, m *Metrics, route, code string) uint64 {
	t.Helper()
	families, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "roomgate_http_request_duration_seconds" {
			continue
		}
		for _, metric := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range metric.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["route"] == route && labels["code"] == code {
				return metric.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}

// TestRequest: each request is counted under its route and code, the same
// series each time; no route is "unmatched".
func TestRequest(t *testing.T) {
	t.Parallel()
	m := New()
	for _, r := range []struct {
		route string
		code  int
	}{
		{"GET /{path}", 302}, {"GET /{path}", 302}, {"GET /{path}", 302}, {"GET /{path}", 403},
		{"GET /healthz", 200}, {"", 404}, {"", 405}, {"GET /panic", 500},
	} {
		m.Request(r.route, r.code, 3*time.Millisecond)
	}
	tests := []struct {
		route, code string
		want        uint64
	}{
		{"GET /{path}", "302", 3},
		{"GET /{path}", "403", 1},
		{"GET /healthz", "200", 1},
		{"GET /panic", "500", 1},
		{"unmatched", "404", 1},
		{"unmatched", "405", 1},
		{"", "404", 0},
	}
	for _, tt := range tests {
		if got := requests(t, m, tt.route, tt.code); got != tt.want {
			t.Errorf("route %q code %s: got %d requests; want %d", tt.route, tt.code, got, tt.want)
		}
	}
	if body := scrape(t, m); !strings.Contains(body, `roomgate_http_request_duration_seconds_bucket{code="302",route="GET /{path}",le="0.005"} 3`) {
		t.Errorf("the three 302s of 3 ms are not in the 5 ms bucket:\n%s", body)
	}
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: got %d; want 200", rec.Code)
	}
	return rec.Body.String()
}

func TestHandler(t *testing.T) {
	t.Parallel()
	m := New()
	m.SetProviders([]string{"acme"})
	m.ConfigLoaded(time.Now())
	body := scrape(t, m)
	for _, want := range []string{
		"roomgate_sign_ins_total{provider=\"acme\",result=\"success\"} 0",
		"roomgate_provider_up{provider=\"acme\"} 0",
		"roomgate_config_reloads_total{result=\"failure\"} 0",
		"roomgate_config_last_reload_successful 1",
		"go_goroutines ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestLint checks the names, units and help texts against Prometheus'
// conventions, with every metric holding data.
func TestLint(t *testing.T) {
	t.Parallel()
	m := New()
	m.RoomEntry("standup", "attendee")
	m.Denial("standup", DenialNoRule)
	m.Reload(true, time.Now())
	m.Request("GET /", http.StatusNotFound, time.Millisecond)
	problems, err := testutil.GatherAndLint(m.reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
	families, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		name := f.GetName()
		if !strings.HasPrefix(name, "roomgate_") && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") {
			t.Errorf("metric %s has no roomgate_ prefix", name)
		}
	}
}

func TestNilMetrics(t *testing.T) {
	t.Parallel()
	var m *Metrics
	m.RoomEntry("standup", "attendee")
	m.Denial("standup", DenialNoRule)
	m.SetProviders([]string{"acme"})
	m.SignIn("acme", SignInSuccess)
	m.ProviderError("acme", ProviderExchange)
	m.ProviderUp("acme", true)
	m.ConfigLoaded(time.Now())
	m.Reload(false, time.Now())

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil Handler: got %d; want 404", rec.Code)
	}
	m.Request("GET /", http.StatusOK, time.Millisecond)
}

// Two instances do not share a registry: tests of other packages can each
// have their own.
func TestInstancesAreIndependent(t *testing.T) {
	t.Parallel()
	a, b := New(), New()
	a.SetProviders([]string{"acme"})
	b.SetProviders([]string{"acme"})
	a.SignIn("acme", SignInSuccess)
	if got := testutil.ToFloat64(b.signIns.WithLabelValues("acme", "success")); got != 0 {
		t.Errorf("second instance: got %v sign-ins; want 0", got)
	}
}
