//go:build e2e

package e2e

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestDexUsersCarryGroups checks the provider, not roomgate: each person
// signs in at Dex through its password form with the client "probe", and the
// ID token carries their name, email and every group. When this fails, the
// other tests' failures are Dex's set-up, not roomgate.
func TestDexUsersCarryGroups(t *testing.T) {
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, env.issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	conf := oauth2.Config{
		ClientID:     "probe",
		ClientSecret: env.dexClientSecret,
		Endpoint:     provider.Endpoint(),
		RedirectURL:  env.probeCallback,
		Scopes:       []string{oidc.ScopeOpenID, "profile", "email", "groups"},
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: "probe"})
	for _, who := range people {
		t.Run(who.key(), func(t *testing.T) {
			b := newBrowser(t)
			// Stop at the redirect to the probe's callback, which nothing serves.
			b.c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
				if "http://"+req.URL.Host+req.URL.Path == env.probeCallback {
					return http.ErrUseLastResponse
				}
				return nil
			}
			verifierPKCE := oauth2.GenerateVerifier()
			p := b.visit(conf.AuthCodeURL("probe-state", oauth2.S256ChallengeOption(verifierPKCE)))
			p = b.signIn(p, who)
			loc, err := url.Parse(p.header.Get("Location"))
			if p.status/100 != 3 || err != nil {
				t.Fatalf("after the password form: got %d, Location %q; want a redirect to %s\nhops:\n%s", p.status, p.header.Get("Location"), env.probeCallback, b.trail())
			}
			if got := loc.Query().Get("state"); got != "probe-state" {
				t.Fatalf("state: got %q; want %q", got, "probe-state")
			}
			tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifierPKCE))
			if err != nil {
				t.Fatalf("code exchange: %v", err)
			}
			raw, _ := tok.Extra("id_token").(string)
			idt, err := verifier.Verify(ctx, raw)
			if err != nil {
				t.Fatalf("ID token: %v", err)
			}
			var claims struct {
				Email  string   `json:"email"`
				Name   string   `json:"name"`
				Groups []string `json:"groups"`
			}
			if err := idt.Claims(&claims); err != nil {
				t.Fatal(err)
			}
			if claims.Email != who.email {
				t.Errorf("email: got %q; want %q", claims.Email, who.email)
			}
			if claims.Name != who.name {
				t.Errorf("name: got %q; want %q", claims.Name, who.name)
			}
			if !slices.Equal(claims.Groups, who.groups) {
				t.Errorf("groups: got %d groups %.200q; want %d groups %.200q", len(claims.Groups), claims.Groups, len(who.groups), who.groups)
			}
			t.Logf("ID token: %d bytes, %d groups", len(raw), len(claims.Groups))
		})
	}
}
