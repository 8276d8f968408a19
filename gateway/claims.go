package gateway

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// claimValue finds a claim by its configured name: first the name as one
// key (so "cognito:groups" or "https://example.com/groups" work), then as a
// dotted path into nested objects ("realm_access.roles").
func claimValue(claims map[string]any, name string) (any, bool) {
	if v, ok := claims[name]; ok {
		return v, true
	}
	if !strings.Contains(name, ".") {
		return nil, false
	}
	var cur any = claims
	for _, part := range strings.Split(name, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// claimString returns a claim that is a string; any other type counts as
// absent.
func claimString(claims map[string]any, name string) string {
	v, _ := claimValue(claims, name)
	s, _ := v.(string)
	return s
}

// claimStrings reads a list claim. Providers send a list of strings, or a
// single string when there is one member; members that are not strings are
// skipped and counted so the caller can say so in the log.
func claimStrings(claims map[string]any, name string) (list []string, present bool, skipped int) {
	v, ok := claimValue(claims, name)
	if !ok || v == nil {
		return nil, false, 0
	}
	switch v := v.(type) {
	case string:
		if v == "" {
			return nil, true, 0
		}
		return []string{v}, true, 0
	case []any:
		list = make([]string, 0, len(v))
		for _, m := range v {
			if s, ok := m.(string); ok && s != "" {
				list = append(list, s)
			} else {
				skipped++
			}
		}
		return list, true, skipped
	default:
		return nil, true, 1
	}
}

// claimUserID reads the user id claim, which some providers send as a
// number.
func claimUserID(claims map[string]any, name string) string {
	v, _ := claimValue(claims, name)
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return fmt.Sprintf("%.0f", v)
	}
	return ""
}

// emailVerified is false only when the provider says outright that the
// email is not verified; providers that never send email_verified are
// trusted as configured.
func emailVerified(claims map[string]any) bool {
	switch v := claims["email_verified"].(type) {
	case bool:
		return v
	case string: // some providers send "true"/"false"
		return v != "false"
	}
	return true
}

// Bounds on what a session keeps of a person, so that the session cookie
// fits in a browser whatever the provider sends: people often choose their
// own display name and picture.
const (
	maxNameBytes   = 256 // a display name is cut to this
	maxAvatarBytes = 512 // a longer picture URL is dropped: a cut one is useless
	maxEmailBytes  = 254 // RFC 5321 4.5.3.1.3: no address is longer
	maxIDBytes     = 255 // OIDC Core 2: sub is at most 255 ASCII characters
)

// cut returns s cut to at most n bytes, at a character boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// boundEmail returns email, or, when it is longer than any real address,
// only its domain as "@domain": no exact email pattern matches that (each
// has a part before the @), and *@domain patterns still do, so a rule that
// keeps a domain out keeps this person out too.
func boundEmail(email string) string {
	if len(email) <= maxEmailBytes {
		return email
	}
	i := strings.LastIndexByte(email, '@')
	if i < 0 || len(email)-i > maxEmailBytes {
		return ""
	}
	return email[i:]
}
