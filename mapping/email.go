package mapping

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Emails compare as mail does, not as Unicode does. A domain compares in
// its ASCII form (IDNA, as resolvers look it up: bücher.example is
// xn--bcher-kva.example), without a trailing dot, which names the same
// domain. A local part compares as written but for the case of ASCII
// letters (a Kelvin sign is not a k). An address that cannot be read as an
// address at all (two @, a comment, control characters, a domain IDNA
// refuses) matches no emails of any rule: its domain is unknown, so no
// rule can say it covers it.

// emailPattern is an email matcher compiled at Parse time: an address, or
// *@domain for everyone whose address ends in @domain. Both compare as
// above; the domain must be the whole domain (*@example.com does not cover
// bob@mail.example.com).
type emailPattern struct {
	text   string // as written
	exact  string // normalEmail's form; "" for a domain pattern
	domain string // normalDomain's form of a *@domain pattern; "" for an address
}

// compileEmail checks and compiles an email pattern. The error is the
// message for the admin, without the field path.
func compileEmail(s string) (emailPattern, error) {
	switch {
	case s == "":
		return emailPattern{}, fmt.Errorf("empty email")
	case strings.IndexFunc(s, unicode.IsSpace) >= 0:
		return emailPattern{}, fmt.Errorf("%q contains a space; an email has none", s)
	case !strings.Contains(s, "@"):
		return emailPattern{}, fmt.Errorf("%q is not an email (no @): write name@example.com, or *@example.com for everyone at a domain", s)
	case strings.Count(s, "@") > 1:
		return emailPattern{}, fmt.Errorf("%q has more than one @", s)
	}
	local, domain, _ := strings.Cut(s, "@")
	switch {
	case local == "*" && domain == "":
		return emailPattern{}, fmt.Errorf("%q names no domain: write *@example.com", s)
	case local == "*" && strings.Contains(domain, "*"):
		return emailPattern{}, fmt.Errorf("%q: * is only allowed as the whole part before the @, as in *@example.com", s)
	case local == "*":
		d, ok := normalDomain(domain)
		if !ok {
			return emailPattern{}, badEmail(s)
		}
		return emailPattern{text: s, domain: d}, nil
	case strings.Contains(s, "*"):
		return emailPattern{}, fmt.Errorf("%q: * is only allowed as the whole part before the @, as in *@example.com", s)
	case local == "" || domain == "":
		return emailPattern{}, fmt.Errorf("%q is not an email: write name@example.com, or *@example.com for everyone at a domain", s)
	}
	norm, _, ok := normalEmail(s)
	if !ok {
		return emailPattern{}, badEmail(s)
	}
	return emailPattern{text: s, exact: norm}, nil
}

func badEmail(s string) error {
	return fmt.Errorf("%q is not an address roomgate can read: no quotes, comments, control characters or empty labels, and a domain IDNA accepts", s)
}

// normalEmail returns the address in the one form roomgate compares: the
// local part with its ASCII letters lower-cased, the domain in ASCII (see
// normalDomain). ok is false for what cannot be read as an address.
func normalEmail(s string) (norm, domain string, ok bool) {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at > 64 || !utf8.ValidString(s) {
		return "", "", false
	}
	local := s[:at]
	control := func(c rune) bool { return c < ' ' || c == 0x7f || c >= 0x80 && c <= 0x9f }
	if len(local) >= 2 && local[0] == '"' && local[len(local)-1] == '"' {
		// RFC 5321 4.1.2: a quoted local part may hold what a plain one
		// cannot, even an @; it compares as written.
		if strings.ContainsFunc(local[1:len(local)-1], func(c rune) bool { return control(c) || c == '"' || c == '\\' }) {
			return "", "", false
		}
	} else {
		if strings.ContainsFunc(local, func(c rune) bool { return control(c) || strings.ContainsRune(` "\(),:;<>[]@`, c) }) {
			return "", "", false
		}
		if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
			return "", "", false
		}
	}
	domain, ok = normalDomain(s[at+1:])
	if !ok {
		return "", "", false
	}
	return asciiLower(local) + "@" + domain, domain, true
}

// normalDomain returns d in ASCII as IDNA looks it up (UTS 46: case and
// width folded, international labels as xn--), without one trailing dot;
// ok is false when IDNA refuses it or it is not labels of letters, digits
// and '-' between dots.
func normalDomain(d string) (string, bool) {
	d = strings.TrimSuffix(d, ".")
	if d == "" || len(d) > 253 {
		return "", false
	}
	a, err := idna.Lookup.ToASCII(d)
	if err != nil || a == "" || strings.HasSuffix(a, ".") {
		return "", false
	}
	label := 0
	for i := 0; i < len(a); i++ {
		switch c := a[i]; {
		case c == '.':
			if label == 0 {
				return "", false
			}
			label = 0
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-':
			label++
		default:
			return "", false
		}
	}
	return asciiLower(a), label > 0
}

// asciiLower lower-cases ASCII letters only, without allocating when there
// are none to change.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// matches reports whether the person's email matches e. A person without
// an email, or with one that cannot be read as an address, matches no
// email pattern.
func (e *emailPattern) matches(p *Person) bool {
	if p == nil || p.lower == "" {
		return false
	}
	if e.domain != "" {
		return p.domain == e.domain
	}
	return p.lower == e.exact
}

// covers reports whether everyone f matches is matched by e.
func (e *emailPattern) covers(f *emailPattern) bool {
	if e.domain != "" {
		if f.domain != "" {
			return f.domain == e.domain
		}
		return f.exact[strings.LastIndexByte(f.exact, '@')+1:] == e.domain
	}
	return f.domain == "" && f.exact == e.exact
}
