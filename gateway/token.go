package gateway

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"hash"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/roomgate/roomgate/config"
)

// nbfSlack backdates a room token's nbf so that Digital Samba's servers,
// whose clock may run a little behind ours, accept it at once. Digital Samba
// documents no skew allowance; 30 s covers ordinary NTP drift.
const nbfSlack = 30 * time.Second

// tokenMinter signs room tokens with the team's developer key (HS256).
type tokenMinter struct {
	teamID string
	key    []byte
	ttl    time.Duration
	base   string // digitalsamba.url without a trailing slash
	now    func() time.Time
	macs   sync.Pool // of *tokenMAC keyed with key
}

func newTokenMinter(cfg config.DigitalSamba, now func() time.Time) *tokenMinter {
	m := &tokenMinter{
		teamID: cfg.TeamID,
		key:    []byte(cfg.DeveloperKey),
		ttl:    cfg.TokenTTL,
		base:   strings.TrimSuffix(cfg.URL.String(), "/"),
		now:    now,
	}
	m.macs.New = func() any { return &tokenMAC{Hash: newMAC(m.key)} }
	return m
}

// mint returns a signed token for id to enter room with role, and its jti
// for the audit log. exp - iat is the configured ttl, or less when
// notAfter (the end of the room's opening) comes sooner.
func (m *tokenMinter) mint(id *identity, room, role string, notAfter time.Time) (signed, jti string, err error) {
	b, jtiAt := m.appendToken(nil, id, room, role, notAfter)
	all := string(b)
	return all[:jtiAt], all[jtiAt:], nil
}

// entry returns the room URL, token included, that sends the browser into
// room, and the token's jti: what a room entry needs, in one allocation.
func (m *tokenMinter) entry(id *identity, room, role string, notAfter time.Time) (location, jti string) {
	bp := tokenBuffers.Get().(*[]byte)
	b := append((*bp)[:0], m.base...)
	b = append(b, '/')
	b = append(b, url.PathEscape(room)...)
	b = append(b, "?token="...)
	// A compact JWT is base64url and dots: nothing in it to escape in a
	// query.
	b, jtiAt := m.appendToken(b, id, room, role, notAfter)
	all := string(b)
	*bp = b
	tokenBuffers.Put(bp)
	return all[:jtiAt], all[jtiAt:]
}

// tokenBuffers are where entry builds a room URL.
var tokenBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// appendToken appends a signed token for id to enter room with role to
// dst, then its jti, and returns the whole and where the jti starts.
//
// It encodes the JWT itself instead of calling golang-jwt: minting is on
// every room entry, and the library's reflection, header map and fresh HMAC
// cost 4 µs of a 12 µs hot path; this costs about 1 µs and produces the
// same bytes (TestMintMatchesJWTLibrary), so the issue-6 throughput target
// (README, Performance) is met.
func (m *tokenMinter) appendToken(dst []byte, id *identity, room, role string, notAfter time.Time) ([]byte, int) {
	now := m.now().Truncate(time.Second)
	exp := now.Add(m.ttl)
	if notAfter.Before(exp) {
		exp = notAfter.Truncate(time.Second)
	}
	var raw [16]byte
	rand.Read(raw[:]) // never fails (crypto/rand, Go 1.24+)
	var jti [22]byte
	base64.RawURLEncoding.Encode(jti[:], raw[:])
	c := make([]byte, 0, 384)
	c = append(c, '{')
	c = appendClaim(c, "td", m.teamID)
	c = appendClaim(c, ",rd", room)
	c = appendClaim(c, ",role", role)
	if id.Name != "" {
		c = appendClaim(c, ",u", id.Name)
	}
	if id.UserID != "" {
		c = appendClaim(c, ",ud", id.UserID)
	}
	if id.Avatar != "" {
		c = appendClaim(c, ",avatar", id.Avatar)
	}
	c = appendInitials(c, id.Name)
	c = append(c, `,"exp":`...)
	c = strconv.AppendInt(c, exp.Unix(), 10)
	c = append(c, `,"nbf":`...)
	c = strconv.AppendInt(c, now.Add(-nbfSlack).Unix(), 10)
	c = append(c, `,"iat":`...)
	c = strconv.AppendInt(c, now.Unix(), 10)
	c = append(c, `,"jti":"`...)
	c = append(c, jti[:]...)
	c = append(c, '"', '}')

	enc := base64.RawURLEncoding
	start := len(dst)
	dst = append(dst, jwtHeader...)
	dst = append(dst, '.')
	dst = enc.AppendEncode(dst, c)
	mac := m.macs.Get().(*tokenMAC)
	mac.Reset()
	mac.Write(dst[start:])
	sum := mac.Sum(mac.sum[:0])
	dst = append(dst, '.')
	dst = enc.AppendEncode(dst, sum)
	m.macs.Put(mac)
	jtiAt := len(dst)
	return append(dst, jti[:]...), jtiAt
}

// tokenMAC is an HMAC-SHA256 keyed with the developer key, with room for
// its sum, so that signing allocates nothing.
type tokenMAC struct {
	hash.Hash
	sum [sha256.Size]byte
}

// jwtHeader is the encoded JOSE header of every room token.
var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// appendClaim appends "name":"value" (name may start with a comma).
func appendClaim(b []byte, name, value string) []byte {
	if name[0] == ',' {
		b = append(b, ',')
		name = name[1:]
	}
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	for i := 0; i < len(value); i++ {
		if c := value[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(value)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, value...)
	return append(b, '"')
}

// roomURL is where the browser enters room with token. The room segment is
// escaped, so a room name can never add a path, query or host.
func (m *tokenMinter) roomURL(room, token string) string {
	return m.base + "/" + url.PathEscape(room) + "?token=" + url.QueryEscape(token)
}

// appendInitials appends the initials claim for name, when it has initials:
// the first letters (or digits) of its first two words, upper-cased, as
// Digital Samba would show them.
func appendInitials(c []byte, name string) []byte {
	n := 0
	for rest := name; rest != "" && n < 2; {
		rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
		if rest == "" {
			break
		}
		r, _ := utf8.DecodeRuneInString(rest)
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if n == 0 {
				c = append(c, `,"initials":"`...)
			}
			c = utf8.AppendRune(c, unicode.ToUpper(r))
			n++
		}
		if end := strings.IndexFunc(rest, unicode.IsSpace); end >= 0 {
			rest = rest[end:]
		} else {
			rest = ""
		}
	}
	if n > 0 {
		c = append(c, '"')
	}
	return c
}

func newMAC(key []byte) hash.Hash { return hmac.New(sha256.New, key) }
