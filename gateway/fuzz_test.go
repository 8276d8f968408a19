package gateway

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/roomgate/roomgate/config"
)

// FuzzSafeReturnPath checks the return-path allowlist against its promise:
// whatever it accepts is "/" or one path segment of a room path's alphabet,
// unchanged, and a browser resolving it stays on the gateway.
func FuzzSafeReturnPath(f *testing.F) {
	for _, s := range []string{
		"/", "/standup", "/all-hands.2026_q1", "", "standup", "//evil.example", "/\\evil.example",
		"\\\\evil.example", "https://evil.example", "javascript:alert(1)", "/%2F%2Fevil.example",
		"/%5Cevil", "/../evil", "/.well-known", "/standup/x", "/standup?x", "/standup#x", "/\t/evil",
		"/standup\nLocation: x", "/\x00", "/@evil.example", "/\uff0fevil", "/st\u0430ndup", "/" + strings.Repeat("a", 64),
		"/" + strings.Repeat("a", 65), "/a:b", "/-x", "/x-", "/_",
	} {
		f.Add(s)
	}
	gw, _ := url.Parse("https://meet.example.com/room")
	f.Fuzz(func(t *testing.T, in string) {
		got, ok := safeReturnPath(in)
		if !ok {
			if got != "" {
				t.Fatalf("safeReturnPath(%q) refused but returned %q", in, got)
			}
			return
		}
		if got != in {
			t.Fatalf("safeReturnPath(%q) = %q; want it unchanged", in, got)
		}
		if got == "/" {
			return
		}
		if len(got) < 2 || len(got) > 65 || got[0] != '/' || !isAlnum(got[1]) {
			t.Fatalf("safeReturnPath accepted %q; want / and one segment starting with a letter or digit", got)
		}
		for _, c := range []byte(got[1:]) {
			if !isAlnum(c) && c != '.' && c != '_' && c != '-' {
				t.Fatalf("safeReturnPath accepted %q with byte %q", got, c)
			}
		}
		if strings.Contains(got, "//") || strings.Contains(got, "\\") || strings.Contains(got, ":") {
			t.Fatalf("safeReturnPath accepted %q", got)
		}
		u, err := gw.Parse(got)
		if err != nil || u.Host != gw.Host || u.Scheme != gw.Scheme || u.Path != got || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("safeReturnPath accepted %q, which resolves to %v", got, u)
		}
	})
}

// FuzzClaims reads claims of any shape, as a provider may send them, by any
// configured name. It must never panic, and what it returns must keep its
// promises: no empty group, every member either kept or counted as skipped,
// and a name that is a key of its own wins over a dotted path.
func FuzzClaims(f *testing.F) {
	seeds := []struct{ claims, name string }{
		{`{"groups":["a","b"]}`, "groups"},
		{`{"groups":"a"}`, "groups"},
		{`{"groups":""}`, "groups"},
		{`{"groups":null}`, "groups"},
		{`{"groups":[1,"a",null,{"x":1},["y"],""]}`, "groups"},
		{`{"groups":{"a":true}}`, "groups"},
		{`{"realm_access":{"roles":["r1","r2"]}}`, "realm_access.roles"},
		{`{"realm_access.roles":["flat"],"realm_access":{"roles":["nested"]}}`, "realm_access.roles"},
		{`{"cognito:groups":["c"]}`, "cognito:groups"},
		{`{"https://example.com/groups":["u"]}`, "https://example.com/groups"},
		{`{"a":{"b":{"c":{"d":["deep"]}}}}`, "a.b.c.d"},
		{`{"a":["not","an","object"]}`, "a.b"},
		{`{"":{"":["empty"]}}`, "."},
		{`{"sub":12345678901234567890}`, "sub"},
		{`{"sub":1e300}`, "sub"},
		{`{"sub":-0.5,"email_verified":"false"}`, "sub"},
		{`{"email_verified":"FALSE","email":"a@b"}`, "email"},
		{`{}`, ""},
		{`{"a..b":1}`, "a..b"},
	}
	for _, s := range seeds {
		f.Add(s.claims, s.name)
	}
	f.Fuzz(func(t *testing.T, raw, name string) {
		var claims map[string]any
		if json.Unmarshal([]byte(raw), &claims) != nil {
			return
		}
		v, found := claimValue(claims, name)
		if direct, ok := claims[name]; ok && (!found || !reflect.DeepEqual(v, direct)) {
			t.Fatalf("claimValue(%s, %q) = %v, %v; want the key itself, %v", raw, name, v, found, direct)
		}
		list, present, skipped := claimStrings(claims, name)
		if !present && (list != nil || skipped != 0) {
			t.Fatalf("claimStrings(%s, %q) = %q, absent, %d skipped; want nothing when absent", raw, name, list, skipped)
		}
		if present != (found && v != nil) {
			t.Fatalf("claimStrings(%s, %q): present = %v; claimValue found %v (%v)", raw, name, present, found, v)
		}
		for _, g := range list {
			if g == "" {
				t.Fatalf("claimStrings(%s, %q) = %q; want no empty group", raw, name, list)
			}
		}
		if arr, ok := v.([]any); ok && len(list)+skipped != len(arr) {
			t.Fatalf("claimStrings(%s, %q) kept %d and skipped %d of %d", raw, name, len(list), skipped, len(arr))
		}
		if s := claimString(claims, name); s != "" {
			if vs, _ := v.(string); vs != s {
				t.Fatalf("claimString(%s, %q) = %q; want the string claim %q", raw, name, s, vs)
			}
		}
		if id := claimUserID(claims, name); id != "" {
			switch v := v.(type) {
			case string:
				if id != v {
					t.Fatalf("claimUserID = %q; want %q", id, v)
				}
			case float64:
			default:
				t.Fatalf("claimUserID(%s, %q) = %q from a %T", raw, name, id, v)
			}
		}
		emailVerified(claims, true)
	})
}

// FuzzSessionCookie presents altered session cookies. Without the secret no
// alteration may yield a session, and never one for anyone else: at most,
// one that decodes to exactly the person the real cookie was for.
func FuzzSessionCookie(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	store, err := newSessionStore(config.Session{
		Secrets:  []string{testSessionKey, "an-older-session-secret-0123456789abcdef"},
		Lifetime: 8 * time.Hour,
	}, false, func() time.Time { return now }, maxCookieHeader)
	if err != nil {
		f.Fatal(err)
	}
	want := &identity{UserID: "ada", Name: "Ada Tester", Email: "ada@example.com", Groups: []string{"eng-leads"},
		SignedIn: now.Unix(), Checked: now.Unix(), Expires: now.Add(time.Hour).Unix()}
	w := httptest.NewRecorder()
	if _, err := store.save(w, httptest.NewRequest(http.MethodGet, "/", nil), want); err != nil {
		f.Fatal(err)
	}
	valid := w.Result().Cookies()[0].Value
	ref := httptest.NewRequest(http.MethodGet, "/standup", nil)
	ref.Header.Set("Cookie", store.name+"="+valid)
	want = store.load(ref)
	if want == nil || want.UserID != "ada" {
		f.Fatalf("the real cookie decodes to %+v; want ada", want)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(valid + "A")
	f.Add("")
	f.Add("MTgwMDAwMDAwMHx8")
	f.Add(strings.Repeat("A", 5000))
	f.Fuzz(func(t *testing.T, value string) {
		r := httptest.NewRequest(http.MethodGet, "/standup", nil)
		r.Header.Set("Cookie", store.name+"="+value)
		id := store.load(r)
		if id == nil {
			return
		}
		if !reflect.DeepEqual(id, want) {
			t.Fatalf("cookie %q decoded to %+v; want nothing, or exactly %+v", value, id, want)
		}
	})
}
