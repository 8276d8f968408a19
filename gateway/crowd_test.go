package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/roomgate/roomgate/config"
)

// This file tries to keep people out of sign-in without breaking anything:
// hanging up mid-callback, a provider that hangs, filling the memory of
// used states, and a crowd behind one address. Each time everyone else
// must still get in, or get the 502 page at once.

// TestHangingUpIsNotAnOutage: a caller that closes its connection while
// roomgate exchanges its code neither cancels the exchange nor makes the
// provider look down for everyone else.
func TestHangingUpIsNotAnOutage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	cb, cookie, _ := e.pendingSignIn(t, "/standup")

	e.provider.SetDelay(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cb.String(), nil)
	req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	if resp, err := http.DefaultTransport.RoundTrip(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the callback answered %d within 50 ms; the test needs it to be cut short", resp.StatusCode)
	}

	// The exchange goes on without the caller and signs the person in.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(e.logs.String(), `"msg":"signed in"`) {
		if time.Now().After(deadline) {
			t.Fatalf("the exchange of a callback whose caller hung up never finished:\n%s", e.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.provider.SetDelay(0)
	// Nobody else is refused for it.
	e.roomToken(first(e.enter(e.browser(), "/standup")), "daily-standup")
}

// TestProviderFault sorts the provider's own failures from the rest: only
// the first kind may make it known down.
func TestProviderFault(t *testing.T) {
	t.Parallel()
	answer := func(code int) error {
		return &oauth2.RetrieveError{Response: &http.Response{StatusCode: code}}
	}
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"caller hung up", fmt.Errorf("gateway: code exchange: %w", context.Canceled), false},
		{"own timeout", fmt.Errorf("gateway: code exchange: %w", context.DeadlineExceeded), true},
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"token endpoint refuses the code", answer(http.StatusBadRequest), false},
		{"token endpoint 503", answer(http.StatusServiceUnavailable), true},
		{"userinfo 401", fmt.Errorf("gateway: userinfo: %w", errors.New("401 Unauthorized: invalid token")), false},
		{"userinfo 502", fmt.Errorf("gateway: userinfo: %w", errors.New("502 Bad Gateway: upstream")), true},
	} {
		if got := providerFault(tt.err); got != tt.want {
			t.Errorf("%s: providerFault = %v; want %v", tt.name, got, tt.want)
		}
	}
}

// TestHangingProviderAnswersAtOnce: a provider that accepts connections and
// never answers costs the first person its timeout; after that everyone
// gets the 502 page in under half a second, alone or in a crowd, and
// sign-in works again by itself once the provider answers.
func TestHangingProviderAnswersAtOnce(t *testing.T) {
	t.Parallel()
	timeout := func(c *config.Config) { c.OIDC.Timeout = time.Second }

	visit := func(e *env, path string) (int, time.Duration) {
		start := time.Now()
		resp, _ := e.enter(e.browser(), path)
		body(t, resp)
		return resp.StatusCode, time.Since(start)
	}
	crowd := func(e *env, n int) {
		t.Helper()
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if code, took := visit(e, "/standup"); code != http.StatusBadGateway || took > 500*time.Millisecond {
					t.Errorf("crowd visit %d: %d after %s; want 502 in under 500ms", i, code, took)
				}
			})
		}
		wg.Wait()
	}

	t.Run("never discovered", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, withConfig(timeout))
		e.provider.SetDelay(time.Hour)
		if code, took := visit(e, "/standup"); code != http.StatusBadGateway || took > 1500*time.Millisecond {
			t.Errorf("first visit: %d after %s; want 502 within the 1s timeout", code, took)
		}
		for i := range 4 {
			e.clock.Advance(time.Second) // within retryAfter: no new attempt
			if code, took := visit(e, "/standup"); code != http.StatusBadGateway || took > 500*time.Millisecond {
				t.Errorf("visit %d while known down: %d after %s; want 502 in under 500ms", i+2, code, took)
			}
		}
		// Past retryAfter one attempt starts; nobody waits for it long.
		e.clock.Advance(retryAfter)
		crowd(e, 8)

		e.provider.SetDelay(0)
		e.waitForAttempt(t)
		e.clock.Advance(retryAfter)
		e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
		e.roomToken(first(e.enter(e.browser(), "/standup")), "daily-standup")
	})

	t.Run("token endpoint hangs", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, withConfig(timeout))
		e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
		e.roomToken(first(e.enter(e.browser(), "/standup")), "daily-standup") // discovered
		cb, cookie, _ := e.pendingSignIn(t, "/standup")
		e.provider.SetDelay(time.Hour)
		start := time.Now()
		if resp := e.callbackWith(t, cb, cookie); resp.StatusCode != http.StatusBadGateway {
			t.Errorf("callback while the token endpoint hangs: %d; want 502", resp.StatusCode)
		}
		if took := time.Since(start); took > 4*time.Second {
			t.Errorf("callback took %s; want at most the exchange's 3s budget", took)
		}
		crowd(e, 8)
		e.provider.SetDelay(0)
		e.waitForAttempt(t)
		e.clock.Advance(retryAfter)
		e.roomToken(first(e.enter(e.browser(), "/standup")), "daily-standup")
	})
}

// waitForAttempt waits until no attempt at the provider is under way, such
// as one a crowd started while it hung.
func (e *env) waitForAttempt(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		e.gw.primary().mu.Lock()
		running := e.gw.primary().running != nil
		e.gw.primary().mu.Unlock()
		if !running {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("an attempt at the provider outlived its timeout")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestUsedStatesNeverFailClosed: however many states strangers use up, the
// memory stays bounded and a real person's new state is accepted, while a
// state used lately is still refused.
func TestUsedStatesNeverFailClosed(t *testing.T) {
	t.Parallel()
	var u usedStates
	for i := range maxUsedStates + 1000 {
		if !u.use(fmt.Sprintf("stranger-%d", i)) {
			t.Fatalf("state %d refused although it was never used", i)
		}
	}
	if n := len(u.seen); n != maxUsedStates {
		t.Errorf("%d states remembered; want the bound %d", n, maxUsedStates)
	}
	if u.use(fmt.Sprintf("stranger-%d", maxUsedStates+999)) {
		t.Error("a state used a moment ago was accepted again")
	}
	if !u.use("a real person's state") {
		t.Error("a new state was refused once the memory was full")
	}

	// The same through the gateway: a full memory lets a sign-in through.
	e := newEnv(t)
	for i := range maxUsedStates {
		e.gw.used.use(fmt.Sprintf("stranger-%d", i))
	}
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	e.roomToken(first(e.enter(e.browser(), "/standup")), "daily-standup")
}

// TestCrowdBehindOneAddress: three hundred colleagues behind one address
// sign in within the same minute and all get in (httptest clients all come
// from 127.0.0.1), while failures from that address are still throttled.
func TestCrowdBehindOneAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	for i := range 300 {
		resp, _ := e.enter(e.browser(), "/standup")
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("colleague %d: status %d; want 302 into the room", i+1, resp.StatusCode)
		}
		body(t, resp)
	}

	// Failures from the same address still draw from its budget.
	throttled := false
	for range failureBurst + 1 {
		cb, cookie, _ := e.pendingSignIn(t, "/standup")
		q := cb.Query()
		q.Set("code", "made-up")
		cb.RawQuery = q.Encode()
		if e.callbackWith(t, cb, cookie).StatusCode == http.StatusTooManyRequests {
			throttled = true
		}
	}
	if !throttled {
		t.Errorf("%d refused codes from one address were never throttled", failureBurst+1)
	}
}

// TestThrottleKeys: IPv6 clients are counted by /64, so one machine cannot
// step around the throttle by changing its address within its network.
func TestThrottleKeys(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ a, b string }{
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"},
		{"2001:db8:1:2::1", "2001:db8:1:2:abcd::7"},
	} {
		if throttleKey(tt.a) != throttleKey(tt.b) {
			t.Errorf("%s and %s are one /64 but count apart (%s, %s)", tt.a, tt.b, throttleKey(tt.a), throttleKey(tt.b))
		}
	}
	for _, tt := range []struct{ a, b string }{
		{"2001:db8:1:2::1", "2001:db8:1:3::1"},
		{"192.0.2.1", "192.0.2.2"},
	} {
		if throttleKey(tt.a) == throttleKey(tt.b) {
			t.Errorf("%s and %s count together (%s)", tt.a, tt.b, throttleKey(tt.a))
		}
	}

	var c failureThrottle
	now := time.Now()
	for range failureBurst {
		c.failed(throttleKey("2001:db8:1:2::"+fmt.Sprint(now.Nanosecond()%9+1)), now)
	}
	if c.allowed(throttleKey("2001:db8:1:2::abc"), now) {
		t.Error("a fresh address in a /64 that used up its failures is still allowed")
	}
	if !c.allowed(throttleKey("2001:db8:1:3::abc"), now) {
		t.Error("the next /64 is refused for another network's failures")
	}
	if !c.allowed(throttleKey("2001:db8:1:2::abc"), now.Add(2*failureEvery)) {
		t.Error("the budget does not come back with time")
	}
}
