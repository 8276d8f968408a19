package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/roomgate/roomgate/internal/metrics"
)

// scrape returns the metrics page of the env's metrics, as serve shows it on
// server.metrics_listen.
func scrape(t *testing.T, e *env) string {
	t.Helper()
	rec := httptest.NewRecorder()
	e.gw.metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: got %d; want 200", rec.Code)
	}
	return rec.Body.String()
}

func TestMetricsCountDecisionsAndSignIns(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMetrics(metrics.New()))
	people := []struct {
		name, email string
		groups      []string
		want        int
	}{
		{"ada", "ada@example.com", []string{"engineering"}, http.StatusFound},
		{"bob", "bob@contractor.example", nil, http.StatusForbidden},
		{"cy", "cy@example.com", []string{"marketing"}, http.StatusForbidden},
	}
	for _, p := range people {
		e.provider.SetUser(user(p.name, p.email, p.groups...))
		resp, _ := e.enter(e.browser(), "/standup")
		if resp.StatusCode != p.want {
			t.Fatalf("%s entering /standup: got %d; want %d", p.name, resp.StatusCode, p.want)
		}
	}
	resp, err := e.srv.Client().Get(e.url("/auth/callback?state=forged&code=x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	body := scrape(t, e)
	for _, want := range []string{
		`roomgate_room_entries_total{role="attendee",room="standup"} 1`,
		`roomgate_room_denials_total{reason="deny_rule",room="standup"} 1`,
		`roomgate_room_denials_total{reason="no_rule",room="standup"} 1`,
		`roomgate_sign_ins_total{provider="oidc",result="success"} 3`,
		`roomgate_sign_ins_total{provider="oidc",result="state_invalid"} 1`,
		`roomgate_provider_errors_total{op="discovery",provider="oidc"} 0`,
		`roomgate_http_request_duration_seconds_count{code="302",route="GET /{path}"}`,
		`roomgate_http_request_duration_seconds_count{code="403",route="GET /{path}"} 2`,
		`roomgate_http_request_duration_seconds_count{code="400",route="GET /auth/callback"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "forged") {
		t.Error("a request's query became a label")
	}
}

func TestMetricsCountProviderErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMetrics(metrics.New()))
	e.provider.SetUnreachable(true)
	resp, _ := e.enter(e.browser(), "/standup")
	if resp.StatusCode < 500 {
		t.Fatalf("entering with the provider unreachable: got %d; want the provider-down page", resp.StatusCode)
	}
	if body := scrape(t, e); !strings.Contains(body, `roomgate_provider_errors_total{op="discovery",provider="oidc"} 1`) {
		t.Errorf("/metrics does not count the failed discovery:\n%s", body)
	}
}

// TestNoMetricsOnThePublicListener: the gateway's own handler never
// answers /metrics, with metrics or without, so room paths and roles are
// not for anyone who can reach the sign-in.
func TestNoMetricsOnThePublicListener(t *testing.T) {
	t.Parallel()
	for _, m := range []*metrics.Metrics{nil, metrics.New()} {
		e := newEnv(t, withMetrics(m))
		rec := httptest.NewRecorder()
		e.gw.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "roomgate_") {
			t.Errorf("GET /metrics on the gateway (metrics %v): got %d; want 404 without metrics", m != nil, rec.Code)
		}
	}
}

// TestMetricsRoutesAreNeverRawPaths: what no other route takes is counted
// under the catch-all "/", and an invented path under the room route:
// anyone can invent paths, so a path is never a label.
func TestMetricsRoutesAreNeverRawPaths(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMetrics(metrics.New()))
	for _, req := range []*http.Request{
		mustGet(t, e.url("/a/b/c")),
		mustGet(t, e.url("/invented-path")),
		httptest.NewRequest(http.MethodPost, e.url("/healthz"), nil),
	} {
		rec := httptest.NewRecorder()
		e.gw.ServeHTTP(rec, req)
	}
	body := scrape(t, e)
	for _, want := range []string{
		`roomgate_http_request_duration_seconds_count{code="404",route="/"} 2`,
		`roomgate_http_request_duration_seconds_count{code="302",route="GET /{path}"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "invented") || strings.Contains(body, "a/b/c") {
		t.Errorf("a raw request path became a label:\n%s", body)
	}
}

// TestMetricsCountPanics: a handler that panics is answered with the error
// page and counted as a 500; one that aborts the connection
// (http.ErrAbortHandler, which withRecover passes on) is counted too.
func TestMetricsCountPanics(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMetrics(metrics.New()))
	h := e.gw.withRequest(e.gw.withRecover(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/abort" {
			panic(http.ErrAbortHandler)
		}
		panic("boom")
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom", nil))
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "boom") {
		t.Errorf("a panic: got %d %q; want the 500 page, without the panic", rec.Code, rec.Body.String())
	}
	func() {
		defer func() {
			if v := recover(); v != http.ErrAbortHandler {
				t.Errorf("an aborted answer: recovered %v; want http.ErrAbortHandler passed on", v)
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/abort", nil))
	}()
	if body := scrape(t, e); !strings.Contains(body, `roomgate_http_request_duration_seconds_count{code="500",route="unmatched"} 2`) {
		t.Errorf("/metrics does not count both panics as 500s:\n%s", body)
	}
}
