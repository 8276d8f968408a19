package gateway

import (
	"net/http"
	"sync"
	"time"

	"github.com/roomgate/roomgate/internal/metrics"
)

// Every callback that carries a code makes roomgate call the provider's
// token endpoint with its own client credentials. A browser's callback is
// refused before that call unless it carries a sign-in this browser started
// (loginStore.take), whose state has not been used before (usedStates), and
// unless its client address has callbacks to spare (callbackThrottle). So
// anonymous requests cannot spend the provider's quota or rate limit in
// roomgate's name.

// Callback budget per client address: a burst for an office behind one
// address signing in at nine, then a steady rate far above any one
// person's.
const (
	callbackBurst = 60
	callbackEvery = time.Second // one more callback per this
)

// callbackThrottle is a token bucket per client address.
type callbackThrottle struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

// allow takes one callback from addr's bucket, and reports whether there
// was one.
func (c *callbackThrottle) allow(addr string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buckets == nil {
		c.buckets = make(map[string]*bucket)
	}
	full := time.Duration(callbackBurst) * callbackEvery
	if now.Sub(c.swept) > full {
		// A bucket left alone this long is full again: forget it.
		for k, b := range c.buckets {
			if now.Sub(b.at) > full {
				delete(c.buckets, k)
			}
		}
		c.swept = now
	}
	b, ok := c.buckets[addr]
	if !ok {
		b = &bucket{tokens: callbackBurst, at: now}
		c.buckets[addr] = b
	}
	b.tokens = min(callbackBurst, b.tokens+float64(now.Sub(b.at))/float64(callbackEvery))
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// maxUsedStates bounds usedStates: at the throttle's rate, more addresses
// than any company has. Past it, callbacks are refused (fail closed) until
// old states expire.
const maxUsedStates = 200_000

// usedStates remembers the states of finished callbacks for as long as
// their login cookie could live, so a copy of the cookie cannot be replayed
// at the callback, not even by a client that ignores Set-Cookie.
type usedStates struct {
	mu    sync.Mutex
	until map[string]time.Time
}

// use marks state used and reports whether it was unused.
func (u *usedStates) use(state string, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.until == nil {
		u.until = make(map[string]time.Time)
	}
	if t, ok := u.until[state]; ok && now.Before(t) {
		return false
	}
	if len(u.until) >= maxUsedStates {
		for k, t := range u.until {
			if !now.Before(t) {
				delete(u.until, k)
			}
		}
		if len(u.until) >= maxUsedStates {
			return false
		}
	}
	u.until[state] = now.Add(loginTTL)
	return true
}

// callbackAllowed says whether r's callback may reach the provider, and
// answers the request when it may not.
func (s *Server) callbackAllowed(w http.ResponseWriter, r *http.Request, ls *loginState) bool {
	now := s.now()
	if !s.callbacks.allow(s.clientIP(r), now) {
		s.metrics.SignIn(metrics.SignInThrottled)
		s.log.Warn("callback throttled: too many sign-ins from one address", "request_id", requestID(r), "client_ip", s.clientIP(r))
		w.Header().Set("Retry-After", "10")
		s.fail(w, r, http.StatusTooManyRequests, pageTooManySignIns, nil)
		return false
	}
	if !s.used.use(ls.State, now) {
		s.metrics.SignIn(metrics.SignInStateInvalid)
		s.fail(w, r, http.StatusBadRequest, pageLoginExpired, nil)
		return false
	}
	return true
}
