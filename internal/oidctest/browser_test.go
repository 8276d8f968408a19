package oidctest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// newToyGateway is the smallest relying party a Browser can walk through:
// GET /room sends a signed-out person to the provider and a signed-in one to
// roomURL; /auth/callback signs them in with a cookie.
func newToyGateway(t *testing.T, p *Provider, roomURL string) *httptest.Server {
	t.Helper()
	var config oauth2.Config
	ctx := oidc.ClientContext(t.Context(), p.Client())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /room", func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie("session"); err != nil {
			verifier := oauth2.GenerateVerifier()
			http.SetCookie(w, &http.Cookie{Name: "verifier", Value: verifier, Path: "/", HttpOnly: true, Secure: true})
			http.Redirect(w, r, config.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), http.StatusFound)
			return
		}
		http.Redirect(w, r, roomURL, http.StatusFound)
	})
	mux.HandleFunc("GET /auth/callback", func(w http.ResponseWriter, r *http.Request) {
		verifier, err := r.Cookie("verifier")
		if err != nil {
			http.Error(w, "no verifier cookie", http.StatusBadRequest)
			return
		}
		if _, err := config.Exchange(ctx, r.URL.Query().Get("code"), oauth2.VerifierOption(verifier.Value)); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "signed-in", Path: "/", HttpOnly: true, Secure: true})
		http.Redirect(w, r, "/room", http.StatusFound)
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		io.WriteString(w, r.Method+" "+r.PostForm.Get("v"))
	})
	mux.HandleFunc("POST /see-other", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/room", http.StatusSeeOther)
	})
	mux.HandleFunc("POST /temporary", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/echo", http.StatusTemporaryRedirect)
	})
	gw := httptest.NewServer(mux)
	t.Cleanup(gw.Close)
	config = oauth2.Config{
		ClientID:     p.ClientID(),
		ClientSecret: p.ClientSecret(),
		Endpoint:     oauth2.Endpoint{AuthURL: p.Issuer() + "/authorize", TokenURL: p.Issuer() + "/token"},
		RedirectURL:  gw.URL + "/auth/callback",
		Scopes:       []string{oidc.ScopeOpenID},
	}
	p.SetRedirectURI(config.RedirectURL)
	return gw
}

// paths is the host and path of each hop, for readable comparisons.
func paths(hops []*url.URL) []string {
	var out []string
	for _, h := range hops {
		out = append(out, h.Host+h.Path)
	}
	return out
}

func TestBrowserFollow(t *testing.T) {
	t.Parallel()
	p := New(t)
	const roomURL = "https://acme.digitalsamba.com/daily-standup?token=x"
	gw := newToyGateway(t, p, roomURL)
	gwHost, opHost := gw.Listener.Addr().String(), p.server.Listener.Addr().String()
	b := NewBrowser(t)

	resp, hops := b.Follow(t, gw.URL+"/room")
	want := []string{gwHost + "/room", opHost + "/authorize", gwHost + "/auth/callback", gwHost + "/room"}
	if got := paths(hops); !slices.Equal(got, want) {
		t.Errorf("first visit hops: got %q; want %q", got, want)
	}
	if loc, _ := resp.Location(); resp.StatusCode != http.StatusFound || loc == nil || loc.String() != roomURL {
		t.Errorf("first visit ends at: got %d %v; want 302 to %q", resp.StatusCode, loc, roomURL)
	}

	// Signed in: straight through, the provider is not asked again.
	_, hops = b.Follow(t, gw.URL+"/room")
	if got, want := paths(hops), []string{gwHost + "/room"}; !slices.Equal(got, want) {
		t.Errorf("second visit hops: got %q; want %q", got, want)
	}
	if got := len(p.AuthorizeRequests()); got != 1 {
		t.Errorf("authorize requests: got %d; want 1", got)
	}
	if got := len(b.Cookies(t, gw.URL)); got != 2 {
		t.Errorf("cookies for the gateway: got %d; want 2 (Secure cookies kept on loopback)", got)
	}
}

func TestBrowserStopAt(t *testing.T) {
	t.Parallel()
	p := New(t)
	room := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the room was requested; want the browser to stop before it")
	}))
	t.Cleanup(room.Close)
	gw := newToyGateway(t, p, room.URL+"/daily-standup")
	b := NewBrowser(t)
	b.StopAt = StopAtHost(room.Listener.Addr().String())

	resp, hops := b.Follow(t, gw.URL+"/room")
	if len(hops) != 4 {
		t.Errorf("hops: got %q; want 4", paths(hops))
	}
	if loc, _ := resp.Location(); loc == nil || loc.String() != room.URL+"/daily-standup" {
		t.Errorf("stopped at: got %v; want %q", loc, room.URL+"/daily-standup")
	}
}

func TestBrowserPost(t *testing.T) {
	t.Parallel()
	p := New(t)
	gw := newToyGateway(t, p, "https://room.invalid/")
	b := NewBrowser(t)
	tests := []struct {
		name      string
		path      string
		wantHops  int
		wantBody  string
		wantFinal int
	}{
		{name: "307 keeps method and body", path: "/temporary", wantHops: 2, wantBody: "POST yes", wantFinal: 200},
		{name: "303 switches to GET", path: "/see-other", wantHops: 5, wantFinal: 302},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, hops := b.PostForm(t, gw.URL+tt.path, url.Values{"v": {"yes"}})
			if len(hops) != tt.wantHops || resp.StatusCode != tt.wantFinal {
				t.Errorf("got %d hops %q ending in %d; want %d hops ending in %d", len(hops), paths(hops), resp.StatusCode, tt.wantHops, tt.wantFinal)
			}
			body, _ := io.ReadAll(resp.Body)
			if tt.wantBody != "" && string(body) != tt.wantBody {
				t.Errorf("body: got %q; want %q", body, tt.wantBody)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url  string
		want bool
	}{
		{"http://127.0.0.1:8080/x", true},
		{"https://127.0.0.1/", true},
		{"http://[::1]:80/", true},
		{"http://localhost:8080/", false},
		{"https://acme.digitalsamba.com/room", false},
		{"http://10.0.0.1/", false},
		{"ftp://127.0.0.1/", false},
		{"/relative", false},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := isLoopback(u); got != tt.want {
			t.Errorf("isLoopback(%q): got %v; want %v", tt.url, got, tt.want)
		}
	}
}
