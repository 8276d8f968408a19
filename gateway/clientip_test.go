package gateway

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/roomgate/roomgate/config"
)

func TestClientIP(t *testing.T) {
	t.Parallel()
	s := &Server{cfg: &config.Config{Server: config.Server{TrustedProxies: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("192.168.1.7/32"),
	}}}}
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"direct, no header", "203.0.113.9:5000", nil, "203.0.113.9"},
		{"untrusted peer's header is ignored", "203.0.113.9:5000", []string{"1.2.3.4"}, "203.0.113.9"},
		{"trusted proxy", "10.1.2.3:443", []string{"198.51.100.4"}, "198.51.100.4"},
		{"client-supplied prefix is skipped", "10.1.2.3:443", []string{"6.6.6.6, 198.51.100.4"}, "198.51.100.4"},
		{"chain of trusted proxies", "10.1.2.3:443", []string{"198.51.100.4, 192.168.1.7"}, "198.51.100.4"},
		{"several header lines", "10.1.2.3:443", []string{"6.6.6.6", "198.51.100.4"}, "198.51.100.4"},
		{"garbage stops the walk", "10.1.2.3:443", []string{"198.51.100.4, not-an-ip"}, "10.1.2.3"},
		{"all trusted", "10.1.2.3:443", []string{"10.9.9.9"}, "10.9.9.9"},
		{"ipv6 peer", "[2001:db8::1]:443", []string{"1.2.3.4"}, "2001:db8::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := s.clientIP(r); got != tt.want {
				t.Errorf("clientIP = %q; want %q", got, tt.want)
			}
		})
	}
}
