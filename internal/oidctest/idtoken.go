package oidctest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"maps"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// IDToken is an ID token about to be signed. A Mutation may change anything
// in it.
type IDToken struct {
	// Claims are all the claims: iss, sub, aud, exp, iat, auth_time, nonce
	// (when the authorize request had one) and the user's Claims. Times
	// are unix seconds (int64).
	Claims map[string]any
	// Signing says how the token is signed.
	Signing Signing
	// Now is the provider's clock when the token is issued.
	Now time.Time
}

// Signing is how an ID token is signed.
type Signing int

const (
	// SignedByProvider is RS256 with the provider's current key, which the
	// JWKS publishes: the only good signature.
	SignedByProvider Signing = iota
	// Unsigned is alg "none" with an empty signature (RFC 7519 6).
	Unsigned
	// SignedHS256ClientSecret is HS256 with the client secret as the key, the
	// classic algorithm-confusion attack.
	SignedHS256ClientSecret
	// SignedByUnknownKey is RS256 with a key the JWKS does not publish,
	// under a key id the JWKS does not know.
	SignedByUnknownKey
	// SignedByImpostorKey is RS256 with a key the JWKS does not publish,
	// under the current key's id.
	SignedByImpostorKey
)

// String names the signing for test messages.
func (s Signing) String() string {
	switch s {
	case SignedByProvider:
		return "SignedByProvider"
	case Unsigned:
		return "Unsigned"
	case SignedHS256ClientSecret:
		return "SignedHS256ClientSecret"
	case SignedByUnknownKey:
		return "SignedByUnknownKey"
	case SignedByImpostorKey:
		return "SignedByImpostorKey"
	}
	return fmt.Sprintf("Signing(%d)", int(s))
}

// A Mutation changes an ID token before it is signed, to make it wrong in
// one way. The functions below are ready-made mutations.
type Mutation func(*IDToken)

// WrongIssuer sets iss to another provider's URL.
func WrongIssuer(t *IDToken) { t.Claims["iss"] = "https://wrong-issuer.invalid" }

// WrongAudience issues the token to another client.
func WrongAudience(t *IDToken) { t.Claims["aud"] = "some-other-client" }

// Expired makes the token expired an hour ago.
func Expired(t *IDToken) {
	t.Claims["iat"] = t.Now.Add(-2 * time.Hour).Unix()
	t.Claims["exp"] = t.Now.Add(-time.Hour).Unix()
}

// NotYetValid dates iat and nbf an hour ahead, beyond any clock-skew leeway.
func NotYetValid(t *IDToken) {
	t.Claims["iat"] = t.Now.Add(time.Hour).Unix()
	t.Claims["nbf"] = t.Now.Add(time.Hour).Unix()
	t.Claims["exp"] = t.Now.Add(2 * time.Hour).Unix()
}

// WrongNonce replaces the nonce with one the client never sent.
func WrongNonce(t *IDToken) { t.Claims["nonce"] = "not-the-nonce-you-sent" }

// MissingNonce removes the nonce claim.
func MissingNonce(t *IDToken) { delete(t.Claims, "nonce") }

// AlgNone leaves the token unsigned, with alg "none".
func AlgNone(t *IDToken) { t.Signing = Unsigned }

// HS256ClientSecret signs the token with HS256 and the client secret.
func HS256ClientSecret(t *IDToken) { t.Signing = SignedHS256ClientSecret }

// UnknownKey signs the token with a key and key id the JWKS does not have.
func UnknownKey(t *IDToken) { t.Signing = SignedByUnknownKey }

// ImpostorKey signs the token with a key the JWKS does not have, claiming
// the current key id.
func ImpostorKey(t *IDToken) { t.Signing = SignedByImpostorKey }

// ExtraClaims sets these claims, replacing any already there.
func ExtraClaims(claims map[string]any) Mutation {
	return func(t *IDToken) { maps.Copy(t.Claims, claims) }
}

// WithoutClaim removes a claim.
func WithoutClaim(name string) Mutation {
	return func(t *IDToken) { delete(t.Claims, name) }
}

// MutateIDTokens applies muts to every ID token issued from now on, in
// order, replacing earlier MutateIDTokens calls. With no arguments the
// tokens are good again.
func (p *Provider) MutateIDTokens(muts ...Mutation) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mutations = muts
}

// MutateNextIDToken applies muts to the next ID token only, after those set
// by MutateIDTokens. Several calls queue mutations for several tokens.
func (p *Provider) MutateNextIDToken(muts ...Mutation) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nextMutations = append(p.nextMutations, muts)
}

// MintIDToken signs an ID token for u directly, without a flow, issued to
// the provider's client, with nonce (none when ""), after muts. It lets a
// test feed a verifier exact tokens.
func (p *Provider) MintIDToken(u User, nonce string, muts ...Mutation) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	tok := p.idToken(u, nonce, now, now)
	for _, m := range muts {
		m(&tok)
	}
	return p.sign(tok)
}

// newIDToken builds the ID token for a grant with the user's current claims,
// applies the pending mutations and signs it (OIDC Core 2). The caller holds
// p.mu.
func (p *Provider) newIDToken(g *grant, u User) (string, error) {
	tok := p.idToken(u, g.nonce, g.authTime, p.now())
	for _, m := range p.mutations {
		m(&tok)
	}
	if len(p.nextMutations) > 0 {
		for _, m := range p.nextMutations[0] {
			m(&tok)
		}
		p.nextMutations = p.nextMutations[1:]
	}
	return p.sign(tok)
}

// idToken is a good, unsigned ID token. The caller holds p.mu.
func (p *Provider) idToken(u User, nonce string, authTime, now time.Time) IDToken {
	claims := maps.Clone(u.Claims)
	if claims == nil {
		claims = map[string]any{}
	}
	maps.Copy(claims, map[string]any{
		"iss":       p.Issuer(),
		"sub":       u.Subject,
		"aud":       p.clientID,
		"iat":       now.Unix(),
		"exp":       now.Add(p.tokenTTL).Unix(),
		"auth_time": authTime.Unix(),
	})
	if nonce != "" {
		claims["nonce"] = nonce
	}
	return IDToken{Claims: claims, Signing: SignedByProvider, Now: now}
}

// sign serializes tok as a compact JWS. The caller holds p.mu.
func (p *Provider) sign(tok IDToken) (string, error) {
	payload, err := json.Marshal(tok.Claims)
	if err != nil {
		return "", fmt.Errorf("oidctest: encoding ID token claims: %w", err)
	}
	switch tok.Signing {
	case SignedByProvider:
		return signRS256(p.key, payload)
	case SignedByUnknownKey, SignedByImpostorKey:
		key, err := p.stranger(tok.Signing)
		if err != nil {
			return "", err
		}
		return signRS256(key, payload)
	case Unsigned:
		// go-jose refuses to make alg "none" tokens, rightly; build it by hand.
		return compact(map[string]string{"alg": "none", "typ": "JWT"}, payload, nil), nil
	case SignedHS256ClientSecret:
		// By hand too: go-jose refuses HMAC keys shorter than 256 bits, and a
		// client secret may be shorter.
		mac := hmac.New(sha256.New, []byte(p.clientSecret))
		return compact(map[string]string{"alg": "HS256", "typ": "JWT"}, payload, mac), nil
	}
	return "", fmt.Errorf("oidctest: unknown signing %v", tok.Signing)
}

// stranger is a key outside the JWKS, made on first use. The caller holds
// p.mu.
func (p *Provider) stranger(s Signing) (signingKey, error) {
	key, ok := p.strangers[s]
	if !ok {
		private, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return signingKey{}, fmt.Errorf("oidctest: generating RSA key: %w", err)
		}
		key = signingKey{id: "unknown-key", private: private}
		p.strangers[s] = key
	}
	if s == SignedByImpostorKey {
		key.id = p.key.id
	}
	return key, nil
}

// signRS256 signs payload with key, naming its key id in the header.
func signRS256(key signingKey, payload []byte) (string, error) {
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key.private, KeyID: key.id}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return "", fmt.Errorf("oidctest: making signer: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("oidctest: signing ID token: %w", err)
	}
	return jws.CompactSerialize()
}

// compact builds header.payload.signature by hand; mac nil means an empty
// signature.
func compact(header map[string]string, payload []byte, mac hash.Hash) string {
	h, _ := json.Marshal(header)
	signingInput := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(payload)
	if mac == nil {
		return signingInput + "."
	}
	mac.Write([]byte(signingInput))
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

var _ fmt.Stringer = Signing(0)
