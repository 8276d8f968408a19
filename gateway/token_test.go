package gateway

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/roomgate/roomgate/config"
)

func TestMintRoomToken(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 9, 0, 0, 500, time.UTC)
	base, _ := url.Parse("https://acme.digitalsamba.com")
	m := newTokenMinter(config.DigitalSamba{
		TeamID: "team-1", URL: base, DeveloperKey: "developer-key-0123456789abcdef", TokenTTL: 2 * time.Minute,
	}, func() time.Time { return now })
	id := &identity{UserID: "u-42", Name: "ada lovelace", Avatar: "https://img.example/a.png"}

	signed, jti, err := m.mint(id, "daily-standup", "moderator", now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var got roomClaims
	_, err = jwt.ParseWithClaims(signed, &got, func(*jwt.Token) (any, error) {
		return []byte("developer-key-0123456789abcdef"), nil
	}, jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return now }))
	if err != nil {
		t.Fatalf("parsing the minted token with the developer key: %v", err)
	}
	checks := []struct{ name, got, want string }{
		{"td", got.TeamID, "team-1"},
		{"rd", got.Room, "daily-standup"},
		{"role", got.Role, "moderator"},
		{"u", got.Name, "ada lovelace"},
		{"ud", got.UserID, "u-42"},
		{"avatar", got.Avatar, "https://img.example/a.png"},
		{"initials", got.Initials, "AL"},
		{"jti", got.ID, jti},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("claim %s = %q; want %q", c.name, c.got, c.want)
		}
	}
	if ttl := got.ExpiresAt.Sub(got.IssuedAt.Time); ttl != 2*time.Minute {
		t.Errorf("exp - iat = %v; want %v", ttl, 2*time.Minute)
	}
	if slack := got.IssuedAt.Sub(got.NotBefore.Time); slack != nbfSlack {
		t.Errorf("iat - nbf = %v; want %v", slack, nbfSlack)
	}
	if len(jti) != 22 {
		t.Errorf("jti %q: want 22 characters of randomness", jti)
	}
	if _, jti2, _ := m.mint(id, "daily-standup", "moderator", now.Add(time.Hour)); jti2 == jti {
		t.Errorf("two tokens share jti %q", jti)
	}

	// A token signed with any other key must not verify.
	_, err = jwt.Parse(signed, func(*jwt.Token) (any, error) { return []byte("other-key"), nil })
	if err == nil {
		t.Errorf("token verified with the wrong key")
	}
}

func TestRoomURLEscapes(t *testing.T) {
	t.Parallel()
	base, _ := url.Parse("https://acme.digitalsamba.com")
	m := newTokenMinter(config.DigitalSamba{URL: base}, time.Now)
	tests := []struct{ room, want string }{
		{"daily-standup", "https://acme.digitalsamba.com/daily-standup?token=T"},
		{"a/../../evil", "https://acme.digitalsamba.com/a%2F..%2F..%2Fevil?token=T"},
		{"x?token=forged", "https://acme.digitalsamba.com/x%3Ftoken=forged?token=T"},
		{"@evil.example", "https://acme.digitalsamba.com/@evil.example?token=T"},
	}
	for _, tt := range tests {
		if got := m.roomURL(tt.room, "T"); got != tt.want {
			t.Errorf("roomURL(%q) = %q; want %q", tt.room, got, tt.want)
		}
		u, err := url.Parse(m.roomURL(tt.room, "T"))
		if err != nil || u.Host != "acme.digitalsamba.com" || strings.Count(u.RawQuery, "token=") != 1 {
			t.Errorf("roomURL(%q) leaves the team host or adds a token: %v", tt.room, u)
		}
	}
}

// TestEntryIsRoomURLWithAToken: entry's Location is roomURL with a token
// that verifies and carries entry's jti, for a room name that needs
// escaping too.
func TestEntryIsRoomURLWithAToken(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	base, _ := url.Parse("https://acme.digitalsamba.com")
	m := newTokenMinter(config.DigitalSamba{
		TeamID: "team-1", URL: base, DeveloperKey: "developer-key-0123456789abcdef", TokenTTL: 2 * time.Minute,
	}, func() time.Time { return now })
	id := &identity{UserID: "u-42", Name: "Ada Lovelace"}
	for _, room := range []string{"daily-standup", "a/b?c#d"} {
		location, jti, err := m.entry(id, room, "attendee", now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(location)
		if err != nil {
			t.Fatal(err)
		}
		token := u.Query().Get("token")
		if location != m.roomURL(room, token) {
			t.Errorf("entry(%q) = %q; want roomURL with its token, %q", room, location, m.roomURL(room, token))
		}
		var got roomClaims
		if _, err := jwt.ParseWithClaims(token, &got, func(*jwt.Token) (any, error) {
			return []byte("developer-key-0123456789abcdef"), nil
		}, jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return now })); err != nil {
			t.Fatalf("entry(%q): the token does not verify: %v", room, err)
		}
		if got.ID != jti || len(jti) != 22 || got.Room != room || got.Role != "attendee" {
			t.Errorf("entry(%q): claims %+v, jti %q", room, got, jti)
		}
	}
}

func TestInitials(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, want string }{
		{"Ada Lovelace", "AL"},
		{"ada", "A"},
		{"Grace Brewster Hopper", "GB"},
		{"  émile   zola ", "ÉZ"},
		{"", ""},
		{"(guest)", ""},
	}
	for _, tt := range tests {
		if got := initials(tt.name); got != tt.want {
			t.Errorf("initials(%q) = %q; want %q", tt.name, got, tt.want)
		}
	}
}

// roomClaims is a room token as golang-jwt reads it, with its registered
// claims: the tests read what mint wrote through the library, not through
// mint's own type.
type roomClaims struct {
	TeamID   string `json:"td"`
	Room     string `json:"rd"`
	Role     string `json:"role"`
	Name     string `json:"u,omitempty"`
	UserID   string `json:"ud,omitempty"`
	Avatar   string `json:"avatar,omitempty"`
	Initials string `json:"initials,omitempty"`
	jwt.RegisteredClaims
}

var _ jwt.Claims = roomToken{}
