package gateway

import (
	"encoding/json"
	"slices"
	"testing"
)

func decodeClaims(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestClaimStrings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		claims      string
		path        string
		want        []string
		wantPresent bool
		wantSkipped int
	}{
		{"list", `{"groups":["a","b"]}`, "groups", []string{"a", "b"}, true, 0},
		{"single string", `{"groups":"a"}`, "groups", []string{"a"}, true, 0},
		{"absent", `{}`, "groups", nil, false, 0},
		{"null", `{"groups":null}`, "groups", nil, false, 0},
		{"non-strings skipped", `{"groups":["a",1,{"x":1},null,"b"]}`, "groups", []string{"a", "b"}, true, 3},
		{"wrong type", `{"groups":{"a":1}}`, "groups", nil, true, 1},
		{"dotted path", `{"realm_access":{"roles":["admin"]}}`, "realm_access.roles", []string{"admin"}, true, 0},
		{"dotted path absent", `{"realm_access":{}}`, "realm_access.roles", nil, false, 0},
		{"dotted through non-object", `{"realm_access":"x"}`, "realm_access.roles", nil, false, 0},
		{"colon key", `{"cognito:groups":["g"]}`, "cognito:groups", []string{"g"}, true, 0},
		{"url key with dots", `{"https://example.com/groups":["g"]}`, "https://example.com/groups", []string{"g"}, true, 0},
		{"three levels", `{"resource_access":{"roomgate":{"roles":["r"]}}}`, "resource_access.roomgate.roles", []string{"r"}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, present, skipped := claimStrings(decodeClaims(t, tt.claims), tt.path)
			if !slices.Equal(got, tt.want) || present != tt.wantPresent || skipped != tt.wantSkipped {
				t.Errorf("claimStrings(%s, %q) = %q, %v, %d; want %q, %v, %d", tt.claims, tt.path, got, present, skipped, tt.want, tt.wantPresent, tt.wantSkipped)
			}
		})
	}
}

func TestClaimUserIDAndEmailVerified(t *testing.T) {
	t.Parallel()
	c := decodeClaims(t, `{"sub":"abc","oid":12345678901,"email_verified":false}`)
	if got := claimUserID(c, "sub"); got != "abc" {
		t.Errorf("claimUserID(sub) = %q; want %q", got, "abc")
	}
	if got := claimUserID(c, "oid"); got != "12345678901" {
		t.Errorf("claimUserID(oid) = %q; want %q", got, "12345678901")
	}
	tests := []struct {
		claims          string
		require, wantOK bool
	}{
		{`{"email_verified":false}`, false, false},
		{`{"email_verified":false}`, true, false},
		{`{}`, false, true}, // Entra ID never sends the claim
		{`{}`, true, false},
		{`{"email_verified":"false"}`, false, false},
		{`{"email_verified":"true"}`, true, true},
		{`{"email_verified":"yes"}`, true, false},
		{`{"email_verified":true}`, true, true},
		{`{"email_verified":1}`, true, false},
	}
	for _, tt := range tests {
		if got := emailVerified(decodeClaims(t, tt.claims), tt.require); got != tt.wantOK {
			t.Errorf("emailVerified(%s, require %v) = %v; want %v", tt.claims, tt.require, got, tt.wantOK)
		}
	}
}
