package gateway

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/roomgate/roomgate/config"
)

// nbfSlack backdates a room token's nbf so that Digital Samba's servers,
// whose clock may run a little behind ours, accept it at once. Digital Samba
// documents no skew allowance; 30 s covers ordinary NTP drift.
const nbfSlack = 30 * time.Second

// roomToken is the claim set of a Digital Samba room token
// (reference/digitalsamba.md): td, rd, role, the person, and the
// registered exp, nbf, iat and jti. The times are plain seconds, which
// encoding/json writes directly: jwt.RegisteredClaims' NumericDate goes
// through MarshalJSON and a re-scan of its output, which cost a fifth of a
// room entry under load (docs/performance.md).
type roomToken struct {
	TeamID    string `json:"td"`
	Room      string `json:"rd"`
	Role      string `json:"role"`
	Name      string `json:"u,omitempty"`
	UserID    string `json:"ud,omitempty"`
	Avatar    string `json:"avatar,omitempty"`
	Initials  string `json:"initials,omitempty"`
	ExpiresAt int64  `json:"exp"`
	NotBefore int64  `json:"nbf"`
	IssuedAt  int64  `json:"iat"`
	ID        string `json:"jti"`
}

// The jwt.Claims of a room token.
func (t roomToken) GetExpirationTime() (*jwt.NumericDate, error) { return unixDate(t.ExpiresAt), nil }
func (t roomToken) GetNotBefore() (*jwt.NumericDate, error)      { return unixDate(t.NotBefore), nil }
func (t roomToken) GetIssuedAt() (*jwt.NumericDate, error)       { return unixDate(t.IssuedAt), nil }
func (t roomToken) GetIssuer() (string, error)                   { return "", nil }
func (t roomToken) GetSubject() (string, error)                  { return "", nil }
func (t roomToken) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

func unixDate(s int64) *jwt.NumericDate { return jwt.NewNumericDate(time.Unix(s, 0)) }

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
// for the audit log. exp - iat is the configured ttl, or less when
// notAfter (the end of the room's opening) comes sooner.
func (m *tokenMinter) mint(id *identity, room, role string, notAfter time.Time) (signed, jti string, err error) {
	now := m.now().Truncate(time.Second)
	exp := now.Add(m.ttl)
	if notAfter.Before(exp) {
		exp = notAfter.Truncate(time.Second)
	}
	jti = randomToken()
	claims := roomToken{
		TeamID: m.teamID, Room: room, Role: role,
		Name: id.Name, UserID: id.UserID, Avatar: id.Avatar, Initials: initials(id.Name),
		ExpiresAt: exp.Unix(), NotBefore: now.Add(-nbfSlack).Unix(), IssuedAt: now.Unix(), ID: jti,
	}
	signed, err = jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(m.key)
	if err != nil {
		return "", "", fmt.Errorf("gateway: signing a room token: %w", err)
	}
	return signed, jti, nil
}

// entry returns the room URL, token included, that sends the browser into
// room, and the token's jti.
func (m *tokenMinter) entry(id *identity, room, role string, notAfter time.Time) (location, jti string, err error) {
	token, jti, err := m.mint(id, room, role, notAfter)
	if err != nil {
		return "", "", err
	}
	return m.roomURL(room, token), jti, nil
}

// roomURL is where the browser enters room with token. The room segment is
// escaped, so a room name can never add a path, query or host.
func (m *tokenMinter) roomURL(room, token string) string {
	return m.base + "/" + url.PathEscape(room) + "?token=" + url.QueryEscape(token)
}

// initials are name's initials, as Digital Samba would show them: the
// first letters (or digits) of its first two words, upper-cased.
func initials(name string) string {
	var b strings.Builder
	n := 0
	for rest := name; rest != "" && n < 2; {
		rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
		if rest == "" {
			break
		}
		r, _ := utf8.DecodeRuneInString(rest)
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToUpper(r))
			n++
		}
		if end := strings.IndexFunc(rest, unicode.IsSpace); end >= 0 {
			rest = rest[end:]
		} else {
			rest = ""
		}
	}
	return b.String()
}
