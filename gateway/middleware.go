package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"
)

// withRecover turns a panic into a logged error and a clean error page: a
// person never sees a stack trace.
func (s *Server) withRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			s.log.Error("panic serving request", "request_id", requestID(r), "panic", v, "stack", string(debug.Stack()))
			s.fail(w, r, http.StatusInternalServerError, pageInternal, nil)
		}()
		next.ServeHTTP(w, r)
	})
}

// withHeaders sets the security headers every answer carries. Pages are
// personal and room redirects carry a token, so nothing is cached and no
// Referer leaves the gateway.
func (s *Server) withHeaders(next http.Handler) http.Handler {
	formAction := "'self'"
	if u, err := url.Parse(s.cfg.OIDC.Issuer); err == nil && u.Host != "" {
		// Logout continues at the provider; browsers apply form-action
		// to the redirect that follows the form.
		formAction += " " + u.Scheme + "://" + u.Host
	}
	csp := strings.Join([]string{
		"default-src 'none'",
		"style-src 'self'",
		"img-src 'self'",
		"form-action " + formAction,
		"frame-ancestors 'none'",
		"base-uri 'none'",
	}, "; ")
	// The values are built once and shared by every answer: each slice has
	// no room to grow, so a handler's Add copies it instead of writing into
	// it, and Set replaces it. That spares the hot path an allocation per
	// header per request.
	fixed := map[string][]string{
		"Content-Security-Policy": {csp},
		"X-Content-Type-Options":  {"nosniff"},
		"X-Frame-Options":         {"DENY"},
		"Referrer-Policy":         {"no-referrer"},
		"Cache-Control":           {"no-store"},
	}
	if s.cfg.Server.PublicURL.Scheme == "https" {
		fixed["Strict-Transport-Security"] = []string{"max-age=31536000"}
	}
	type header struct {
		key   string
		value []string
	}
	var headers []header // a slice, not the map: ranging over a map costs more
	for k, v := range fixed {
		headers = append(headers, header{k, v[:1:1]})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for _, f := range headers {
			h[f.key] = f.value
		}
		next.ServeHTTP(w, r)
	})
}

// withRequest is the outside of every answer. It gives the request an id,
// returned in X-Request-Id, shown on error pages and written in every log
// line about the request. When the answer is done it records it: in the
// metrics under its route and status, and in the access log (method,
// route, status, milliseconds and the id a person may read out from a
// page), unless an audit line was written for it (a room entry's
// decision), which carries the same id. It allocates once for all of that
// (see exchange).
func (s *Server) withRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		x := &exchange{}
		x.w.ResponseWriter = w
		x.ctx.Context = r.Context()
		var b [8]byte
		rand.Read(b[:])
		x.ctx.id = hex.EncodeToString(b[:])
		x.idHeader[0] = x.ctx.id
		w.Header()["X-Request-Id"] = x.idHeader[:]
		r = r.WithContext(&x.ctx)
		served := false
		defer func() {
			if !served {
				// next panicked past withRecover (http.ErrAbortHandler):
				// the connection is cut, and counted as a 500.
				s.metrics.Request(r.Pattern, http.StatusInternalServerError, time.Since(start))
				return
			}
		}()
		next.ServeHTTP(&x.w, r)
		served = true
		code := x.w.code
		if code == 0 {
			code = http.StatusOK
		}
		took := time.Since(start)
		s.metrics.Request(r.Pattern, code, took)
		if x.ctx.audited {
			return // the decision's audit line is this request's line
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", x.ctx.id),
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", code),
			slog.Float64("duration_ms", float64(took.Microseconds())/1000),
		)
	})
}

// exchange is what withRequest keeps of one request, in one allocation:
// the writer that remembers the status, the context that holds the id,
// and the id's header value.
type exchange struct {
	w        statusWriter
	ctx      requestContext
	idHeader [1]string
}

// requestContext is the request's context with its id, and whether an
// audit line was written for it (see Server.audit).
type requestContext struct {
	context.Context
	id      string
	audited bool
}

type ctxKey int

const requestIDKey ctxKey = iota

// Value returns the requestContext itself for requestIDKey: a pointer, so
// asking for the id allocates nothing.
func (c *requestContext) Value(key any) any {
	if key == requestIDKey {
		return c
	}
	return c.Context.Value(key)
}

// requestID is the id withRequest gave r.
func requestID(r *http.Request) string {
	if c := requestOf(r); c != nil {
		return c.id
	}
	return ""
}

// requestOf is the context withRequest gave r, or nil outside it.
func requestOf(r *http.Request) *requestContext {
	c, _ := r.Context().Value(requestIDKey).(*requestContext)
	return c
}

// statusWriter remembers the status an answer was given.
type statusWriter struct {
	http.ResponseWriter
	code int // 0 until the header is written
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 && code >= 200 { // 1xx are informational; the real answer follows
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
