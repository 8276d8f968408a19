package mapping

import (
	"fmt"
	"strings"
	"unicode"
)

// Emails compare as mail does, not as Unicode does: only ASCII letters
// fold (a Kelvin sign is not a k), and a domain's trailing dot, which names
// the same domain, is dropped. An address roomgate cannot read one way only
// (not ASCII, quoted, a comment, two @, an empty label, control
// characters) is unreadable: it matches no emails of a rule that lets
// people in, and is covered by every emails of a rule that keeps people out,
// so such an address never wins access and never escapes a deny.

// emailPattern is an email matcher compiled at Parse time: an address, or
// *@domain for everyone whose address ends in @domain. Both compare
// ignoring ASCII letter case; the domain must be the whole domain
// (*@example.com does not cover bob@mail.example.com).
type emailPattern struct {
	text   string // as written
	exact  string // lower-cased address; "" for a domain pattern
	domain string // lower-cased domain of a *@domain pattern; "" for an address
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
	return fmt.Errorf("%q is not an address roomgate reads one way only: use ASCII (an international domain as xn--, its punycode), no quotes, comments or empty labels", s)
}

// normalEmail returns the address in the one form roomgate compares: ASCII
// letters lower-cased, the domain without a trailing dot. ok is false for an
// address that is not that simple (see above), whose reading would depend on
// who reads it.
func normalEmail(s string) (norm, domain string, ok bool) {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at != strings.LastIndexByte(s, '@') {
		return "", "", false
	}
	local := s[:at]
	for i := 0; i < len(local); i++ {
		if c := local[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`"\(),:;<>[]`, c) >= 0 {
			return "", "", false
		}
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return "", "", false
	}
	domain, ok = normalDomain(s[at+1:])
	if !ok {
		return "", "", false
	}
	return asciiLower(local) + "@" + domain, domain, true
}

// normalDomain lower-cases an ASCII domain and drops one trailing dot; ok
// is false unless it is labels of letters, digits and '-' between dots.
func normalDomain(d string) (string, bool) {
	d = strings.TrimSuffix(d, ".")
	if d == "" || len(d) > 253 {
		return "", false
	}
	label := 0
	for i := 0; i < len(d); i++ {
		switch c := d[i]; {
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
	return asciiLower(d), label > 0
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

// matches reports whether the person's email matches e, in a rule that
// keeps people out when deny. A person without an email matches no email
// pattern; one whose address is unreadable matches every pattern of a deny
// rule and none of any other.
func (e *emailPattern) matches(p *Person, deny bool) bool {
	if p == nil {
		return false
	}
	if p.unreadable {
		return deny
	}
	if p.lower == "" {
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
