package gateway

// Who the person is: the claims of a sign-in or a refresh (the ID token,
// then userinfo), turned into the identity a session keeps. The callback
// and the re-check both come through here, so they read a person the same
// way: the same claim paths, group names, Entra overage handling and
// bounds on what is kept.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/internal/metrics"
	"golang.org/x/oauth2"
)

// identity is who a session belongs to, as the provider said at sign-in or
// at the last re-check. It is the whole content of the session cookie, so it
// stays small: of the person's groups it keeps one per group pattern of the
// rule set (mapping.RuleSet.Essential), and those spelled like a pattern
// only as a bit (see groupView).
type identity struct {
	Subject  string // the provider's sub: refreshed tokens and userinfo must name the same
	UserID   string
	Name     string
	Email    string
	Avatar   string
	Sid      string // the provider's session id (the ID token's sid), for back-channel logout
	SignedIn int64  // unix seconds
	Checked  int64  // when the groups were read from the provider
	Expires  int64  // end of the session: SignedIn + lifetime
	// AuthTime is when the person last proved who they are at the
	// provider: the ID token's auth_time, or the sign-in when it has
	// none. The helpdesk console asks for a recent one (admin.reauth).
	AuthTime int64
	// GroupCount is how many groups the provider said the person is in;
	// Groups keeps those that matter.
	GroupCount int
	// Issuer is the provider's that signed the person in; "" in sessions
	// from before there were several (the primary's). Provider is its id
	// ("" for the primary), set from Issuer when the session is read.
	Issuer   string
	Provider string

	// Groups are the person's essential groups for the rule set whose
	// fingerprint is Fingerprint. They are not in the cookie as such:
	// groupView.pack writes them as Names and Patterns, and unpack reads
	// them back, but only for a rule set of the same fingerprint.
	Groups      []string
	Fingerprint string
	Names       []string
	Patterns    string
}

// subjectKey is the person's sub as revocations name it: another
// provider's qualified (partner:sub), as its logout tokens are recorded,
// so that one provider's logout can end only its own people's sessions.
func (id *identity) subjectKey() string { return qualified(id.Provider, id.Subject) }

// sidKey is the person's sid as revocations name it, like subjectKey.
func (id *identity) sidKey() string { return qualified(id.Provider, id.Sid) }

// qualified returns value qualified with provider (its id; "" is the
// primary): "" stays "".
func qualified(provider, value string) string {
	if provider == "" || value == "" {
		return value
	}
	return provider + ":" + value
}

// readIdentity reads the person from the verified ID token of a sign-in,
// asking userinfo for what the ID token lacks (many providers keep groups
// there), and keeps the groups v says a session needs.
func (s *Server) readIdentity(ctx context.Context, p *provider, d *discovered, tok *oauth2.Token, idt *oidc.IDToken, v *groupView) (*identity, error) {
	claims, err := s.gatherClaims(ctx, p, d, tok, idt, idt.Subject)
	if err != nil {
		return nil, err
	}
	id, err := s.identityFrom(ctx, p, tok, claims, idt.Subject, v, nil)
	if err == nil {
		// OpenID Connect Back-Channel Logout 1.0, 2.1: sid ties the session
		// to the provider's, so a logout token can end it.
		if sid, _ := claims["sid"].(string); len(sid) <= maxIDBytes {
			id.Sid = sid
		}
	}
	return id, err
}

// gatherClaims returns the claims of idt (nil after a refresh without an ID
// token) completed from userinfo where the configured claims are missing.
// Userinfo must be about subject (OIDC Core 5.3.2). When the groups can
// only come from userinfo and it does not answer, nothing is decided on a
// guess: the error is an unavailableError.
func (s *Server) gatherClaims(ctx context.Context, p *provider, d *discovered, tok *oauth2.Token, idt *oidc.IDToken, subject string) (map[string]any, error) {
	claims := map[string]any{}
	if idt != nil {
		if err := idt.Claims(&claims); err != nil {
			return nil, fmt.Errorf("gateway: reading ID token claims: %w", err)
		}
	}
	c := p.cfg.Claims
	needInfo := false
	for _, name := range []string{c.Groups, c.Name, c.Email, c.UserID} {
		if _, ok := claimValue(claims, name); !ok {
			needInfo = true
		}
	}
	_, haveGroups := claimValue(claims, c.Groups)
	haveGroups = haveGroups || overage(claims, c.Groups)
	if !needInfo || d.oidc.UserInfoEndpoint() == "" {
		if idt == nil {
			return nil, errors.New("gateway: refresh answered without an ID token and the provider has no userinfo endpoint")
		}
		return claims, nil
	}
	info, err := d.oidc.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		if idt == nil || !haveGroups {
			s.metrics.ProviderError(p.name(), metrics.ProviderUserinfo)
			p.failed(err)
			return nil, &unavailableError{fmt.Errorf("gateway: userinfo: %w", err)}
		}
		s.metrics.ProviderError(p.name(), metrics.ProviderUserinfo)
		s.log.Warn("userinfo unavailable; using the ID token alone", "err", err)
		return claims, nil
	}
	var extra map[string]any
	if err := info.Claims(&extra); err != nil {
		return nil, fmt.Errorf("gateway: reading userinfo: %w", err)
	}
	// OIDC Core 5.3.2: userinfo is about the same subject or it is not
	// used at all.
	if sub, _ := extra["sub"].(string); sub != subject {
		return nil, fmt.Errorf("gateway: userinfo subject %q does not match subject %q", sub, subject)
	}
	for k, v := range extra {
		if _, ok := claims[k]; !ok {
			claims[k] = v
		}
	}
	return claims, nil
}

// identityFrom builds the session's identity from the person's claims.
// Groups come from the configured claim, and only from there: absent means
// none. An Entra ID groups overage is resolved through Microsoft Graph when
// configured, and is otherwise an overageError. After a refresh, prev is
// the session's identity, whose user id, name, email and avatar stand in
// for claims the refreshed answer left out.
func (s *Server) identityFrom(ctx context.Context, p *provider, tok *oauth2.Token, claims map[string]any, subject string, v *groupView, prev *identity) (*identity, error) {
	c := p.cfg.Claims
	now := s.now()
	id := &identity{
		Subject:  subject,
		Issuer:   p.cfg.Issuer,
		Provider: p.id,
		UserID:   claimUserID(claims, c.UserID),
		Name:     claimString(claims, c.Name),
		Avatar:   claimString(claims, c.Avatar),
		SignedIn: now.Unix(),
		Checked:  now.Unix(),
		Expires:  now.Add(s.cfg.Session.Lifetime).Unix(),
	}
	if len(id.UserID) > maxIDBytes {
		return nil, fmt.Errorf("gateway: user id longer than %d bytes", maxIDBytes)
	}
	if id.UserID != "" {
		// Another provider's people are partner:sub in the room token's
		// ud, revocations and logs, so that its sub can never be the
		// primary's person's.
		id.UserID = p.qual + id.UserID
	}
	if emailVerified(claims, p.cfg.RequireVerifiedEmail) {
		id.Email = claimString(claims, c.Email)
	}
	id.AuthTime = id.SignedIn
	if at, ok := claims["auth_time"].(float64); ok && at > 0 && int64(at) <= id.SignedIn {
		id.AuthTime = int64(at)
	} else if prev != nil && prev.AuthTime != 0 {
		id.AuthTime = prev.AuthTime
	}
	if prev != nil {
		id.UserID = cmp.Or(id.UserID, prev.UserID)
		id.Name = cmp.Or(id.Name, prev.Name)
		id.Avatar = cmp.Or(id.Avatar, prev.Avatar)
		id.Sid = prev.Sid
		if _, ok := claimValue(claims, c.Email); !ok {
			id.Email = prev.Email
		}
	}
	switch {
	case id.UserID == "":
		return nil, fmt.Errorf("gateway: no user id in claim %q", c.UserID)
	case len(id.UserID) > maxIDBytes+len(p.qual) || len(subject) > maxIDBytes:
		return nil, fmt.Errorf("gateway: user id or subject longer than %d bytes", maxIDBytes)
	}
	id.Name = cut(id.Name, maxNameBytes)
	id.Email = c.RuleEmail(id.Email)
	if len(id.Avatar) > maxAvatarBytes {
		s.log.Info("picture URL too long to keep; entering without it", "user_id", id.UserID, "bytes", len(id.Avatar))
		id.Avatar = ""
	}
	groups, present, skipped := claimStrings(claims, c.Groups)
	if skipped > 0 {
		s.log.Warn("ignored group claim members that are not strings", "claim", c.Groups, "count", skipped, "user_id", id.UserID)
	}
	if !present {
		if overage(claims, c.Groups) {
			var err error
			if groups, err = s.resolveOverage(ctx, p, tok, id); err != nil {
				return nil, err
			}
		} else {
			s.log.Info("no groups claim for this person", "claim", c.Groups, "user_id", id.UserID)
		}
	}
	id.GroupCount = len(groups)
	id.Groups = v.keep(p.id, c.RuleGroups(groups))
	if err := s.boundGroups(id, v); err != nil {
		return nil, err
	}
	return id, nil
}

// maxGroupBytes bounds a group name a session keeps. No directory names a
// group this long on purpose (Entra's limit is 256 characters); someone who
// can create groups might, to crowd the session cookie of the people they
// add to it.
const maxGroupBytes = 256

// boundGroups leaves out of id.Groups the names longer than maxGroupBytes,
// where leaving them out cannot let the person in anywhere they would not
// get in with them, nor change a role: in every room the decision without
// them is the same, or a denial. Otherwise the person cannot be kept safely
// in a session, and the error says so (pageGroupsTooLarge).
func (s *Server) boundGroups(id *identity, v *groupView) error {
	short := id.Groups[:0:0]
	for _, g := range id.Groups {
		if len(g) <= maxGroupBytes {
			short = append(short, g)
		}
	}
	if len(short) == len(id.Groups) {
		return nil
	}
	with, without := v.rules.Person(id.Provider, id.Groups, id.Email), v.rules.Person(id.Provider, short, id.Email)
	for _, room := range v.rules.Rooms() {
		a, b := room.Decide(with), room.Decide(without)
		if b.Allowed && (!a.Allowed || a.Role != b.Role) {
			return fmt.Errorf("gateway: user %s: a group name of more than %d bytes decides room %s (%s): %w",
				id.UserID, maxGroupBytes, room.Path, a.Rule, errCookieTooLarge)
		}
	}
	s.log.Warn("group names too long to keep in a session; left out, which keeps the person out of no more than they would be",
		"user_id", id.UserID, "left_out", len(id.Groups)-len(short), "max_bytes", maxGroupBytes)
	id.Groups = short
	return nil
}

// identityFailed answers a sign-in or re-check whose answer could not be
// turned into an identity. An outage shows the 502 page and keeps the
// session, to be tried again when the provider is back; an overage roomgate
// cannot resolve, or groups that do not fit in a session, sign the person
// out and show the page that says why; anything else is a refusal, which
// refused answers.
func (s *Server) identityFailed(w http.ResponseWriter, r *http.Request, err error, refused func()) {
	var unavailable *unavailableError
	var over *overageError
	switch {
	case errors.As(err, &unavailable):
		s.providerDown(w, r, err)
	case errors.As(err, &over):
		s.sessions.clear(w)
		s.fail(w, r, http.StatusBadGateway, pageGroupsOverage, err)
	case errors.Is(err, errCookieTooLarge):
		s.sessions.clear(w)
		s.fail(w, r, http.StatusInternalServerError, pageGroupsTooLarge, err)
	default:
		refused()
	}
}

// emailVerified says whether the person's email may decide emails rules.
// An outright email_verified: false always drops it. A missing claim drops
// it only when require is set (oidc.require_verified_email): Entra ID never
// sends the claim, so by default its absence is trusted as configured;
// Google, Okta, Keycloak and Dex send it.
func emailVerified(claims map[string]any, require bool) bool {
	switch v := claims["email_verified"].(type) {
	case bool:
		return v
	case string: // some providers send "true"/"false"
		if require {
			return v == "true"
		}
		return v != "false"
	}
	return !require
}

// Bounds on what a session keeps of a person, so that the session cookie
// fits in a browser whatever the provider sends: people often choose their
// own display name and picture.
const (
	maxNameBytes   = 256 // a display name is cut to this
	maxAvatarBytes = 512 // a longer picture URL is dropped: a cut one is useless
	maxIDBytes     = 255 // OIDC Core 2: sub is at most 255 ASCII characters
)

// cut returns s cut to at most n bytes, at a character boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// overage reports whether claims carry a distributed groups claim
// (OIDC Core 5.6.2) instead of the groups themselves, as Entra ID does for
// a person in too many groups: "_claim_names": {"groups": "src1"}. Entra's
// implicit-flow form, "hasgroups": true, counts too.
func overage(claims map[string]any, groupsClaim string) bool {
	if names, ok := claims["_claim_names"].(map[string]any); ok {
		if _, ok := names[groupsClaim]; ok {
			return true
		}
	}
	has, _ := claims["hasgroups"].(bool)
	return has
}

// overageError says the provider sent a pointer to the person's groups
// instead of the groups, and roomgate was not set up to follow it, or
// following it failed (cause).
type overageError struct {
	userID string
	cause  error
}

func (e *overageError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("gateway: groups overage for user %s not resolved: %v", e.userID, e.cause)
	}
	return fmt.Sprintf("gateway: the provider sent no groups for user %s, only a groups overage (_claim_names); set oidc.entra.overage: graph, or have Entra send fewer groups (groups assigned to the application)", e.userID)
}

func (e *overageError) Unwrap() error { return e.cause }

// unavailableError is a provider (or Microsoft Graph) that did not answer
// usefully: down, unreachable, slow, or answering 5xx. The person sees the
// 502 page and keeps their session for when it answers again.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return e.err.Error() }

func (e *unavailableError) Unwrap() error { return e.err }

// resolveOverage returns the groups of a person whose ID token carried an
// overage, from Microsoft Graph when oidc.entra.overage is graph.
func (s *Server) resolveOverage(ctx context.Context, p *provider, tok *oauth2.Token, id *identity) ([]string, error) {
	if p.cfg.Entra.Overage != config.OverageGraph {
		s.log.Warn("groups overage: the provider sent a link to the groups instead of the groups", "user_id", id.UserID, "fix", "oidc.entra.overage: graph")
		return nil, &overageError{userID: id.UserID}
	}
	groups, err := s.graphGroups(ctx, p, tok)
	var unavailable *unavailableError
	switch {
	case errors.As(err, &unavailable):
		return nil, err
	case err != nil:
		return nil, &overageError{userID: id.UserID, cause: err}
	}
	s.log.Info("groups overage resolved through Microsoft Graph", "user_id", id.UserID, "groups", len(groups))
	return groups, nil
}

// identityProblem names, for the helpdesk console, why a person's
// identity could not be read, as the page they saw says it.
func identityProblem(err error) string {
	var unavailable *unavailableError
	var over *overageError
	switch {
	case errors.As(err, &unavailable):
		return "the provider did not answer"
	case errors.As(err, &over):
		return "too many groups for the ID token (groups overage)"
	case errors.Is(err, errCookieTooLarge):
		return "the groups do not fit in a session"
	}
	return "a claim roomgate needs is missing or too long"
}
