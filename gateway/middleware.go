package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
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
	hsts := s.cfg.Server.PublicURL.Scheme == "https"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		if hsts {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}
