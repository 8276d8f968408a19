package dsroom

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	team = "3f1c0000-0000-4000-8000-00000000000a"
	key  = "developer-key-0123456789abcdef0123456789"
)

var now = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

// goodClaims are the claims roomgate mints for room r at now.
func goodClaims(r string) jwt.MapClaims {
	return jwt.MapClaims{
		"td":       team,
		"rd":       r,
		"role":     "moderator",
		"u":        "Mona Moderator",
		"ud":       "user-1",
		"initials": "MM",
		"avatar":   "https://example.com/mona.png",
		"jti":      "jti-1",
		"iat":      now.Unix(),
		"nbf":      now.Unix(),
		"exp":      now.Add(2 * time.Minute).Unix(),
	}
}

func sign(t *testing.T, m jwt.SigningMethod, k any, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(k)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

// with returns goodClaims(r) changed by set; a nil value deletes the claim.
func with(r string, set map[string]any) jwt.MapClaims {
	c := goodClaims(r)
	for k, v := range set {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return c
}

// unsigned forges an alg "none" token by hand, so that nothing in the jwt
// library's signing path can refuse to make it.
func unsigned(t *testing.T, c jwt.MapClaims) string {
	t.Helper()
	body, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(body) + "."
}

func TestEntry(t *testing.T) {
	t.Parallel()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	hs := jwt.SigningMethodHS256
	good := sign(t, hs, []byte(key), goodClaims("daily-standup"))
	tests := []struct {
		name       string
		path       string // escaped, as on the wire
		token      string
		wantStatus int
		wantRoom   string
		wantWhy    string // a substring of Entry.Why; "" when valid
	}{
		{
			name: "valid", path: "/daily-standup", token: good,
			wantStatus: http.StatusOK, wantRoom: "daily-standup",
		},
		{
			name: "room by uuid", path: "/7f9c2b1e-0000-4000-8000-000000000001",
			token:      sign(t, hs, []byte(key), goodClaims("7f9c2b1e-0000-4000-8000-000000000001")),
			wantStatus: http.StatusOK, wantRoom: "7f9c2b1e-0000-4000-8000-000000000001",
		},
		{
			name: "escaped room is compared unescaped", path: "/caf%C3%A9%20talk",
			token:      sign(t, hs, []byte(key), goodClaims("café talk")),
			wantStatus: http.StatusOK, wantRoom: "café talk",
		},
		{
			name: "clock skew within leeway", path: "/daily-standup",
			token: sign(t, hs, []byte(key), with("daily-standup", map[string]any{
				"iat": now.Add(Leeway - time.Second).Unix(),
				"nbf": now.Add(Leeway - time.Second).Unix(),
				"exp": now.Add(-Leeway + time.Second).Unix(),
			})),
			wantStatus: http.StatusOK, wantRoom: "daily-standup",
		},
		{
			name: "no token", path: "/daily-standup", token: "",
			wantStatus: http.StatusUnauthorized, wantRoom: "daily-standup", wantWhy: "no token",
		},
		{
			name: "not a jwt", path: "/daily-standup", token: "hello",
			wantStatus: http.StatusUnauthorized, wantRoom: "daily-standup", wantWhy: "not a JWT",
		},
		{
			name: "alg none", path: "/daily-standup", token: unsigned(t, goodClaims("daily-standup")),
			wantStatus: http.StatusUnauthorized, wantRoom: "daily-standup", wantWhy: "not signed with HS256",
		},
		{
			name: "RS256", path: "/daily-standup",
			token:      sign(t, jwt.SigningMethodRS256, rsaKey, goodClaims("daily-standup")),
			wantStatus: http.StatusUnauthorized, wantRoom: "daily-standup", wantWhy: "not signed with HS256",
		},
		{
			name: "HS384 with the right key", path: "/daily-standup",
			token:      sign(t, jwt.SigningMethodHS384, []byte(key), goodClaims("daily-standup")),
			wantStatus: http.StatusUnauthorized, wantRoom: "daily-standup", wantWhy: "not signed with HS256",
		},
		{
			name: "HS256 with another key", path: "/daily-standup",
			token:      sign(t, hs, []byte("another-key-0123456789abcdef012345678"), goodClaims("daily-standup")),
			wantStatus: http.StatusUnauthorized, wantRoom: "daily-standup", wantWhy: "not signed with HS256",
		},
		{
			name: "tampered payload", path: "/daily-standup",
			token:      tamper(t, good, "role", "speaker"),
			wantStatus: http.StatusUnauthorized, wantRoom: "daily-standup", wantWhy: "not signed with HS256",
		},
		{
			name: "expired", path: "/daily-standup",
			token: sign(t, hs, []byte(key), with("daily-standup", map[string]any{
				"iat": now.Add(-10 * time.Minute).Unix(),
				"nbf": now.Add(-10 * time.Minute).Unix(),
				"exp": now.Add(-Leeway - time.Second).Unix(),
			})),
			wantStatus: http.StatusUnauthorized, wantRoom: "daily-standup", wantWhy: "expired",
		},
		{
			name: "not valid before", path: "/daily-standup",
			token: sign(t, hs, []byte(key), with("daily-standup", map[string]any{
				"nbf": now.Add(Leeway + time.Second).Unix(),
			})),
			wantStatus: http.StatusUnauthorized, wantRoom: "daily-standup", wantWhy: "not valid yet",
		},
		{
			name: "issued in the future", path: "/daily-standup",
			token: sign(t, hs, []byte(key), with("daily-standup", map[string]any{
				"iat": now.Add(time.Minute).Unix(),
			})),
			wantStatus: http.StatusUnauthorized, wantRoom: "daily-standup", wantWhy: "not valid yet",
		},
		{
			name: "no exp", path: "/daily-standup",
			token:      sign(t, hs, []byte(key), with("daily-standup", map[string]any{"exp": nil})),
			wantStatus: http.StatusUnauthorized, wantRoom: "daily-standup", wantWhy: "lacks a time claim",
		},
		{
			name: "no nbf", path: "/daily-standup",
			token:      sign(t, hs, []byte(key), with("daily-standup", map[string]any{"nbf": nil})),
			wantStatus: http.StatusUnauthorized, wantRoom: "daily-standup", wantWhy: "lacks a time claim",
		},
		{
			name: "no iat", path: "/daily-standup",
			token:      sign(t, hs, []byte(key), with("daily-standup", map[string]any{"iat": nil})),
			wantStatus: http.StatusUnauthorized, wantRoom: "daily-standup", wantWhy: "iat is missing",
		},
		{
			name: "other team", path: "/daily-standup",
			token:      sign(t, hs, []byte(key), with("daily-standup", map[string]any{"td": "another-team"})),
			wantStatus: http.StatusForbidden, wantRoom: "daily-standup", wantWhy: `for team "another-team"`,
		},
		{
			name: "no team", path: "/daily-standup",
			token:      sign(t, hs, []byte(key), with("daily-standup", map[string]any{"td": nil})),
			wantStatus: http.StatusForbidden, wantRoom: "daily-standup", wantWhy: `for team ""`,
		},
		{
			name: "other room", path: "/all-hands",
			token:      good,
			wantStatus: http.StatusForbidden, wantRoom: "all-hands", wantWhy: `for room "daily-standup"; this is room "all-hands"`,
		},
		{
			name: "room differs in case", path: "/Daily-Standup",
			token:      good,
			wantStatus: http.StatusForbidden, wantRoom: "Daily-Standup", wantWhy: `for room "daily-standup"`,
		},
		{
			name: "no role", path: "/daily-standup",
			token:      sign(t, hs, []byte(key), with("daily-standup", map[string]any{"role": nil})),
			wantStatus: http.StatusForbidden, wantRoom: "daily-standup", wantWhy: "no role",
		},
		{
			name: "role of the wrong type", path: "/daily-standup",
			token:      sign(t, hs, []byte(key), with("daily-standup", map[string]any{"role": 7})),
			wantStatus: http.StatusUnauthorized, wantRoom: "daily-standup", wantWhy: "not a JWT",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := New(team, key, func() time.Time { return now })
			target := tt.path
			if tt.token != "" {
				target += "?token=" + url.QueryEscape(tt.token)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))

			if rec.Code != tt.wantStatus {
				t.Errorf("status: got %d; want %d", rec.Code, tt.wantStatus)
			}
			entries := s.Entries()
			if len(entries) != 1 {
				t.Fatalf("entries: got %d; want 1", len(entries))
			}
			e := entries[0]
			if e.Room != tt.wantRoom {
				t.Errorf("Room: got %q; want %q", e.Room, tt.wantRoom)
			}
			if e.Status != rec.Code {
				t.Errorf("Entry.Status: got %d; want %d", e.Status, rec.Code)
			}
			wantValid := tt.wantWhy == ""
			if e.Valid != wantValid {
				t.Errorf("Valid: got %v; want %v (why %q)", e.Valid, wantValid, e.Why)
			}
			if !strings.Contains(e.Why, tt.wantWhy) {
				t.Errorf("Why: got %q; want it to contain %q", e.Why, tt.wantWhy)
			}
			body := rec.Body.String()
			if got := rec.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
				t.Errorf("Content-Type: got %q; want %q", got, "text/html; charset=utf-8")
			}
			if wantValid {
				want := "You are in " + htmlEscape(tt.wantRoom) + " as moderator"
				if !strings.Contains(body, want) {
					t.Errorf("page: got %q; want it to contain %q", body, want)
				}
				return
			}
			if !strings.Contains(body, htmlEscape(e.Why)) {
				t.Errorf("page: got %q; want it to contain the reason %q", body, e.Why)
			}
			if tt.token != "" && len(tt.token) > 10 && strings.Contains(body, tt.token) {
				t.Errorf("page shows the token: %q", body)
			}
		})
	}
}

// tamper changes one claim of a signed token and keeps the old signature.
func tamper(t *testing.T, token, claim, value string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatal(err)
	}
	c[claim] = value
	body, err = json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString(body)
	return strings.Join(parts, ".")
}

// htmlEscape is how the page shows text (no test string holds a '+', which
// html/template escapes and text/template does not).
func htmlEscape(s string) string { return template.HTMLEscapeString(s) }

func TestPageShowsClaims(t *testing.T) {
	t.Parallel()
	s := New(team, key, func() time.Time { return now })
	c := goodClaims("daily-standup")
	c["u"] = "<script>alert(1)</script>"
	srv := httptest.NewServer(s)
	defer srv.Close()
	res, err := http.Get(srv.URL + "/daily-standup?token=" + sign(t, jwt.SigningMethodHS256, []byte(key), c))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	body := string(b)
	for _, want := range []string{
		`<dd id="u">&lt;script&gt;alert(1)&lt;/script&gt;</dd>`,
		`<dd id="ud">user-1</dd>`,
		`<dd id="role">moderator</dd>`,
		`<dd id="initials">MM</dd>`,
		`<dd id="avatar">https://example.com/mona.png</dd>`,
		`<code>jti-1</code>`,
		`<dd id="exp">2026-03-04T10:02:00Z</dd>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page: got %q; want it to contain %q", body, want)
		}
	}
	got := s.Entries()[0].Claims
	want := Claims{TeamID: team, Room: "daily-standup", Role: "moderator", Name: c["u"].(string),
		UserID: "user-1", Initials: "MM", Avatar: "https://example.com/mona.png"}
	if got.TeamID != want.TeamID || got.Room != want.Room || got.Role != want.Role || got.Name != want.Name ||
		got.UserID != want.UserID || got.Initials != want.Initials || got.Avatar != want.Avatar {
		t.Errorf("Claims: got %+v; want %+v", got, want)
	}
	if got.ID != "jti-1" {
		t.Errorf("jti: got %q; want %q", got.ID, "jti-1")
	}
}

func TestFaviconIsNotAnEntry(t *testing.T) {
	t.Parallel()
	s := New(team, key, nil)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/favicon.ico", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("status: got %d; want %d", rec.Code, http.StatusNotFound)
	}
	if n := len(s.Entries()); n != 0 {
		t.Errorf("entries: got %d; want 0", n)
	}
}

func TestOnlyGet(t *testing.T) {
	t.Parallel()
	s := New(team, key, nil)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/daily-standup", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("status: got %d; want %d", rec.Code, http.StatusMethodNotAllowed)
	}
	if n := len(s.Entries()); n != 0 {
		t.Errorf("entries: got %d; want 0", n)
	}
}

func TestEntriesIsACopy(t *testing.T) {
	t.Parallel()
	s := New(team, key, nil)
	s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/a", nil))
	got := s.Entries()
	got[0].Room = "changed"
	if r := s.Entries()[0].Room; r != "a" {
		t.Errorf("Room after changing the copy: got %q; want %q", r, "a")
	}
}

// TestDescribe: the room page shows what Describe says about a verified
// token's jti, and nothing for a jti Describe does not know; a refused
// token's jti is never looked up.
func TestDescribe(t *testing.T) {
	t.Parallel()
	described := map[string]string{
		"jti-1":   `Decided by rules[1] (config.yaml:14): admits group "eng-<leads>"`,
		"jti-bad": "never shown",
	}
	tests := []struct {
		name        string
		claims      jwt.MapClaims
		signKey     []byte
		wantStatus  int
		wantDecided string // "" means no line on the page
		wantAsked   []string
	}{
		{
			name:        "known jti",
			claims:      goodClaims("daily-standup"),
			signKey:     []byte(key),
			wantStatus:  http.StatusOK,
			wantDecided: described["jti-1"],
			wantAsked:   []string{"jti-1"},
		},
		{
			name:       "unknown jti",
			claims:     with("daily-standup", map[string]any{"jti": "jti-2"}),
			signKey:    []byte(key),
			wantStatus: http.StatusOK,
			wantAsked:  []string{"jti-2"},
		},
		{
			name:       "no jti",
			claims:     with("daily-standup", map[string]any{"jti": nil}),
			signKey:    []byte(key),
			wantStatus: http.StatusOK,
		},
		{
			name:       "refused token",
			claims:     with("daily-standup", map[string]any{"jti": "jti-bad"}),
			signKey:    []byte("another-key-0123456789abcdef0123456789"),
			wantStatus: http.StatusUnauthorized,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := New(team, key, func() time.Time { return now })
			var asked []string
			s.Describe = func(jti string) (string, bool) {
				asked = append(asked, jti)
				d, ok := described[jti]
				return d, ok
			}
			rec := httptest.NewRecorder()
			token := sign(t, jwt.SigningMethodHS256, tt.signKey, tt.claims)
			s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/daily-standup?token="+token, nil))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status: got %d; want %d", rec.Code, tt.wantStatus)
			}
			body := rec.Body.String()
			if tt.wantDecided == "" {
				if strings.Contains(body, `id="decided"`) {
					t.Errorf("page: got %q; want no decided line", body)
				}
			} else if want := `<p id="decided">` + htmlEscape(tt.wantDecided) + `</p>`; !strings.Contains(body, want) {
				t.Errorf("page: got %q; want it to contain %q", body, want)
			}
			if got := s.Entries()[0].Decided; got != tt.wantDecided {
				t.Errorf("Entry.Decided: got %q; want %q", got, tt.wantDecided)
			}
			if strings.Join(asked, ",") != strings.Join(tt.wantAsked, ",") {
				t.Errorf("Describe asked about: got %q; want %q", asked, tt.wantAsked)
			}
		})
	}
}
