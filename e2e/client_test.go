//go:build e2e

package e2e

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// browser is a plain HTTP client that behaves like a browser where the
// flows care: a cookie jar, redirects followed, forms submitted with an
// Origin. It records every request it makes, and every Set-Cookie that
// roomgate sends.
type browser struct {
	t  *testing.T
	c  *http.Client
	mu sync.Mutex
	// hops are all requests since the last visit or submit began.
	hops []hop
	// gatewayCookies are the Set-Cookie headers roomgate ever sent.
	gatewayCookies []string
}

// hop is one request and the status it got.
type hop struct {
	method   string
	url      *url.URL
	status   int
	location string
}

func (h hop) String() string {
	s := fmt.Sprintf("%s %s -> %d", h.method, h.url, h.status)
	if h.location != "" {
		s += " Location: " + h.location
	}
	return s
}

// page is where a visit ended.
type page struct {
	status int
	url    *url.URL
	body   string
	header http.Header
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t}
	b.c = &http.Client{Jar: jar, Transport: recorder{b}, Timeout: 20 * time.Second}
	return b
}

// recorder is the browser's transport.
type recorder struct{ b *browser }

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Hostname() != "127.0.0.1" {
		return nil, fmt.Errorf("e2e: refusing a request to %s: only 127.0.0.1 is a network target", req.URL.Host)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	r.b.hops = append(r.b.hops, hop{method: req.Method, url: req.URL, status: res.StatusCode, location: res.Header.Get("Location")})
	if "http://"+req.URL.Host == env.gatewayURL {
		r.b.gatewayCookies = append(r.b.gatewayCookies, res.Header.Values("Set-Cookie")...)
	}
	return res, nil
}

// visit GETs url, following redirects, and returns the last page.
func (b *browser) visit(rawURL string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// submit posts form f of page p with the fields set, as a browser would.
func (b *browser) submit(p page, f form, set url.Values) page {
	b.t.Helper()
	action, err := p.url.Parse(f.action)
	if err != nil {
		b.t.Fatalf("form action %q: %v", f.action, err)
	}
	values := url.Values{}
	for k, v := range f.fields {
		values[k] = v
	}
	for k, v := range set {
		values[k] = v
	}
	req, err := http.NewRequest(http.MethodPost, action.String(), strings.NewReader(values.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// A browser says where a form post comes from.
	req.Header.Set("Origin", p.url.Scheme+"://"+p.url.Host)
	if p.url.Host == action.Host {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	} else {
		req.Header.Set("Sec-Fetch-Site", "same-site")
	}
	return b.do(req)
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	b.mu.Lock()
	b.hops = nil
	b.mu.Unlock()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v\nhops:\n%s", req.Method, req.URL, err, b.trail())
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatalf("%s %s: reading the body: %v", req.Method, req.URL, err)
	}
	return page{status: res.StatusCode, url: res.Request.URL, body: string(body), header: res.Header}
}

// trail is the hops of the last visit, one a line, for failure messages.
func (b *browser) trail() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var s strings.Builder
	for _, h := range b.hops {
		fmt.Fprintf(&s, "  %s\n", h)
	}
	return s.String()
}

// sawDex reports whether the last visit went through Dex.
func (b *browser) sawDex() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, h := range b.hops {
		if "http://"+h.url.Host == env.dexURL {
			return true
		}
	}
	return false
}

// signIn fills Dex's password form on p as who and returns where that led.
func (b *browser) signIn(p page, who person) page {
	b.t.Helper()
	f, ok := dexLoginForm(p)
	if !ok {
		b.t.Fatalf("expected Dex's login form; got %d at %s:\n%s\nhops:\n%s", p.status, p.url, excerpt(p.body), b.trail())
	}
	return b.submit(p, f, url.Values{"login": {who.email}, "password": {password}})
}

// dexLoginForm finds the password form on a Dex page.
func dexLoginForm(p page) (form, bool) {
	if p.status != http.StatusOK || p.url.Host != strings.TrimPrefix(env.dexURL, "http://") {
		return form{}, false
	}
	for _, f := range parseForms(p.body) {
		if _, ok := f.fields["login"]; !ok {
			continue
		}
		if _, ok := f.fields["password"]; ok {
			return f, true
		}
	}
	return form{}, false
}

// form is an HTML form: where it posts and the fields it would send as they
// stand (inputs with a name, and their value attribute).
type form struct {
	method string
	action string
	fields url.Values
}

var (
	formRe  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRe = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	attrRe  = regexp.MustCompile(`(?s)([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>` + "`" + `]+)))?`)
)

// parseForms is a small HTML form reader, enough for Dex's login page and
// roomgate's pages: forms, their inputs, and their attributes.
func parseForms(body string) []form {
	var forms []form
	for _, m := range formRe.FindAllStringSubmatch(body, -1) {
		a := attrs(m[1])
		f := form{method: strings.ToUpper(a["method"]), action: a["action"], fields: url.Values{}}
		if f.method == "" {
			f.method = http.MethodGet
		}
		for _, in := range inputRe.FindAllStringSubmatch(m[2], -1) {
			ia := attrs(in[1])
			if name := ia["name"]; name != "" {
				f.fields.Add(name, ia["value"])
			}
		}
		forms = append(forms, f)
	}
	return forms
}

func attrs(s string) map[string]string {
	a := map[string]string{}
	for _, m := range attrRe.FindAllStringSubmatch(s, -1) {
		a[strings.ToLower(m[1])] = html.UnescapeString(m[2] + m[3] + m[4])
	}
	return a
}

// excerpt shortens a page body for a failure message.
func excerpt(s string) string {
	const max = 1500
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
