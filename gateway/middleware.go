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
	for _, p := range s.providers {
		if u, err := url.Parse(p.cfg.Issuer); err == nil && u.Host != "" && !strings.Contains(formAction, " "+u.Scheme+"://"+u.Host) {
			// Logout and the chooser's email box continue at a
			// provider; browsers apply form-action to the redirect that
			// follows the form.
			formAction += " " + u.Scheme + "://" + u.Host
		}
	}
	policy := func(formAction string) string {
		return strings.Join([]string{
			"default-src 'none'",
			"style-src 'self'",
			"img-src 'self'",
			"form-action " + formAction,
			"frame-ancestors 'none'",
			"base-uri 'none'",
		}, "; ")
	}
	csp := policy(formAction)
	s.csp = csp
	// A guest's form leads into the room: to Digital Samba.
	ds := s.cfg.DigitalSamba.URL
	s.guestCSP = policy("'self' " + ds.Scheme + "://" + ds.Host)
	// The chooser's email box leads through a provider's whole sign-in,
	// whose pages may be on origins roomgate cannot know (Hydra's login
	// app, Entra's federation with ADFS), and browsers hold every
	// redirect after a form to form-action. The page holds nothing but
	// the address typed, and its one form is roomgate's own.
	s.chooserCSP = policy("'self' *")
	fixed := map[string]string{
		"Content-Security-Policy": csp,
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
	}
	if s.cfg.Server.PublicURL.Scheme == "https" {
		fixed["Strict-Transport-Security"] = "max-age=31536000"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range fixed {
			h.Set(k, v)
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
// decision), which carries the same id.
func (s *Server) withRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var b [8]byte
		rand.Read(b[:])
		info := &requestInfo{id: hex.EncodeToString(b[:])}
		w.Header().Set("X-Request-Id", info.id)
		r = r.WithContext(context.WithValue(r.Context(), requestKey{}, info))
		sw := &statusWriter{ResponseWriter: w}
		served := false
		defer func() {
			if !served {
				// next panicked past withRecover (http.ErrAbortHandler):
				// the connection is cut, and counted as a 500.
				s.metrics.Request(r.Pattern, http.StatusInternalServerError, time.Since(start))
			}
		}()
		next.ServeHTTP(sw, r)
		served = true
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		took := time.Since(start)
		s.metrics.Request(r.Pattern, code, took)
		if info.audited {
			return // the decision's audit line is this request's line
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", info.id),
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", code),
			slog.Float64("duration_ms", float64(took.Microseconds())/1000),
		)
	})
}

// requestInfo is what withRequest keeps of one request: its id, and
// whether an audit line was written for it (see Server.audit).
type requestInfo struct {
	id      string
	audited bool
}

// requestKey is the context key of a request's requestInfo.
type requestKey struct{}

// requestID is the id withRequest gave r.
func requestID(r *http.Request) string {
	if c := requestOf(r); c != nil {
		return c.id
	}
	return ""
}

// requestOf is what withRequest keeps of r, or nil outside it.
func requestOf(r *http.Request) *requestInfo {
	c, _ := r.Context().Value(requestKey{}).(*requestInfo)
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
