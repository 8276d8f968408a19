package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/internal/oidctest"
)

// quirkCase is one person of one provider entering one room.
type quirkCase struct {
	name     string
	rooms    string
	config   func(*config.Config) // nil: the harness's config
	user     oidctest.User
	path     string
	wantRole string // "" when the person must not enter
	wantCode int    // the page's status when wantRole is ""
	wantText string // on that page
	wantLog  string // a line the log must hold
}

// run signs the person in at an in-process provider and enters the room.
func (tt quirkCase) run(t *testing.T) (*env, *oidctest.Browser) {
	t.Helper()
	e := newEnv(t, withRooms(tt.rooms))
	if tt.config != nil {
		e.reconfigure(tt.config)
	}
	e.provider.SetUser(tt.user)
	b := e.browser()
	resp, _ := e.enter(b, tt.path)
	e.wantRoleOrPage(resp, e.mustRoom(tt.path), tt.wantRole, tt.wantCode, tt.wantText)
	if tt.wantLog != "" && !strings.Contains(e.logs.String(), tt.wantLog) {
		t.Errorf("log lacks %q:\n%s", tt.wantLog, e.logs.String())
	}
	return e, b
}

// room is a rooms section with one room whose first rule gives moderator to
// groups and whose second gives attendee to anyone at example.com.
func room(groups ...string) string {
	return fmt.Sprintf(`
  - path: standup
    room: daily-standup
    rules:
      - groups: [%s]
        role: moderator
      - emails: ["*@example.com"]
        role: attendee
`, `"`+strings.Join(groups, `", "`)+`"`)
}

func groupNamesMode(mode string) func(*config.Config) {
	return func(c *config.Config) { c.OIDC.Claims.GroupNames = mode }
}

func groupsClaim(path string) func(*config.Config) {
	return func(c *config.Config) { c.OIDC.Claims.Groups = path }
}

// keycloakUser is an ID token as Keycloak 26 issues it with a Group
// Membership mapper ("Full group path" on) and the realm and client roles
// mappers added to the ID token.
func keycloakUser() oidctest.User {
	return oidctest.User{
		Subject: "5f0c3a8e-2b1d-4e6f-9a7c-1d2e3f4a5b6c",
		Claims: map[string]any{
			"typ":                "ID",
			"azp":                "roomgate",
			"sid":                "0b7e6a51-9f3c-4c1e-8d2a-6e5f4a3b2c1d",
			"acr":                "1",
			"email_verified":     true,
			"name":               "Ada Lovelace",
			"preferred_username": "ada",
			"given_name":         "Ada",
			"family_name":        "Lovelace",
			"email":              "ada@example.com",
			"groups":             []string{"/eng", "/eng/leads", "/sales/emea"},
			"realm_access":       map[string]any{"roles": []string{"default-roles-acme", "offline_access", "uma_authorization", "video-host"}},
			"resource_access": map[string]any{
				"roomgate": map[string]any{"roles": []string{"standup-moderator"}},
				"account":  map[string]any{"roles": []string{"manage-account", "view-profile"}},
			},
		},
	}
}

func TestKeycloak(t *testing.T) {
	t.Parallel()
	tests := []quirkCase{
		{name: "full group path", rooms: room("/eng/leads"), user: keycloakUser(), path: "/standup", wantRole: "moderator"},
		{name: "full path glob", rooms: room("/eng/*"), user: keycloakUser(), path: "/standup", wantRole: "moderator"},
		{name: "last segment", rooms: room("leads"), config: groupNamesMode(config.GroupNamesLast), user: keycloakUser(), path: "/standup", wantRole: "moderator"},
		{name: "last segment does not match full paths", rooms: room("/eng/leads"), config: groupNamesMode(config.GroupNamesLast), user: keycloakUser(), path: "/standup", wantRole: "attendee"},
		{name: "full paths do not match a bare name", rooms: room("leads"), user: keycloakUser(), path: "/standup", wantRole: "attendee"},
		{name: "realm roles", rooms: room("video-host"), config: groupsClaim("realm_access.roles"), user: keycloakUser(), path: "/standup", wantRole: "moderator"},
		{name: "client roles", rooms: room("standup-moderator"), config: groupsClaim("resource_access.roomgate.roles"), user: keycloakUser(), path: "/standup", wantRole: "moderator"},
		{name: "another client's roles do not count", rooms: room("manage-account"), config: groupsClaim("resource_access.roomgate.roles"), user: keycloakUser(), path: "/standup", wantRole: "attendee"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t)
		})
	}
}

// Entra ID group object ids.
const (
	entraLeads = "2f4c1a9e-7b3d-4e8a-b6c2-9d1e0f3a5b7c"
	entraOther = "8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
)

// entraUser is a v2.0 ID token of Entra ID with the groups claim
// (Security groups, as object ids) and no email claim: user_id is the oid.
func entraUser(groups ...string) oidctest.User {
	claims := map[string]any{
		"ver":                "2.0",
		"tid":                "9188040d-6c67-4c5b-b112-36a304b66dad",
		"oid":                "00000000-0000-0000-66f3-3332eca7ea81",
		"name":               "Ada Lovelace",
		"preferred_username": "ada@contoso.example",
		"aio":                "Df2UVXL1ix!lMCWMSOJBcFatzcGfvFGhjKv8q5g0x732dR5MB5BisvGQO7YWByjd8iQDLq!eGbIDakyp5mnOrcdqHeYSnltepQmRp6AIZ8jY",
		"rh":                 "0.AXoAdUC9kW3Q8kSxEjajBLZtrQ.",
		"uti":                "fqiBqXLPj0eQa82S-IYFAA",
	}
	if groups != nil {
		claims["groups"] = groups
	}
	return oidctest.User{Subject: "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", Claims: claims}
}

// entraOverageUser is the same person in more than 200 groups: the ID token
// carries a pointer to the groups instead of the groups.
func entraOverageUser() oidctest.User {
	u := entraUser()
	u.Claims["_claim_names"] = map[string]any{"groups": "src1"}
	u.Claims["_claim_sources"] = map[string]any{"src1": map[string]any{
		"endpoint": "https://graph.windows.net/9188040d-6c67-4c5b-b112-36a304b66dad/users/00000000-0000-0000-66f3-3332eca7ea81/getMemberObjects",
	}}
	return u
}

func entraConfig(c *config.Config) {
	c.OIDC.Scopes = []string{"openid", "profile", "email", "User.Read"}
	c.OIDC.Claims.UserID = "oid"
	c.OIDC.Claims.Email = "preferred_username"
}

// graphStub stands in for Microsoft Graph's POST /v1.0/me/getMemberObjects.
// It learns who "me" is by asking the provider's userinfo with the bearer
// token, so only a real access token of the sign-in gets an answer.
type graphStub struct {
	*httptest.Server
	provider *oidctest.Provider
	groups   map[string][]string // by subject
	status   int                 // when not 0, the answer's status

	mu    sync.Mutex
	calls int
}

func newGraphStub(t *testing.T, p *oidctest.Provider, status int) *graphStub {
	g := &graphStub{provider: p, status: status, groups: map[string][]string{}}
	g.Server = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.Close)
	return g
}

func (g *graphStub) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	g.calls++
	g.mu.Unlock()
	var in struct {
		SecurityEnabledOnly *bool `json:"securityEnabledOnly"`
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1.0/me/getMemberObjects" ||
		json.NewDecoder(r.Body).Decode(&in) != nil || in.SecurityEnabledOnly == nil || !*in.SecurityEnabledOnly {
		http.Error(w, `{"error":{"code":"BadRequest"}}`, http.StatusBadRequest)
		return
	}
	if g.status != 0 {
		w.WriteHeader(g.status)
		fmt.Fprintf(w, `{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}`)
		return
	}
	req, _ := http.NewRequest(http.MethodGet, g.provider.Issuer()+"/userinfo", nil)
	req.Header.Set("Authorization", r.Header.Get("Authorization"))
	resp, err := g.provider.Client().Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":{"code":"InvalidAuthenticationToken"}}`)
		return
	}
	defer resp.Body.Close()
	var me struct{ Sub string }
	json.NewDecoder(resp.Body).Decode(&me)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(Edm.String)",
		"value":          g.groups[me.Sub],
	})
}

func TestEntraID(t *testing.T) {
	t.Parallel()
	tests := []quirkCase{
		{name: "groups as object ids", rooms: room(entraLeads), config: entraConfig, user: entraUser(entraOther, entraLeads), path: "/standup", wantRole: "moderator"},
		{name: "other object ids", rooms: room(entraLeads), config: entraConfig, user: entraUser(entraOther), path: "/standup", wantCode: http.StatusForbidden, wantText: "no rule for"},
		{
			name: "overage without Graph: a page that says so, no session", rooms: room(entraLeads), config: entraConfig,
			user: entraOverageUser(), path: "/standup",
			wantCode: http.StatusBadGateway, wantText: "more groups than your company", wantLog: "groups overage",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, b := tt.run(t)
			if tt.wantCode == http.StatusBadGateway && e.hasCookie(b, "/", "roomgate_session") {
				t.Errorf("a session was started")
			}
		})
	}
}

func TestEntraOverageThroughGraph(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    int // Graph's answer; 0 for the groups
		scopes    []string
		wantRole  string
		wantCode  int
		wantText  string
		wantLog   string
		wantCalls int
	}{
		{name: "resolved", wantRole: "moderator", wantLog: "groups overage resolved through Microsoft Graph", wantCalls: 1},
		{name: "Graph refuses the token", status: http.StatusForbidden, wantCode: http.StatusBadGateway, wantText: "more groups than your company", wantLog: "Authorization_RequestDenied", wantCalls: 1},
		{name: "Graph is down", status: http.StatusServiceUnavailable, wantCode: http.StatusBadGateway, wantText: "not answering", wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withRooms(room(entraLeads)))
			graph := newGraphStub(t, e.provider, tt.status)
			u := entraOverageUser()
			graph.groups[u.Subject] = []string{entraOther, entraLeads}
			graphURL, _ := url.Parse(graph.URL)
			e.reconfigure(func(c *config.Config) {
				entraConfig(c)
				c.OIDC.Entra = config.Entra{Overage: config.OverageGraph, GraphURL: graphURL}
			})
			e.provider.SetUser(u)
			resp, _ := e.enter(e.browser(), "/standup")
			e.wantRoleOrPage(resp, "daily-standup", tt.wantRole, tt.wantCode, tt.wantText)
			graph.mu.Lock()
			calls := graph.calls
			graph.mu.Unlock()
			if calls != tt.wantCalls {
				t.Errorf("Graph calls: got %d; want %d", calls, tt.wantCalls)
			}
			logs := e.logs.String()
			if tt.wantLog != "" && !strings.Contains(logs, tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, logs)
			}
			if strings.Contains(logs, "Insufficient privileges") {
				t.Errorf("Graph's error message reached the log; only its code may")
			}
		})
	}
}

// oktaUser is an ID token of an Okta custom authorization server with a
// groups claim (filter: matches regex .*).
func oktaUser(groups ...string) oidctest.User {
	return oidctest.User{
		Subject: "00u1a2b3c4D5e6F7g8h9",
		Claims: map[string]any{
			"ver":                1,
			"jti":                "ID.4eAWJOCMB3SX8XewDfVR-ZrtvBwUSYf1fbLbQd4bxKc",
			"amr":                []string{"pwd", "mfa"},
			"idp":                "00o1a2b3c4D5e6F7g8h9",
			"name":               "Ada Lovelace",
			"email":              "ada@example.com",
			"preferred_username": "ada@example.com",
			"at_hash":            "preZ_5rZKvO0V5zHAyLbEA",
			"groups":             groups,
		},
	}
}

func TestOkta(t *testing.T) {
	t.Parallel()
	inUserinfo := oktaUser()
	delete(inUserinfo.Claims, "groups")
	inUserinfo.UserInfo = map[string]any{"groups": []string{"Everyone", "eng-leads"}}
	tests := []quirkCase{
		{name: "groups claim in the ID token", rooms: room("eng-leads"), user: oktaUser("Everyone", "Engineering", "eng-leads"), path: "/standup", wantRole: "moderator"},
		{name: "groups only in userinfo", rooms: room("eng-leads"), user: inUserinfo, path: "/standup", wantRole: "moderator"},
		{name: "Everyone is a group like another", rooms: room("Everyone"), user: oktaUser("Everyone"), path: "/standup", wantRole: "moderator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t)
		})
	}
}

// googleUser is an ID token of Google: a Workspace person (hd), no groups.
func googleUser() oidctest.User {
	return oidctest.User{
		Subject: "110169484474386276334",
		Claims: map[string]any{
			"azp":            "1234987819200.apps.googleusercontent.com",
			"hd":             "example.com",
			"email":          "ada@example.com",
			"email_verified": true,
			"at_hash":        "HK6E_P6Dh8Y93mRNtsDB1Q",
			"name":           "Ada Lovelace",
			"picture":        "https://lh3.googleusercontent.com/a/ACg8ocJ-example=s96-c",
			"given_name":     "Ada",
			"family_name":    "Lovelace",
		},
	}
}

func TestGoogle(t *testing.T) {
	t.Parallel()
	tt := quirkCase{
		rooms: room("eng-leads"), user: googleUser(), path: "/standup",
		wantRole: "attendee", wantLog: "no groups claim for this person",
	}
	e, _ := tt.run(t)
	if n := e.provider.UserInfoRequests(); n != 1 {
		t.Errorf("userinfo requests: got %d; want 1 (groups might be there)", n)
	}
}

func TestProviderWarnings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		issuer string
		scopes string
		entra  string
		rooms  string
		want   []string
	}{
		{"Google with group rules", "https://accounts.google.com", "[openid, email]", "", room("eng-leads"),
			[]string{`oidc.issuer is Google, which sends no groups: the rules' 1 group pattern(s) for its people (first "eng-leads") will never match; write rules with emails instead`}},
		{"Google with email rules only", "https://accounts.google.com", "[openid, email]", "", "\n  - path: standup\n    room: r\n    rules:\n      - emails: [\"*@example.com\"]\n        role: attendee\n", nil},
		{"Keycloak with group rules", "https://sso.example.com/realms/acme", "[openid, email]", "", room("eng-leads"), nil},
		{"Graph without User.Read", "https://login.microsoftonline.com/t/v2.0", "[openid, email]", "graph", room(entraLeads),
			[]string{"oidc.entra.overage is graph but oidc.scopes lacks User.Read: Microsoft Graph will refuse the sign-in's access token"}},
		{"Graph with User.Read", "https://login.microsoftonline.com/t/v2.0", "[openid, email, https://graph.microsoft.com/User.Read]", "graph", room(entraLeads), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			entra := ""
			if tt.entra != "" {
				entra = "\n  entra:\n    overage: " + tt.entra
			}
			file := fmt.Sprintf(`server:
  public_url: "https://meet.example.com"
oidc:
  issuer: %q
  client_id: roomgate
  client_secret: s
  scopes: %s%s
session:
  secret: %s
digitalsamba:
  team_id: t
  url: "https://%s"
  developer_key: k
rooms:%s`, tt.issuer, tt.scopes, entra, testSessionKey, roomHost, tt.rooms)
			cfg, err := config.Parse("config.yaml", []byte(file), config.Options{Reserved: ReservedPaths()})
			if err != nil {
				t.Fatalf("config: %v", err)
			}
			got := ProviderWarnings(cfg)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("ProviderWarnings() = %q; want %q", got, tt.want)
			}
		})
	}
}

// TestProviderWarningsPerProvider: with several providers, a Google
// partner is warned about only for the patterns that name it.
func TestProviderWarningsPerProvider(t *testing.T) {
	t.Parallel()
	file := func(rules string) string {
		return fmt.Sprintf(`server:
  public_url: "https://meet.example.com"
providers:
  - id: acme
    issuer: "https://sso.example.com/realms/acme"
    client_id: roomgate
    client_secret: s
    email_domains: [example.com]
  - id: gmail
    issuer: "https://accounts.google.com"
    client_id: roomgate
    client_secret: s
    scopes: [openid, email]
    email_domains: [gmail.com]
session:
  secret: %s
digitalsamba:
  team_id: t
  url: "https://%s"
  developer_key: k
rooms:
  - path: standup
    room: r
    rules:
      - groups: [%s]
        role: attendee
`, testSessionKey, roomHost, rules)
	}
	for rules, want := range map[string]string{
		"eng-leads":              "",
		`"gmail:eng", "gmail:*"`: `providers[1].issuer is Google, which sends no groups: the rules' 2 group pattern(s) for its people (first "gmail:*") will never match; write rules with emails instead`,
	} {
		cfg, err := config.Parse("config.yaml", []byte(file(rules)), config.Options{Reserved: ReservedPaths()})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(ProviderWarnings(cfg), "\n"); got != want {
			t.Errorf("groups [%s]: %q; want %q", rules, got, want)
		}
	}
}
