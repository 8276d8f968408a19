package gateway

import "strings"

// safeReturnPath reports whether s may be where the browser goes after
// signing in, and returns it. Only the kinds of page a sign-in can start
// from qualify: "/", "/{room}" with a room path's own alphabet
// (mapping: letters, digits, '.', '_', '-') and "/{room}/invite". An allowlist this narrow has
// no encodings, slashes, backslashes, schemes, hosts or control characters
// to get wrong, so no parameter can turn roomgate into an open redirect.
func safeReturnPath(s string) (string, bool) {
	if s == "/" {
		return s, true
	}
	if room, ok := strings.CutSuffix(s, "/invite"); ok {
		// A room's invite page.
		_, ok := safeReturnPath(room)
		return s, ok && room != "/"
	}
	if len(s) < 2 || len(s) > maxReturnPath || s[0] != '/' || !isAlnum(s[1]) {
		return "", false
	}
	for i := 2; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return "", false
		}
	}
	return s, true
}

// maxReturnPath is the longest return path: "/" and a room path of at most
// 64 characters (mapping's limit).
const maxReturnPath = 65

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
