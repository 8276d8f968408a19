//go:build load

package loadtest

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/gateway"
	"github.com/roomgate/roomgate/internal/oidctest"
	"github.com/roomgate/roomgate/internal/redistest"
	"github.com/roomgate/roomgate/internal/reload"
	"github.com/roomgate/roomgate/internal/store"
)

var (
	conns      = flag.Int("conns", 64, "concurrent keep-alive connections")
	duration   = flag.Duration("duration", 10*time.Second, "length of each measured round")
	rounds     = flag.Int("rounds", 3, "rounds; each measures the bare handler and the hot path once, in alternating order")
	genFlag    = flag.String("gen", "auto", "load generator: wrk, go, or auto (wrk when it is installed)")
	hotProfile = flag.String("hotprofile", "", "write a CPU profile of the hot-path rounds only to this `file`")
	soakFor    = flag.Duration("soak", 3*time.Minute, "how long TestSoak runs")
	storeKind  = flag.String("store", "memory", "the revocation store: memory, or redis (a redis-server of the test's own, with 1,000 live revocations)")
)

// Targets of the in-process hot path, at 64 connections.
const (
	minThroughputRatio = 0.5 // hot path requests/s over the bare handler's
	maxP99Ratio        = 2.0 // hot path p99 over the bare handler's
)

const (
	roomHost     = "acme.digitalsamba.example"
	wantLocation = "https://" + roomHost + "/daily-standup?token="
)

// rooms is the rule set served: the person below is decided by the third
// rule of standup, a glob, as most people in a real rule set would be.
const rooms = `
  - path: standup
    room: daily-standup
    title: "Daily stand-up"
    rules:
      - groups: [eng-leads]
        role: moderator
      - emails: ["*@contractor.example"]
        deny: true
      - groups: [engineering, "eng-*"]
        role: attendee
  - path: all-hands
    room: 7f9c2b1e-0000-4000-8000-000000000001
    title: "All hands"
    rules:
      - groups: [leadership]
        role: moderator
      - everyone: true
        role: attendee
`

// extraRoom is added and removed again by TestSoak's reloads.
const extraRoom = `
  - path: retro
    room: sprint-retro
    rules:
      - groups: ["eng-*"]
        role: speaker
`

// site is a gateway and a bare handler, each behind an http.Server with the
// limits of roomgate serve, and a person signed in at the gateway.
type site struct {
	gw         *gateway.Server
	cfg        *config.Config
	gwAddr     string
	bareAddr   string
	cookie     string // the Cookie header line of the signed-in person
	configPath string
	provider   *oidctest.Provider
	// gwCheck and bareCheck count the answers of each server.
	gwCheck, bareCheck *checked
}

// checked counts the answers of h that send the browser into the room and
// those that do not. Only the room redirect sets such a Location, so this
// checks status and target without wrapping the ResponseWriter, which
// would cost an allocation per request.
type checked struct {
	h         http.Handler
	good, bad atomic.Int64
	first     atomic.Pointer[string]
}

func (c *checked) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.h.ServeHTTP(w, r)
	if loc := w.Header().Get("Location"); strings.HasPrefix(loc, wantLocation) {
		c.good.Add(1)
		return
	}
	if c.bad.Add(1) == 1 {
		what := fmt.Sprintf("%s %s answered without a room redirect (Location %.100q)", r.Method, r.URL.Path, w.Header().Get("Location"))
		c.first.Store(&what)
	}
}

// take returns and resets the counts.
func (c *checked) take() (good, bad int64, first string) {
	good, bad = c.good.Swap(0), c.bad.Swap(0)
	if f := c.first.Swap(nil); f != nil {
		first = *f
	}
	return good, bad, first
}

func newSite(t *testing.T) *site {
	t.Helper()
	p := oidctest.New(t)
	p.SetUser(oidctest.User{Subject: "ben", Claims: map[string]any{
		"name": "Ben Example", "email": "ben@example.com", "picture": "https://img.example/ben.png",
		"groups": []string{"eng-platform", "all-staff", "building-3", "vpn-users"},
	}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &site{gwAddr: ln.Addr().String(), provider: p, configPath: filepath.Join(t.TempDir(), "config.yaml")}
	p.SetRedirectURI("http://" + s.gwAddr + "/auth/callback")
	s.writeConfig(t, rooms)
	s.cfg, err = config.Load(s.configPath, config.Options{Reserved: gateway.ReservedPaths()})
	if err != nil {
		t.Fatal(err)
	}
	// The audit line is part of the hot path: JSON, through a real file,
	// with roomgate serve's handler and group commit.
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { devnull.Close() })
	logger := slog.New(slog.NewJSONHandler(devnull, nil))
	deps := gateway.Deps{Logger: logger, HTTPClient: p.Client()}
	if *storeKind == "redis" {
		// A shared store, and a thousand live revocations of other people
		// in every replica's memory: what offboarding leaves behind.
		st, err := store.OpenRedis(redistest.Start(t).URL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		now := time.Now()
		for i := range 1000 {
			st.Revoke(context.Background(), store.Revocation{Kind: store.KindUser, Value: fmt.Sprintf("left-%d", i), At: now, Expires: now.Add(time.Hour)})
		}
		deps.Revocations = store.NewRevocations(st, nil, nil)
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		go deps.Revocations.Run(ctx)
		for !deps.Revocations.Ready() {
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("store: redis, %d revocations", 1000)
	}
	s.gw, err = gateway.New(s.cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	s.gwCheck = &checked{h: s.gw}
	serve(t, ln, s.gwCheck)

	bare, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.bareAddr = bare.Addr().String()
	s.bareCheck = &checked{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://"+roomHost+"/daily-standup?token=x", http.StatusFound)
	})}
	serve(t, bare, s.bareCheck)

	b := oidctest.NewBrowser(t)
	b.StopAt = oidctest.StopAtHost(roomHost)
	resp, hops := b.Follow(t, "http://"+s.gwAddr+"/standup")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, wantLocation) {
		t.Fatalf("sign-in ended with %d to %.100q after %v; want the room", resp.StatusCode, loc, hops)
	}
	var cookies []string
	for _, c := range b.Cookies(t, "http://"+s.gwAddr+"/standup") {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	s.cookie = "Cookie: " + strings.Join(cookies, "; ") + "\r\n"
	s.gwCheck.take() // the sign-in's own answers
	t.Logf("signed in; Cookie header of %d bytes", len(s.cookie))
	return s
}

// configFile is the load tests' configuration of roomgate at addr, signed
// in through p, with these rooms. recheck is the whole lifetime, so that a
// soak longer than the default 10 minutes measures entries, not group
// re-checks at the provider. (In process, listen and metrics_listen are
// not used.)
func configFile(addr string, p *oidctest.Provider, rooms string) string {
	return fmt.Sprintf(`server:
  listen: %q
  public_url: "http://%s"
  metrics_listen: "127.0.0.1:0"
oidc:
  issuer: %q
  client_id: %q
  client_secret: %q
session:
  secret: "load-test-session-secret-0123456789abcdefgh"
  lifetime: 8h
  recheck: 8h
digitalsamba:
  team_id: team-0001
  url: "https://%s"
  developer_key: "load-test-developer-key-0123456789"
  token_ttl: 2m
rooms:%s`, addr, addr, p.Issuer(), p.ClientID(), p.ClientSecret(), roomHost, rooms)
}

// serve serves h on ln behind the http.Server roomgate serve uses.
func serve(t *testing.T, ln net.Listener, h http.Handler) {
	srv := gateway.NewHTTPServer(h, slog.New(slog.DiscardHandler))
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// writeConfig writes the configuration file with these rooms, atomically.
func (s *site) writeConfig(t *testing.T, rooms string) {
	file := configFile(s.gwAddr, s.provider, rooms)
	tmp := s.configPath + ".tmp"
	if err := os.WriteFile(tmp, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, s.configPath); err != nil {
		t.Fatal(err)
	}
}

func (s *site) hot(d time.Duration) load {
	return load{addr: s.gwAddr, path: "/standup", header: s.cookie, wantLocation: wantLocation, conns: *conns, d: d}
}

func (s *site) bare(d time.Duration) load {
	return load{addr: s.bareAddr, path: "/standup", wantLocation: wantLocation, conns: *conns, d: d}
}

// run runs l with gen and adds what the server saw: every answer that was
// not a room redirect is a failure, as are requests the server never got.
func (s *site) run(ctx context.Context, gen generator, l load) (result, error) {
	c := s.bareCheck
	if l.addr == s.gwAddr {
		c = s.gwCheck
	}
	c.take()
	cpu0 := processCPU()
	r, err := gen.run(ctx, l)
	r.CPU = processCPU() - cpu0
	good, bad, first := c.take()
	r.Failed += bad
	if r.FirstFailure == "" {
		r.FirstFailure = first
	}
	if err == nil && good < r.Requests {
		r.Failed += r.Requests - good
		if r.FirstFailure == "" {
			r.FirstFailure = fmt.Sprintf("the client counted %d answers, the server made %d room redirects", r.Requests, good)
		}
	}
	return r, err
}

// pickGenerator honours -gen.
func pickGenerator(t *testing.T) generator {
	t.Helper()
	path, err := exec.LookPath("wrk")
	switch *genFlag {
	case "go":
		return goGenerator{}
	case "wrk":
		if err != nil {
			t.Fatalf("-gen wrk: %v (scripts/load.sh installs it)", err)
		}
	case "auto":
		if err != nil {
			t.Log("wrk is not installed; using the Go generator (scripts/load.sh installs wrk)")
			return goGenerator{}
		}
	default:
		t.Fatalf("-gen %q: want wrk, go or auto", *genFlag)
	}
	return wrkGenerator{path: path, threads: 2}
}

// TestLoad measures the hot path and the bare handler in alternating
// rounds of the same run, and holds the hot path to its targets.
func TestLoad(t *testing.T) {
	s := newSite(t)
	gen := pickGenerator(t)
	ctx := context.Background()
	t.Logf("generator %s, %d connections, %d rounds of %v, GOMAXPROCS %d, %d CPUs",
		gen.name(), *conns, *rounds, *duration, runtime.GOMAXPROCS(0), runtime.NumCPU())

	// Warm both up: connections, caches, the JIT-less but lazy parts.
	for _, l := range []load{s.bare(2 * time.Second), s.hot(2 * time.Second)} {
		if _, err := s.run(ctx, gen, l); err != nil {
			t.Fatal(err)
		}
	}
	var bare, hot []result
	for i := range *rounds {
		order := []string{"bare", "hot"}
		if i%2 == 1 {
			order = []string{"hot", "bare"}
		}
		for _, which := range order {
			l := s.bare(*duration)
			if which == "hot" {
				l = s.hot(*duration)
				if *hotProfile != "" {
					stop := startProfile(t, *hotProfile, i)
					defer stop()
				}
			}
			r, err := s.run(ctx, gen, l)
			if err != nil {
				t.Fatal(err)
			}
			if which == "hot" {
				pprof.StopCPUProfile()
				hot = append(hot, r)
			} else {
				bare = append(bare, r)
			}
			t.Logf("round %d %-4s %s", i+1, which, r)
			if r.Failed > 0 {
				t.Errorf("round %d %s: %d failed requests, e.g. %s: a run with a failure is not a number", i+1, which, r.Failed, r.FirstFailure)
			}
		}
	}
	b, h := summarize(bare), summarize(hot)
	ratio, p99 := h.RPS()/b.RPS(), float64(h.P99)/float64(b.P99)
	t.Logf("bare handler: %s", b)
	t.Logf("hot path:     %s", h)
	if gen.name() == "wrk" {
		t.Logf("server CPU per request: bare %.1f µs, hot path %.1f µs", b.cpuPerRequest(), h.cpuPerRequest())
	}
	t.Logf("hot/bare: throughput %.0f%% (target >= %.0f%%), p99 %.2fx (target <= %.1fx)", 100*ratio, 100*minThroughputRatio, p99, maxP99Ratio)
	if ratio < minThroughputRatio {
		t.Errorf("hot path throughput is %.0f%% of the bare handler's; want at least %.0f%%", 100*ratio, 100*minThroughputRatio)
	}
	if p99 > maxP99Ratio {
		t.Errorf("hot path p99 is %.2fx the bare handler's; want at most %.1fx", p99, maxP99Ratio)
	}
}

// summarize adds up the rounds: total requests over total time, and the
// median of the rounds' percentiles.
func summarize(rs []result) result {
	var out result
	var p50, p99 []time.Duration
	for _, r := range rs {
		out.Requests += r.Requests
		out.Elapsed += r.Elapsed
		out.Failed += r.Failed
		out.CPU += r.CPU
		out.Max = max(out.Max, r.Max)
		p50 = append(p50, r.P50)
		p99 = append(p99, r.P99)
	}
	out.P50, out.P99 = median(p50), median(p99)
	return out
}

// startProfile profiles the process, which is the gateway's side alone
// when wrk generates the load. Each round appends its own file.
func startProfile(t *testing.T, path string, round int) func() {
	if round > 0 {
		path = fmt.Sprintf("%s.%d", path, round)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	return func() { f.Close() }
}

// TestSoak runs the hot path for -soak in chunks of 10 s while the rule set
// is reloaded from the file every second, and checks after each chunk that
// goroutines and the live heap stay flat and no request failed.
func TestSoak(t *testing.T) {
	s := newSite(t)
	gen := pickGenerator(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var mu sync.Mutex
	var applied, refused int
	w := &reload.Watcher{
		Path:     s.configPath,
		Options:  config.Options{Reserved: gateway.ReservedPaths()},
		Running:  s.cfg,
		Apply:    s.gw.SetRules,
		OnResult: func(ok bool, _ time.Time) { mu.Lock(); defer mu.Unlock(); count(ok, &applied, &refused) },
		Debounce: 50 * time.Millisecond,
	}
	go w.Run(ctx)
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if i%2 == 0 {
				s.writeConfig(t, rooms+extraRoom)
			} else {
				s.writeConfig(t, rooms)
			}
		}
	}()

	const chunk = 10 * time.Second
	type sample struct {
		goroutines int
		heap       uint64
	}
	var samples []sample
	var total result
	for start := time.Now(); time.Since(start) < *soakFor; {
		r, err := s.run(ctx, gen, s.hot(chunk))
		if err != nil {
			t.Fatal(err)
		}
		total.Requests += r.Requests
		total.Elapsed += r.Elapsed
		if r.Failed > 0 {
			t.Errorf("chunk %d: %d failed requests, e.g. %s", len(samples)+1, r.Failed, r.FirstFailure)
			total.Failed += r.Failed
		}
		time.Sleep(200 * time.Millisecond) // let closed connections' goroutines end
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		samples = append(samples, sample{runtime.NumGoroutine(), ms.HeapAlloc})
		mu.Lock()
		t.Logf("%4.0fs  %s  goroutines %d  live heap %.1f MB  reloads %d applied, %d refused",
			time.Since(start).Seconds(), r, runtime.NumGoroutine(), float64(ms.HeapAlloc)/(1<<20), applied, refused)
		mu.Unlock()
	}
	cancel()
	t.Logf("soak: %d requests in %v, %d failed", total.Requests, total.Elapsed.Round(time.Second), total.Failed)
	mu.Lock()
	defer mu.Unlock()
	if want := int(*soakFor / (3 * time.Second)); applied < want || refused > 0 {
		t.Errorf("reloads: %d applied, %d refused; want at least %d applied and none refused", applied, refused, want)
	}
	if len(samples) < 3 {
		t.Fatalf("%d samples; run the soak for at least 30s", len(samples))
	}
	// The first chunk warms up pools and caches: compare with the second.
	first, last := samples[1], samples[len(samples)-1]
	if last.goroutines > first.goroutines+5 {
		t.Errorf("goroutines grew from %d to %d", first.goroutines, last.goroutines)
	}
	if last.heap > first.heap+first.heap/4+2<<20 {
		t.Errorf("live heap grew from %.1f MB to %.1f MB", float64(first.heap)/(1<<20), float64(last.heap)/(1<<20))
	}
}

// processCPU is the CPU time, user and system, this process has used: the
// gateway's and the bare handler's alone when wrk generates the load.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func count(ok bool, applied, refused *int) {
	if ok {
		*applied++
	} else {
		*refused++
	}
}
