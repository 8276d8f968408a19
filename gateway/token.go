package gateway

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/golang-jwt/jwt/v5"

	"github.com/roomgate/roomgate/config"
)

// nbfSlack backdates a room token's nbf so that Digital Samba's servers,
// whose clock may run a little behind ours, accept it at once. Digital Samba
// documents no skew allowance; 30 s covers ordinary NTP drift.
const nbfSlack = 30 * time.Second

// RoomToken is the claim set of a Digital Samba room token
// (reference/digitalsamba.md). It is signed, not encrypted: everything in
// it is visible to the person holding it.
type RoomToken struct {
	TeamID   string `json:"td"`
	Room     string `json:"rd"`
	Role     string `json:"role"`
	Name     string `json:"u,omitempty"`
	UserID   string `json:"ud,omitempty"`
	Avatar   string `json:"avatar,omitempty"`
	Initials string `json:"initials,omitempty"`
	jwt.RegisteredClaims
}

// tokenMinter signs room tokens with the team's developer key (HS256).
type tokenMinter struct {
	teamID string
	key    []byte
	ttl    time.Duration
	base   string // digitalsamba.url without a trailing slash
	now    func() time.Time
}

func newTokenMinter(cfg config.DigitalSamba, now func() time.Time) *tokenMinter {
	return &tokenMinter{
		teamID: cfg.TeamID,
		key:    []byte(cfg.DeveloperKey),
		ttl:    cfg.TokenTTL,
		base:   strings.TrimSuffix(cfg.URL.String(), "/"),
		now:    now,
	}
}

// mint returns a signed token for id to enter room with role, and its jti
// for the audit log. exp - iat is exactly the configured ttl.
func (m *tokenMinter) mint(id *identity, room, role string) (signed, jti string, err error) {
	now := m.now().Truncate(time.Second)
	jti = randomToken()
	claims := RoomToken{
		TeamID:   m.teamID,
		Room:     room,
		Role:     role,
		Name:     id.Name,
		UserID:   id.UserID,
		Avatar:   id.Avatar,
		Initials: initials(id.Name),
		RegisteredClaims: jwt.RegisteredClaims{
			ID:        jti,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-nbfSlack)),
			ExpiresAt: jwt.NewNumericDate(now.Add(m.ttl)),
		},
	}
	signed, err = jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(m.key)
	if err != nil {
		return "", "", fmt.Errorf("gateway: signing room token: %w", err)
	}
	return signed, jti, nil
}

// roomURL is where the browser enters room with token. The room segment is
// escaped, so a room name can never add a path, query or host.
func (m *tokenMinter) roomURL(room, token string) string {
	return m.base + "/" + url.PathEscape(room) + "?token=" + url.QueryEscape(token)
}

// initials are the first letters of the first two words of name, as Digital
// Samba would show them; empty when name has none.
func initials(name string) string {
	var out []rune
	for _, word := range strings.Fields(name) {
		r := []rune(word)[0]
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			out = append(out, unicode.ToUpper(r))
		}
		if len(out) == 2 {
			break
		}
	}
	return string(out)
}
