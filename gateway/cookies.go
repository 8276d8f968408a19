package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
)

// maxCookieBytes bounds every cookie roomgate sets, name, value and
// attributes together: RFC 6265 6.1 promises no more than 4096 bytes, and
// a browser that gets a bigger cookie drops it without a word.
const maxCookieBytes = 4000

// errCookieTooLarge is returned when a cookie would not fit in a browser.
var errCookieTooLarge = errors.New("gateway: cookie larger than browsers keep")

// derive returns the key for one purpose (a label) from a session secret.
// The purpose keeps a key of one kind of cookie from ever opening another.
func derive(secret, label string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(label))
	return m.Sum(nil)
}

// cookieName uses the __Host- prefix on https, which tells browsers to
// accept the cookie only from this host, over https, for every path.
func cookieName(name string, secure bool) string {
	if secure {
		return "__Host-" + name
	}
	return name
}

// maxCookieHeader bounds the whole Cookie header roomgate causes, on every
// path and in every case: the session, the token cookies and every pending
// sign-in together. 4 KB leaves the rest of nginx's default 8 KB header line
// to the company's other cookies.
const maxCookieHeader = 4000
