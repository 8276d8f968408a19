//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomgate/roomgate/internal/oidctest"
)

// TestHydraBackchannelLogout: Ory Hydra, a real provider with OpenID
// Connect Back-Channel Logout, signs a person in to a roomgate process
// through a login and consent app of the test's own; then Hydra ends that
// login session, and its signed logout token, sent to roomgate over HTTP,
// ends the roomgate session: the same cookies are sent to sign in again.
func TestHydraBackchannelLogout(t *testing.T) {
	gwPort, _ := freePort()
	gwURL := fmt.Sprintf("http://127.0.0.1:%d", gwPort)
	public, app, _, logPath := startHydra(t, gwURL, "/auth/callback")

	conf := filepath.Join(t.TempDir(), "roomgate.yaml")
	if err := os.WriteFile(conf, []byte(gatewayConfig(fmt.Sprintf("127.0.0.1:%d", gwPort), gwURL, public, env.roomURL, "10m")), 0o600); err != nil {
		t.Fatal(err)
	}
	gwLog := filepath.Join(env.out, "roomgate-hydra.log")
	gw, err := startProcess("roomgate (hydra)", gwLog, env.gatewayEnv(), env.roomgate, "serve", "-config", conf)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.stop()
	if err := gw.waitHTTP(gwURL+"/readyz", 30*time.Second); err != nil {
		t.Fatalf("roomgate: %v\n%s", err, tail(gwLog))
	}
	b := oidctest.NewBrowser(t)
	roomHost := strings.TrimPrefix(env.roomURL, "http://")
	b.StopAt = oidctest.StopAtHost(roomHost)
	resp, hops := b.Follow(t, gwURL+"/"+standupPath)
	loc, _ := resp.Location()
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Host != roomHost {
		t.Fatalf("sign-in through Hydra ended %d at %v after %v\nroomgate log:\n%s", resp.StatusCode, loc, hops, tail(gwLog))
	}
	if app.sessionID() == "" {
		t.Fatal("the login app saw no Hydra session id")
	}
	// Signed in: the room again, straight.
	if resp, hops = b.Follow(t, gwURL+"/"+standupPath); len(hops) != 1 {
		t.Fatalf("second entry took %v; want straight in", hops)
	}

	// Hydra ends the login session by its id, and sends the logout token
	// (back-channel logout is performed for a sid).
	if status, body := app.call(http.MethodDelete, "/admin/oauth2/auth/sessions/login?sid="+url.QueryEscape(app.sessionID()), nil); status != http.StatusNoContent {
		t.Fatalf("hydra: ending the login session: %d %s", status, body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(readFile(gwLog), `"by":"back-channel logout"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no back-channel logout reached roomgate\nroomgate log:\n%s\nhydra log:\n%s", tail(gwLog), tail(logPath))
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.StopAt = func(u *url.URL) bool { return u.Host != strings.TrimPrefix(gwURL, "http://") }
	resp, _ = b.Follow(t, gwURL+"/"+standupPath)
	if loc, _ := resp.Location(); loc == nil || !strings.HasPrefix(loc.String(), public+"/oauth2/auth") {
		t.Errorf("after Hydra's back-channel logout the cookies went to %v; want a sign-in at Hydra", loc)
	}
}

// startHydra runs Ory Hydra with a login and consent app of the test's
// own (hydraApp), and registers roomgate at gwURL as its client, with the
// redirect URI gwURL+callback and back-channel logout. It returns Hydra's
// public URL (its issuer), the app, the process (stopped when t ends) and
// Hydra's log.
func startHydra(t *testing.T, gwURL, callback string) (public string, app *hydraApp, hydra *process, logPath string) {
	t.Helper()
	publicPort, _ := freePort()
	adminPort, _ := freePort()
	public = fmt.Sprintf("http://127.0.0.1:%d", publicPort)
	admin := fmt.Sprintf("http://127.0.0.1:%d", adminPort)

	app = &hydraApp{admin: admin, t: t}
	appSrv := httptest.NewServer(app)
	t.Cleanup(appSrv.Close)

	logPath = filepath.Join(env.out, "hydra-"+strings.ReplaceAll(t.Name(), "/", "-")+".log")
	hydra, err := startProcess("hydra", logPath, []string{
		"DSN=memory",
		"SECRETS_SYSTEM=" + randomHex(24),
		"URLS_SELF_ISSUER=" + public,
		"URLS_LOGIN=" + appSrv.URL + "/login",
		"URLS_CONSENT=" + appSrv.URL + "/consent",
		"SERVE_PUBLIC_HOST=127.0.0.1", fmt.Sprintf("SERVE_PUBLIC_PORT=%d", publicPort),
		"SERVE_ADMIN_HOST=127.0.0.1", fmt.Sprintf("SERVE_ADMIN_PORT=%d", adminPort),
		"SQA_OPT_OUT=true",
		"LOG_LEVEL=info",
	}, env.hydra, "serve", "all", "--dev", "--sqa-opt-out")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hydra.stop)
	if err := hydra.waitHTTP(public+"/.well-known/openid-configuration", 60*time.Second); err != nil {
		t.Fatalf("hydra: %v\n%s", err, tail(logPath))
	}

	secret := env.secrets["OIDC_CLIENT_SECRET"]
	client := map[string]any{
		"client_id": "roomgate", "client_secret": secret,
		"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"},
		"scope":                      "openid profile email groups offline_access",
		"redirect_uris":              []string{gwURL + callback},
		"post_logout_redirect_uris":  []string{gwURL + "/auth/signed-out"},
		"token_endpoint_auth_method": "client_secret_basic",
		// What an admin registers for roomgate (docs/providers.md).
		"backchannel_logout_uri":              gwURL + "/auth/backchannel-logout",
		"backchannel_logout_session_required": true,
	}
	if status, body := app.call(http.MethodPost, "/admin/clients", client); status != http.StatusCreated {
		t.Fatalf("hydra: registering the client: %d %s", status, body)
	}

	return public, app, hydra, logPath
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// hydraApp is the login and consent app Hydra sends the browser to: it
// signs in Ada without asking, and grants what the client asks, with her
// groups and email in the ID token.
type hydraApp struct {
	admin string
	t     *testing.T
	mu    sync.Mutex
	sid   string
	hint  string // the login_hint of the last login request
	n     int    // login requests so far
}

func (a *hydraApp) logins() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}

func (a *hydraApp) loginHint() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.hint
}

func (a *hydraApp) sessionID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sid
}

func (a *hydraApp) call(method, path string, body any) (int, []byte) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.admin+path, r)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func (a *hydraApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	redirect := func(status int, body []byte) {
		var v struct {
			RedirectTo string `json:"redirect_to"`
		}
		if status != http.StatusOK || json.Unmarshal(body, &v) != nil || v.RedirectTo == "" {
			http.Error(w, fmt.Sprintf("hydra answered %d %s", status, body), http.StatusBadGateway)
			return
		}
		http.Redirect(w, r, v.RedirectTo, http.StatusFound)
	}
	switch r.URL.Path {
	case "/login":
		ch := url.QueryEscape(r.URL.Query().Get("login_challenge"))
		status, body := a.call(http.MethodGet, "/admin/oauth2/auth/requests/login?login_challenge="+ch, nil)
		var req struct {
			SessionID string `json:"session_id"`
			OIDC      struct {
				LoginHint string `json:"login_hint"`
			} `json:"oidc_context"`
		}
		if status != http.StatusOK || json.Unmarshal(body, &req) != nil {
			http.Error(w, string(body), http.StatusBadGateway)
			return
		}
		a.mu.Lock()
		a.sid, a.hint = req.SessionID, req.OIDC.LoginHint
		a.n++
		a.mu.Unlock()
		redirect(a.call(http.MethodPut, "/admin/oauth2/auth/requests/login/accept?login_challenge="+ch,
			map[string]any{"subject": "ada", "remember": true, "remember_for": 3600}))
	case "/consent":
		ch := url.QueryEscape(r.URL.Query().Get("consent_challenge"))
		status, body := a.call(http.MethodGet, "/admin/oauth2/auth/requests/consent?consent_challenge="+ch, nil)
		var req struct {
			Scope    []string `json:"requested_scope"`
			Audience []string `json:"requested_access_token_audience"`
		}
		if status != http.StatusOK || json.Unmarshal(body, &req) != nil {
			http.Error(w, string(body), http.StatusBadGateway)
			return
		}
		redirect(a.call(http.MethodPut, "/admin/oauth2/auth/requests/consent/accept?consent_challenge="+ch, map[string]any{
			"grant_scope": req.Scope, "grant_access_token_audience": req.Audience, "remember": true, "remember_for": 3600,
			"session": map[string]any{"id_token": map[string]any{
				"email": "ada@example.com", "email_verified": true, "name": "Ada Lovelace", "groups": []string{"eng-leads", "engineering"},
			}},
		}))
	default:
		http.NotFound(w, r)
	}
}
