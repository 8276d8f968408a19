//go:build e2e

package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/roomgate/roomgate/internal/oidctest"
)

// TestNoAuditLineLost: roomgate serve, as its own process with its log in
// a file, is killed with SIGKILL in the middle of load; every room token a
// client received has its audit line (its jti) in the file. The audit line
// is written with one write(2) before the redirect leaves, so a crash can
// lose no line of a token that went out.
func TestNoAuditLineLost(t *testing.T) {
	p := oidctest.New(t)
	p.SetUser(oidctest.User{Subject: "ada", Claims: map[string]any{"name": "Ada", "email": "ada@example.com", "groups": []string{"eng-leads"}}})
	port, _ := freePort()
	gwURL := fmt.Sprintf("http://127.0.0.1:%d", port)
	p.SetRedirectURI(gwURL + "/auth/callback")
	conf := filepath.Join(t.TempDir(), "roomgate.yaml")
	text := gatewayConfig(fmt.Sprintf("127.0.0.1:%d", port), gwURL, p.Issuer(), env.roomURL, "8h")
	text = strings.Replace(text, "client_secret: \"${OIDC_CLIENT_SECRET}\"", "client_secret: \""+p.ClientSecret()+"\"", 1)
	text = strings.Replace(text, "scopes: [openid, profile, email, groups, offline_access]", "scopes: [openid, profile, email, groups]", 1)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(env.out, "roomgate-audit.log")
	gw, err := startProcess("roomgate (audit)", logPath, env.gatewayEnv(), env.roomgate, "serve", "-config", conf)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.stop()
	if err := gw.waitHTTP(gwURL+"/readyz", 30*time.Second); err != nil {
		t.Fatalf("roomgate: %v\n%s", err, tail(logPath))
	}
	b := oidctest.NewBrowser(t)
	roomHost := strings.TrimPrefix(env.roomURL, "http://")
	b.StopAt = oidctest.StopAtHost(roomHost)
	if resp, hops := b.Follow(t, gwURL+"/"+standupPath); resp.StatusCode != http.StatusFound {
		t.Fatalf("sign-in: %d after %v\n%s", resp.StatusCode, hops, tail(logPath))
	}
	cookies := b.Cookies(t, gwURL+"/"+standupPath)

	var mu sync.Mutex
	var jtis []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodGet, gwURL+"/"+standupPath, nil)
				for _, c := range cookies {
					req.AddCookie(c)
				}
				resp, err := client.Do(req)
				if err != nil {
					continue // the kill
				}
				resp.Body.Close()
				if jti := jtiOf(resp.Header.Get("Location")); jti != "" {
					mu.Lock()
					jtis = append(jtis, jti)
					mu.Unlock()
				}
			}
		}()
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(jtis)
		mu.Unlock()
		if n >= 2000 || time.Now().After(deadline) {
			break
		}
	}
	syscall.Kill(gw.cmd.Process.Pid, syscall.SIGKILL)
	close(stop)
	wg.Wait()
	<-gw.done
	log, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	lost := 0
	for _, jti := range jtis {
		if !strings.Contains(string(log), `"jti":"`+jti+`"`) {
			lost++
		}
	}
	if len(jtis) < 500 || lost != 0 {
		t.Fatalf("%d tokens received before SIGKILL, %d without an audit line; want hundreds, none", len(jtis), lost)
	}
	t.Logf("%d tokens received before SIGKILL, every one in the audit log", len(jtis))
}

// jtiOf reads the jti of the room token in a room URL.
func jtiOf(location string) string {
	u, err := url.Parse(location)
	if err != nil {
		return ""
	}
	parts := strings.Split(u.Query().Get("token"), ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		JTI string `json:"jti"`
	}
	json.Unmarshal(payload, &c)
	return c.JTI
}
