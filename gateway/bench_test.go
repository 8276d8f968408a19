package gateway

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/internal/metrics"
	"github.com/roomgate/roomgate/internal/oidctest"
	"github.com/roomgate/roomgate/internal/store"
)

// The hot path is a signed-in person entering a room: decode the session,
// decide, mint a room token, write the audit line, redirect. These
// benchmarks measure it in process and in pieces; loadtest/ measures it
// over TCP against a bare handler.
//
//	go test -run '^$' -bench . -benchmem ./gateway

// benchGateway is a gateway with ada signed in through a real sign-in at an
// in-process provider, and a request for /standup carrying her session.
// The audit log is JSON into io.Discard, through roomgate serve's handler:
// encoded, as in production, but not written anywhere. Metrics are on, as
// in serve.
func benchGateway(b *testing.B) (*Server, *http.Request) {
	b.Helper()
	return benchGatewayWith(b, nil)
}

// benchGatewayWith is benchGateway with this view of revocations.
func benchGatewayWith(b *testing.B, revoked *store.Revocations) (*Server, *http.Request) {
	b.Helper()
	p := oidctest.New(b)
	p.SetUser(oidctest.User{Subject: "ada", Claims: map[string]any{
		"name": "Ada Lovelace", "email": "ada@example.com",
		"groups": []string{"eng-leads", "engineering", "staff", "all-employees"},
	}})
	srv := httptest.NewUnstartedServer(nil)
	host := srv.Listener.Addr().String()
	p.SetRedirectURI("http://" + host + "/auth/callback")
	cfg, err := config.Parse("config.yaml", []byte(configText(host, p, testRooms)), config.Options{Reserved: ReservedPaths()})
	if err != nil {
		b.Fatal(err)
	}
	gw, err := New(cfg, Deps{
		Logger:      slog.New(slog.NewJSONHandler(io.Discard, nil)),
		HTTPClient:  p.Client(),
		Revocations: revoked,
		Metrics:     metrics.New(),
	})
	if err != nil {
		b.Fatal(err)
	}
	srv.Config.Handler = gw
	srv.Start()
	b.Cleanup(srv.Close)

	br := oidctest.NewBrowser(b)
	br.StopAt = oidctest.StopAtHost(roomHost)
	resp, _ := br.Follow(b, srv.URL+"/standup")
	if loc, err := resp.Location(); err != nil || loc.Host != roomHost {
		b.Fatalf("sign-in ended with status %d, Location %v; want the room", resp.StatusCode, loc)
	}
	req := httptest.NewRequest(http.MethodGet, srv.URL+"/standup", nil)
	for _, c := range br.Cookies(b, srv.URL+"/standup") {
		req.AddCookie(c)
	}
	return gw, req
}

// BenchmarkEnterRoom is the whole hot path through ServeHTTP, middleware
// included, with a recorder instead of a connection.
func BenchmarkEnterRoom(b *testing.B) {
	gw, req := benchGateway(b)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		gw.ServeHTTP(w, req)
		if w.Code != http.StatusFound || !strings.HasPrefix(w.Header().Get("Location"), "https://"+roomHost+"/") {
			b.Fatalf("status %d to %q; want 302 into the room", w.Code, w.Header().Get("Location"))
		}
	}
}

// BenchmarkEnterRoomWithRevocations is BenchmarkEnterRoom with a store
// configured and 10,000 live revocations of other people in memory: what a
// revocation list costs the hot path (within 5 % of none).
func BenchmarkEnterRoomWithRevocations(b *testing.B) {
	v := store.NewRevocations(store.NewMemory(), nil, nil)
	now := time.Now()
	for i := range 10000 {
		v.Add(store.Revocation{Kind: store.KindUser, Value: fmt.Sprintf("user-%d", i), At: now, Expires: now.Add(time.Hour)})
	}
	gw, req := benchGatewayWith(b, v)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		gw.ServeHTTP(w, req)
		if w.Code != http.StatusFound {
			b.Fatalf("status %d; want 302", w.Code)
		}
	}
}

// BenchmarkEnterRoomParallel is BenchmarkEnterRoom on every core at once:
// the hot path shares nothing that serialises requests.
func BenchmarkEnterRoomParallel(b *testing.B) {
	gw, req := benchGateway(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w := httptest.NewRecorder()
			gw.ServeHTTP(w, req.Clone(req.Context()))
			if w.Code != http.StatusFound {
				b.Errorf("status %d; want 302", w.Code)
				return
			}
		}
	})
}

// BenchmarkBareRedirect is the floor BenchmarkEnterRoom is compared with:
// a handler that only answers 302, through the same recorder.
func BenchmarkBareRedirect(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://"+roomHost+"/daily-standup?token=x", http.StatusFound)
	})
	req := httptest.NewRequest(http.MethodGet, "/standup", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
	}
}

// BenchmarkSessionLoad decodes one session cookie: verify, decrypt, parse.
func BenchmarkSessionLoad(b *testing.B) {
	gw, req := benchGateway(b)
	b.ReportAllocs()
	for b.Loop() {
		if gw.sessions.load(req) == nil {
			b.Fatal("no session")
		}
	}
}

// BenchmarkMintRoomToken signs one room token.
func BenchmarkMintRoomToken(b *testing.B) {
	gw, req := benchGateway(b)
	id := gw.sessions.load(req)
	if id == nil {
		b.Fatal("no session")
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := gw.tokens.mint(id, "daily-standup", "moderator", time.Now().Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
}
