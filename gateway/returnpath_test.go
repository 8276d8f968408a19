package gateway

import "testing"

func TestSafeReturnPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"root", "/", true},
		{"room", "/standup", true},
		{"room with dots and dashes", "/all-hands.2026_q1", true},
		{"empty", "", false},
		{"relative", "standup", false},
		{"scheme-relative", "//evil.example", false},
		{"backslash", "/\\evil.example", false},
		{"backslashes", "\\\\evil.example", false},
		{"absolute http", "http://evil.example/", false},
		{"absolute https", "https://evil.example", false},
		{"javascript", "javascript:alert(1)", false},
		{"encoded slash", "/%2F%2Fevil.example", false},
		{"encoded backslash", "/%5Cevil.example", false},
		{"dot segment", "/../evil", false},
		{"leading dot", "/.well-known", false},
		{"two segments", "/standup/x", false},
		{"query", "/standup?next=//evil", false},
		{"fragment", "/standup#x", false},
		{"tab", "/\t/evil.example", false},
		{"newline", "/standup\nLocation: http://evil", false},
		{"nul", "/standup\x00", false},
		{"userinfo", "/@evil.example", false},
		{"fullwidth solidus", "/\uff0fevil.example", false},
		{"unicode letter", "/st\u0430ndup", false},
		{"too long", "/" + string(make([]byte, 65)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := safeReturnPath(tt.in)
			if ok != tt.want {
				t.Fatalf("safeReturnPath(%q) ok = %v; want %v", tt.in, ok, tt.want)
			}
			if ok && got != tt.in {
				t.Errorf("safeReturnPath(%q) = %q; want it unchanged", tt.in, got)
			}
		})
	}
}
