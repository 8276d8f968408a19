package mapping

import (
	"fmt"
	"strings"
	"unicode"
)

// emailPattern is an email matcher compiled at Parse time: an address, or
// *@domain for everyone whose address ends in @domain. Both compare
// case-insensitively; the domain must be the whole domain
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
		return emailPattern{text: s, domain: strings.ToLower(domain)}, nil
	case strings.Contains(s, "*"):
		return emailPattern{}, fmt.Errorf("%q: * is only allowed as the whole part before the @, as in *@example.com", s)
	case local == "" || domain == "":
		return emailPattern{}, fmt.Errorf("%q is not an email: write name@example.com, or *@example.com for everyone at a domain", s)
	}
	return emailPattern{text: s, exact: strings.ToLower(s)}, nil
}

// matches reports whether the person's email matches e. A person without an
// email matches no email pattern.
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
