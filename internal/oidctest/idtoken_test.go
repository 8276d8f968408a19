package oidctest

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

func TestBrokenIDTokens(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mutate  Mutation
		wantErr string // what go-oidc's verifier or the nonce check says
		wantAlg string // the header's alg
	}{
		{name: "wrong issuer", mutate: WrongIssuer, wantErr: "issued by a different provider", wantAlg: "RS256"},
		{name: "wrong audience", mutate: WrongAudience, wantErr: "expected audience", wantAlg: "RS256"},
		{name: "expired", mutate: Expired, wantErr: "token is expired", wantAlg: "RS256"},
		{name: "not yet valid", mutate: NotYetValid, wantErr: "before the nbf", wantAlg: "RS256"},
		{name: "wrong nonce", mutate: WrongNonce, wantErr: "nonce mismatch", wantAlg: "RS256"},
		{name: "missing nonce", mutate: MissingNonce, wantErr: "nonce mismatch", wantAlg: "RS256"},
		{name: "alg none", mutate: AlgNone, wantErr: "unexpected signature algorithm", wantAlg: "none"},
		{name: "HS256 with client secret", mutate: HS256ClientSecret, wantErr: "unexpected signature algorithm", wantAlg: "HS256"},
		{name: "unknown key", mutate: UnknownKey, wantErr: "failed to verify signature", wantAlg: "RS256"},
		{name: "impostor key", mutate: ImpostorKey, wantErr: "failed to verify signature", wantAlg: "RS256"},
	}
	p := New(t, WithRedirectURI(testRedirectURI))
	rp := newRelyingParty(t, p)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not parallel: the provider's next-token queue is shared.
			p.MutateNextIDToken(tt.mutate)
			tok := rp.signIn(t, "nonce-1")
			raw, _ := tok.Extra("id_token").(string)
			if got := header(t, raw)["alg"]; got != tt.wantAlg {
				t.Errorf("alg: got %q; want %q", got, tt.wantAlg)
			}
			_, err := rp.verify(tok, "nonce-1")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("verify: got error %v; want one containing %q", err, tt.wantErr)
			}

			// The mutation was for one token only.
			if _, err := rp.verify(rp.signIn(t, "nonce-2"), "nonce-2"); err != nil {
				t.Errorf("next token: got error %v; want none", err)
			}
		})
	}
}

func TestMutateIDTokensLastsUntilCleared(t *testing.T) {
	t.Parallel()
	p := New(t, WithRedirectURI(testRedirectURI))
	rp := newRelyingParty(t, p)

	p.MutateIDTokens(ExtraClaims(map[string]any{"groups": []string{"injected"}, "roles": "admin"}), WithoutClaim("email"))
	for i := range 2 {
		idToken, err := rp.verify(rp.signIn(t, "n"), "n")
		if err != nil {
			t.Fatalf("token %d: verify: %v", i, err)
		}
		var claims map[string]any
		if err := idToken.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		if got, _ := json.Marshal(claims["groups"]); string(got) != `["injected"]` || claims["roles"] != "admin" {
			t.Errorf("token %d: got groups %s roles %v; want [\"injected\"] and admin", i, got, claims["roles"])
		}
		if _, ok := claims["email"]; ok {
			t.Errorf("token %d: got an email claim; want none", i)
		}
	}

	p.MutateIDTokens()
	idToken, err := rp.verify(rp.signIn(t, "n"), "n")
	if err != nil {
		t.Fatalf("after clearing: verify: %v", err)
	}
	var claims map[string]any
	if err := idToken.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims["email"] != "alice@example.com" {
		t.Errorf("after clearing: email got %v; want %q", claims["email"], "alice@example.com")
	}
}

func TestMintIDToken(t *testing.T) {
	t.Parallel()
	p := New(t)
	rp := newRelyingParty(t, p)
	good, err := p.MintIDToken(DefaultUser(), "n")
	if err != nil {
		t.Fatal(err)
	}
	idToken, err := rp.verifier.Verify(rp.ctx, good)
	if err != nil {
		t.Fatalf("good token: %v", err)
	}
	if idToken.Subject != "alice" || idToken.Nonce != "n" {
		t.Errorf("good token: got sub %q nonce %q; want alice, n", idToken.Subject, idToken.Nonce)
	}
	bad, err := p.MintIDToken(DefaultUser(), "n", Expired)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rp.verifier.Verify(rp.ctx, bad); err == nil {
		t.Errorf("expired token: got no error; want one")
	}
}

// header decodes a compact JWS's header.
func header(t *testing.T, jws string) map[string]any {
	t.Helper()
	part, _, _ := strings.Cut(jws, ".")
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatalf("header: %v", err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("header: %v", err)
	}
	return h
}
