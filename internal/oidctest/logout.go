package oidctest

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// BackchannelLogoutEvent is the events member of a logout token
// (OpenID Connect Back-Channel Logout 1.0, 2.4).
const BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// LogoutToken signs a logout token (Back-Channel Logout 1.0, 2.4) for the
// provider's client: iss, aud, iat, exp, a fresh jti, the logout event, and
// sub and sid when not empty, after muts (which may break any of it).
func (p *Provider) LogoutToken(sub, sid string, muts ...Mutation) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	var jti [16]byte
	rand.Read(jti[:])
	claims := map[string]any{
		"iss":    p.Issuer(),
		"aud":    p.clientID,
		"iat":    now.Unix(),
		"exp":    now.Add(p.tokenTTL).Unix(),
		"jti":    base64.RawURLEncoding.EncodeToString(jti[:]),
		"events": map[string]any{BackchannelLogoutEvent: map[string]any{}},
	}
	if sub != "" {
		claims["sub"] = sub
	}
	if sid != "" {
		claims["sid"] = sid
	}
	tok := IDToken{Claims: claims, Signing: SignedByProvider, Now: now}
	for _, m := range muts {
		m(&tok)
	}
	return p.sign(tok)
}

// SendLogout posts token to a relying party's back-channel logout URI, as
// the provider does (2.5), and returns the answer.
func SendLogout(t testing.TB, uri, token string) *http.Response {
	t.Helper()
	resp, err := http.Post(uri, "application/x-www-form-urlencoded", strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
	if err != nil {
		t.Fatalf("oidctest: back-channel logout: %v", err)
	}
	resp.Body.Close()
	return resp
}
