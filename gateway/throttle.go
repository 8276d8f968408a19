package gateway

import (
	"net/netip"
	"sync"
	"time"
)

// Every callback that carries a code makes roomgate call the provider's
// token endpoint with its own client credentials. A browser's callback is
// refused before that call unless it carries a sign-in this browser started
// (loginStore.take) whose state has not been used before (usedStates), and
// unless its client network has failures to spare (failureThrottle). So
// anonymous requests cannot spend the provider's quota or rate limit in
// roomgate's name, while any number of colleagues behind one address sign
// in: a sign-in that succeeds costs nothing.

// Failure budget per client network: a burst, then a steady rate far above
// anyone who merely mistypes, far below anyone guessing.
const (
	failureBurst = 60
	failureEvery = time.Second // one more failure allowed per this
)

// failureThrottle is a token bucket per client network that only failures
// draw from. The zero value is ready to use.
type failureThrottle struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

// allowed reports whether key has a failure to spare: whether a request
// that may fail can be served at all.
func (c *failureThrottle) allowed(key string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.refill(key, now)
	return b == nil || b.tokens >= 1
}

// failed spends one of key's failures.
func (c *failureThrottle) failed(key string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.refill(key, now)
	if b == nil {
		if c.buckets == nil {
			c.buckets = make(map[string]*bucket)
		}
		b = &bucket{tokens: failureBurst, at: now}
		c.buckets[key] = b
	}
	b.tokens = max(0, b.tokens-1)
}

// refill brings key's bucket up to now, and returns it; nil when key has
// not failed lately (its bucket would be full). c.mu is held.
func (c *failureThrottle) refill(key string, now time.Time) *bucket {
	full := time.Duration(failureBurst) * failureEvery
	if now.Sub(c.swept) > full {
		// A bucket left alone this long is full again: forget it.
		for k, b := range c.buckets {
			if now.Sub(b.at) > full {
				delete(c.buckets, k)
			}
		}
		c.swept = now
	}
	b := c.buckets[key]
	if b != nil {
		b.tokens = min(failureBurst, b.tokens+float64(now.Sub(b.at))/float64(failureEvery))
		b.at = now
	}
	return b
}

// throttleKey is the client network a throttle counts per: the address for
// IPv4, its /64 for IPv6, where one machine commonly holds a whole /64 and
// can change addresses within it at will.
func throttleKey(clientIP string) string {
	a, err := netip.ParseAddr(clientIP)
	if err != nil || a.Is4() {
		return clientIP
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// maxUsedStates bounds usedStates. Forgetting the oldest state past it
// costs at most one refused token call: codes are single-use at the
// provider and bound to the sign-in's PKCE verifier, which only the
// browser's own cookie holds.
const maxUsedStates = 100_000

// usedStates remembers the states of finished callbacks, so that a copy of
// the login cookie cannot be replayed at the callback, not even by a client
// that ignores Set-Cookie. It is a fixed ring: constant time per callback,
// bounded memory, and it never refuses a state it has not seen.
type usedStates struct {
	mu   sync.Mutex
	seen map[string]struct{}
	ring []string // the states in the order they were used; "" for none
	next int
}

// use marks state used and reports whether it was unused.
func (u *usedStates) use(state string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.seen == nil {
		u.seen = make(map[string]struct{}, 1024)
		u.ring = make([]string, maxUsedStates)
	}
	if _, ok := u.seen[state]; ok {
		return false
	}
	if old := u.ring[u.next]; old != "" {
		delete(u.seen, old)
	}
	u.ring[u.next] = state
	u.next = (u.next + 1) % maxUsedStates
	u.seen[state] = struct{}{}
	return true
}
