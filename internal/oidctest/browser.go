package oidctest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

// maxHops bounds the redirects Follow takes, like browsers do.
const maxHops = 20

// Browser stands in for a person's browser in tests: an http.Client with a
// cookie jar that never follows a redirect by itself, so that Follow can
// show every hop. It only ever requests loopback addresses.
//
//	b := oidctest.NewBrowser(t)
//	b.StopAt = oidctest.StopAtHost("acme.digitalsamba.com")
//	resp, hops := b.Follow(t, gateway.URL+"/standup")
//	// hops: gateway /standup, provider /authorize, gateway /auth/callback, gateway /standup
//	// resp: the 302 whose resp.Location() is the room URL with ?token=...
type Browser struct {
	// Client holds the cookie jar. Its CheckRedirect returns
	// http.ErrUseLastResponse, so a redirect is an ordinary response.
	Client *http.Client
	// StopAt, when set, ends Follow at a redirect whose target it accepts,
	// without requesting the target. Follow also stops, always, at a
	// redirect to anything but a loopback IP address.
	StopAt func(*url.URL) bool
}

// NewBrowser returns a Browser with an empty cookie jar. The jar treats
// 127.0.0.1 as a secure origin, as browsers do, so Secure cookies work over
// plain http in tests.
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("oidctest: cookie jar: %v", err)
	}
	return &Browser{Client: &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// StopAtHost is a Browser.StopAt that stops at redirects to host, which is
// compared with the URL's Host (so it includes the port when the URL has
// one): "127.0.0.1:43127", "acme.digitalsamba.com".
func StopAtHost(host string) func(*url.URL) bool {
	return func(u *url.URL) bool { return u.Host == host }
}

// Follow requests rawURL with GET and follows redirects, returning the last
// response and every URL requested, in order. The last response is a
// redirect when Follow stopped at one (see StopAt); resp.Location() then
// says where the browser was sent. Every response body is read; the
// returned one can still be read by the caller. Any transport error, a
// redirect loop or a non-loopback rawURL fails the test.
func (b *Browser) Follow(t testing.TB, rawURL string) (*http.Response, []*url.URL) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	return b.FollowRequest(t, req)
}

// PostForm posts form to rawURL, as an HTML form does, then follows
// redirects like Follow.
func (b *Browser) PostForm(t testing.TB, rawURL string, form url.Values) (*http.Response, []*url.URL) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.FollowRequest(t, req)
}

// FollowRequest sends req, then follows redirects like Follow. After 301,
// 302 and 303 the browser switches to GET without a body; after 307 and
// 308 it repeats the method and body, as browsers do.
func (b *Browser) FollowRequest(t testing.TB, req *http.Request) (*http.Response, []*url.URL) {
	t.Helper()
	var hops []*url.URL
	for {
		if !isLoopback(req.URL) {
			t.Fatalf("oidctest: browser asked to request %s; only loopback addresses are allowed", req.URL)
		}
		if len(hops) == maxHops {
			t.Fatalf("oidctest: more than %d redirects: %v", maxHops, hops)
		}
		hops = append(hops, req.URL)
		resp := b.Do(t, req)
		target, err := resp.Location()
		if !isRedirect(resp.StatusCode) || err != nil {
			return resp, hops
		}
		if !isLoopback(target) || (b.StopAt != nil && b.StopAt(target)) {
			return resp, hops
		}
		next, err := nextRequest(req, resp.StatusCode, target)
		if err != nil {
			t.Fatalf("oidctest: following %d to %s: %v", resp.StatusCode, target, err)
		}
		req = next
	}
}

// Do sends one request without following redirects, with the browser's
// cookies. The response body is read and can be read again.
func (b *Browser) Do(t testing.TB, req *http.Request) *http.Response {
	t.Helper()
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatalf("oidctest: %s %s: %v", req.Method, req.URL, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("oidctest: reading body of %s %s: %v", req.Method, req.URL, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp
}

// Cookies returns the cookies the browser would send to rawURL.
func (b *Browser) Cookies(t testing.TB, rawURL string) []*http.Cookie {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	return b.Client.Jar.Cookies(u)
}

// nextRequest is the request a browser makes after a redirect (RFC 9110
// 15.4).
func nextRequest(prev *http.Request, status int, target *url.URL) (*http.Request, error) {
	if status == http.StatusTemporaryRedirect || status == http.StatusPermanentRedirect {
		var body io.ReadCloser
		if prev.GetBody != nil {
			var err error
			if body, err = prev.GetBody(); err != nil {
				return nil, err
			}
		}
		next, err := http.NewRequest(prev.Method, target.String(), body)
		if err != nil {
			return nil, err
		}
		next.Header = prev.Header.Clone()
		return next, nil
	}
	return http.NewRequest(http.MethodGet, target.String(), nil)
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// isLoopback says whether u names a loopback IP address, the only network
// target tests may reach.
func isLoopback(u *url.URL) bool {
	ip, err := netip.ParseAddr(u.Hostname())
	return err == nil && ip.IsLoopback() && (u.Scheme == "http" || u.Scheme == "https")
}
