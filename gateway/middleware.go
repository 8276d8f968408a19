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

type ctxKey int

const requestIDKey ctxKey = iota

// withRequestID gives every request an id, returned in X-Request-Id, shown
// on error pages and written in every log line about the request.
func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [8]byte
		rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

// requestID is the id withRequestID gave r.
func requestID(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey).(string)
	return id
}

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
	for k, v := range fixed {
		fixed[k] = v[:1:1]
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range fixed {
			h[k] = v
		}
		next.ServeHTTP(w, r)
	})
}

// accessWriter remembers the status an answer was given.
type accessWriter struct {
	http.ResponseWriter
	code int
}

func (w *accessWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *accessWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// withAccessLog writes one line per request that has no audit line of its
// own: method, route pattern, status, duration in milliseconds and the
// request id a page shows, so an id a person reads out can always be found.
// Room entries that decided are left to their audit line, which carries
// the same id.
func (s *Server) withAccessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		aw := &accessWriter{ResponseWriter: w}
		next.ServeHTTP(aw, r)
		if r.Pattern == "GET /{path}" && (aw.code == http.StatusForbidden ||
			aw.code == http.StatusFound && strings.HasPrefix(aw.Header().Get("Location"), s.tokens.base+"/")) {
			return // the decision's audit line
		}
		code := aw.code
		if code == 0 {
			code = http.StatusOK
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", requestID(r)),
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", code),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		)
	})
}
