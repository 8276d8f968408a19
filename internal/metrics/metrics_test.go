package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
	m.SignIn(SignInSuccess)
	m.SignIn(SignInStateInvalid)
	m.SignIn(SignInResult("made_up"))
	m.ProviderError(ProviderDiscovery)
	m.ProviderError(ProviderDiscovery)
	m.ProviderError(ProviderOp("made_up"))

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
# HELP roomgate_sign_ins_total Returns from the OIDC provider, by result.
# TYPE roomgate_sign_ins_total counter
roomgate_sign_ins_total{result="exchange_failed"} 0
roomgate_sign_ins_total{result="other"} 1
roomgate_sign_ins_total{result="provider_error"} 0
roomgate_sign_ins_total{result="refused"} 0
roomgate_sign_ins_total{result="state_invalid"} 1
roomgate_sign_ins_total{result="success"} 1
roomgate_sign_ins_total{result="throttled"} 0
roomgate_sign_ins_total{result="token_invalid"} 0
# HELP roomgate_provider_errors_total Failed calls to the OIDC provider, by operation (discovery, exchange, userinfo, refresh, revoke).
# TYPE roomgate_provider_errors_total counter
roomgate_provider_errors_total{op="discovery"} 2
roomgate_provider_errors_total{op="exchange"} 0
roomgate_provider_errors_total{op="other"} 1
roomgate_provider_errors_total{op="refresh"} 0
roomgate_provider_errors_total{op="revoke"} 0
roomgate_provider_errors_total{op="userinfo"} 0
`
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want),
		"roomgate_room_entries_total", "roomgate_room_denials_total",
		"roomgate_sign_ins_total", "roomgate_provider_errors_total"); err != nil {
		t.Error(err)
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
	m.ConfigLoaded(time.Now())
	body := scrape(t, m)
	for _, want := range []string{
		"roomgate_sign_ins_total{result=\"success\"} 0",
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
	m.SignIn(SignInSuccess)
	m.ProviderError(ProviderExchange)
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
	a.SignIn(SignInSuccess)
	if got := testutil.ToFloat64(b.signIns.WithLabelValues("success")); got != 0 {
		t.Errorf("second instance: got %v sign-ins; want 0", got)
	}
}
