package gateway

import (
	"net/url"
	"strings"
	"testing"
)

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp := e.browser().Do(t, mustGet(t, e.url("/no-such-room")))
	want := map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"Cache-Control":          "no-store",
		"X-Frame-Options":        "DENY",
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q; want %q", k, got, v)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
}

// TestEveryRequestIDIsInTheLog: the request id of every answer is in a log
// line, an access line with method, route, status and milliseconds, or a
// room entry's audit line instead of an access line; durations never
// appear as bare nanoseconds.
func TestEveryRequestIDIsInTheLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	b := e.browser()
	b.StopAt = func(u *url.URL) bool { return u.Host == roomHost }
	var ids []string
	var entry string // the room entry's, after the sign-in
	for _, path := range []string{"/standup", "/", "/no-such-room", "/healthz", "/static/roomgate.css", "/a/b/c"} {
		resp := b.Do(t, mustGet(t, e.url(path)))
		ids = append(ids, resp.Header.Get("X-Request-Id"))
		body(t, resp)
		if loc, err := resp.Location(); err == nil && loc.Host != roomHost {
			resp, _ = b.Follow(t, loc.String())
			body(t, resp)
			if loc, err := resp.Location(); err == nil && loc.Host == roomHost {
				entry = resp.Header.Get("X-Request-Id")
			}
		}
	}
	logs := e.logs.String()
	for _, id := range ids {
		if id == "" || !strings.Contains(logs, `"request_id":"`+id+`"`) {
			t.Errorf("request id %q is in no log line", id)
		}
	}
	if !strings.Contains(logs, `"msg":"request","request_id":"`+ids[3]+`","method":"GET","route":"GET /healthz","status":200,"duration_ms":`) {
		t.Errorf("no access line for /healthz:\n%s", logs)
	}
	// The room entry's id is in its audit line and in no access line.
	if n := strings.Count(logs, `"request_id":"`+entry+`"`); entry == "" || n != 1 ||
		!strings.Contains(logs, `"msg":"decision","audit":true,"request_id":"`+entry+`"`) {
		t.Errorf("room entry %q: %d lines with its id; want its audit line alone:\n%s", entry, n, logs)
	}
}
