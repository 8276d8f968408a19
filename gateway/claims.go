package gateway

import (
	"fmt"
	"strings"
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
