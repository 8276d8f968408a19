package mapping

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Group patterns are deliberately small: '*' matches any run of characters,
// '/' included (Keycloak names nested groups /eng/leads, and a person in
// /eng/leads is in /eng too as far as an admin writing "/eng/*" is
// concerned), '?' matches exactly one character, and every other character
// stands for itself. Brackets, braces and backslashes are refused rather than
// read literally: someone who writes eng-[ab] expects a character class, and a
// rule that silently matches nothing is worse than a rule that does not load.
var (
	globMeta    = newByteSet("*?")
	globRefused = newByteSet("[]{}\\")
)

// byteSet is a set of ASCII bytes. Looking a pattern's bytes up in it is
// what strings.IndexAny does with a set of more than one byte, but for a
// call of IndexRune per byte: a third of the time that compiling the
// 500,000 patterns of a large rule file took.
type byteSet [256]bool

func newByteSet(chars string) *byteSet {
	var set byteSet
	for i := range len(chars) {
		set[chars[i]] = true
	}
	return &set
}

// index is the offset of the first byte of s in the set, or -1.
func (set *byteSet) index(s string) int {
	for i := range len(s) {
		if set[s[i]] {
			return i
		}
	}
	return -1
}

// lastIndex is the offset of the last byte of s in the set, or -1.
func (set *byteSet) lastIndex(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if set[s[i]] {
			return i
		}
	}
	return -1
}

// globKind says how a pattern can be answered against a person's groups.
type globKind uint8

const (
	globLiteral globKind = iota // no metacharacter: an exact name
	globPrefix                  // a literal prefix and one trailing '*', such as eng-*
	globGeneral                 // anything else, such as /eng/*/leads or team-?
)

// glob is a group pattern compiled at Parse time. Its literal ends are
// lengths into pat, not strings of their own: a big rule file has hundreds
// of thousands of globs, and every pointer in them is one more for each
// collection to follow.
type glob struct {
	text string // as written in the file
	pat  string // runs of '*' collapsed to one; same meaning, less backtracking
	// pre and suf are the lengths of the literal text before the first
	// metacharacter and after the last; both are all of pat for a literal.
	pre, suf int
	kind     globKind
	// q is the length of the provider qualifier pat starts with (partner:
	// in partner:eng-*); 0 for a pattern of the primary (providers.go).
	q uint8

	prefixKey, suffixKey uint64 // keyOf(prefix), revKeyOf(suffix): where to start searching a person's groups
}

// prefix is the literal text before the first metacharacter.
func (g *glob) prefix() string { return g.pat[:g.pre] }

// suffix is the literal text after the last metacharacter.
func (g *glob) suffix() string { return g.pat[len(g.pat)-g.suf:] }

// middle is pat without prefix and suffix: it starts and ends with a
// metacharacter. A literal has none.
func (g *glob) middle() string {
	if g.kind == globLiteral {
		return ""
	}
	return g.pat[g.pre : len(g.pat)-g.suf]
}

// compileGlob checks and compiles a group pattern. The error is the message
// for the admin, without the field path.
func compileGlob(s string) (glob, error) {
	if s == "" {
		return glob{}, fmt.Errorf("empty group name")
	}
	if i := globRefused.index(s); i >= 0 {
		return glob{}, fmt.Errorf("%q uses %q, which group patterns do not support: only * (any run of characters) and ? (one character) are special", s, s[i:i+1])
	}
	pat := collapseStars(s)
	g := glob{text: s, pat: pat}
	first := globMeta.index(pat)
	if first < 0 {
		g.kind, g.pre, g.suf = globLiteral, len(pat), len(pat)
		return g.keyed(), nil
	}
	last := globMeta.lastIndex(pat)
	g.pre, g.suf = first, len(pat)-last-1
	if first == last && first == len(pat)-1 && pat[first] == '*' {
		g.kind = globPrefix
	} else {
		g.kind = globGeneral
	}
	return g.keyed(), nil
}

// keyed sets the search keys of g's literal ends.
func (g glob) keyed() glob {
	g.prefixKey, g.suffixKey = keyOf(g.prefix()), revKeyOf(g.suffix())
	return g
}

func collapseStars(s string) string {
	if !strings.Contains(s, "**") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '*' && i > 0 && s[i-1] == '*' {
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// matches reports whether the group name s matches g.
func (g *glob) matches(s string) bool {
	switch g.kind {
	case globLiteral:
		return s == g.pat
	case globPrefix:
		return strings.HasPrefix(s, g.prefix())
	}
	// The literal ends decide most names at the cost of two comparisons.
	// Cutting them off cannot split a character of s: both ends are whole
	// characters of valid UTF-8, and no decoding joins a byte that starts a
	// character to the one before it.
	prefix, suffix := g.prefix(), g.suffix()
	return len(s) >= len(prefix)+len(suffix) &&
		strings.HasPrefix(s, prefix) && strings.HasSuffix(s, suffix) &&
		matchGlob(g.middle(), s[len(prefix):len(s)-len(suffix)])
}

// covers reports whether every name that h matches is also matched by g. It
// is sound (true only when that holds) but not complete: it may answer false
// for a pair where it does hold, such as ?* and *?. The shadow check only
// reports what covers proves.
func (g *glob) covers(h *glob) bool {
	if g.pat[:g.q] != h.pat[:h.q] {
		return false // patterns of two providers' people
	}
	if h.kind == globLiteral {
		return g.matches(h.pat)
	}
	if g.kind == globLiteral {
		return false // h matches more than one name
	}
	return match(g.pat, h.pat, true)
}

// matchGlob reports whether name matches pattern; name is taken literally.
func matchGlob(pattern, name string) bool { return match(pattern, name, false) }

// match is the usual one-backtrack-point wildcard matcher, counting in
// characters (UTF-8 runes, an invalid byte counting as one).
//
// When subjectIsPattern is set, s is itself a pattern and match reports
// whether p matches every name s can match: p's '*' may absorb anything of s,
// p's '?' may stand for one of s's literal characters or its '?', and p's
// literal characters only for the same literal character of s. Any alignment
// found this way carries over to every name s matches (replace s's '*' and
// '?' by what they stand for; p's tokens that absorbed them absorb that), so
// a true answer is always right.
func match(p, s string, subjectIsPattern bool) bool {
	px, sx := 0, 0
	starP, starS := -1, -1
	for px < len(p) || sx < len(s) {
		if px < len(p) {
			switch c := p[px]; {
			case c == '*':
				starP, starS = px, sx
				px++
				continue
			case c == '?':
				if sx < len(s) && !(subjectIsPattern && s[sx] == '*') {
					px++
					sx += charLen(s, sx)
					continue
				}
			default:
				if sx < len(s) {
					pw, sw := charLen(p, px), charLen(s, sx)
					// Bytes, not runes: two different invalid bytes both decode to
					// utf8.RuneError but are different characters.
					if p[px:px+pw] == s[sx:sx+sw] {
						px += pw
						sx += sw
						continue
					}
				}
			}
		}
		if starP >= 0 && starS < len(s) {
			starS += charLen(s, starS)
			px, sx = starP+1, starS
			continue
		}
		return false
	}
	return true
}

// charLen is the length in bytes of the character starting at s[i].
func charLen(s string, i int) int {
	if s[i] < utf8.RuneSelf {
		return 1
	}
	_, w := utf8.DecodeRuneInString(s[i:])
	return w
}
