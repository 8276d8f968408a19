package gateway

import (
	"net/http"
	"testing"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/internal/oidctest"
)

// TestGroupClaimShapes: a groups claim that is one string, a list, absent,
// or a list with members that are not strings (ignored, with a log line).
func TestGroupClaimShapes(t *testing.T) {
	t.Parallel()
	withGroups := func(v any) oidctest.User {
		u := user("ada", "ada@example.com")
		u.Claims["groups"] = v
		return u
	}
	tests := []quirkCase{
		{name: "one string", rooms: room("eng-leads"), user: withGroups("eng-leads"), path: "/standup", wantRole: "moderator"},
		{name: "a list", rooms: room("eng-leads"), user: withGroups([]string{"x", "eng-leads"}), path: "/standup", wantRole: "moderator"},
		{name: "absent", rooms: room("eng-leads"), user: user("ada", "ada@example.com"), path: "/standup", wantRole: "attendee", wantLog: `"msg":"no groups claim for this person"`},
		{
			name: "members that are not strings", rooms: room("eng-leads"),
			user: withGroups([]any{7, "eng-leads", map[string]any{"name": "x"}, nil}), path: "/standup",
			wantRole: "moderator", wantLog: `"msg":"ignored group claim members that are not strings","claim":"groups","count":3`,
		},
		{
			name: "only members that are not strings", rooms: room("eng-leads"),
			user: withGroups([]any{true, 1.5}), path: "/standup",
			wantRole: "attendee", wantLog: `"count":2`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t)
		})
	}
}

// TestVerifiedEmail: an email decides emails rules only as far as the
// provider vouches for it. An outright email_verified: false never counts;
// a missing claim (Entra ID) counts unless oidc.require_verified_email.
func TestVerifiedEmail(t *testing.T) {
	t.Parallel()
	require := func(c *config.Config) { c.OIDC.RequireVerifiedEmail = true }
	withClaim := func(v any) oidctest.User {
		u := user("ann", "ann@example.com")
		if v != nil {
			u.Claims["email_verified"] = v
		}
		return u
	}
	for _, tt := range []quirkCase{
		{name: "verified", user: withClaim(true), wantRole: "attendee"},
		{name: "not verified", user: withClaim(false), wantCode: http.StatusForbidden, wantText: "no rule"},
		{name: "no claim, as Entra sends", user: withClaim(nil), wantRole: "attendee"},
		{name: "no claim, verification required", user: withClaim(nil), config: require, wantCode: http.StatusForbidden, wantText: "no rule"},
		{name: "verified, verification required", user: withClaim(true), config: require, wantRole: "attendee"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.rooms, tt.path = room("eng-leads"), "/standup"
			tt.run(t)
		})
	}
}
