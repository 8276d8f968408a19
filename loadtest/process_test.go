//go:build load

package loadtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/roomgate/roomgate/internal/oidctest"
	"github.com/roomgate/roomgate/internal/redistest"
	"github.com/roomgate/roomgate/internal/rulegen"
	"github.com/roomgate/roomgate/internal/store"
)

var (
	pinFlag     = flag.String("pin", "both", "TestProcesses: pinned (every server on CPU 0, wrk on CPU 1), unpinned, or both")
	o2pFlag     = flag.String("oauth2-proxy", "", "TestProcesses: the oauth2-proxy `binary` (default: oauth2-proxy on PATH or in $(go env GOPATH)/bin)")
	keepOut     = flag.String("out", "", "TestProcesses: keep the binaries built and each server's log in this `directory` (for perf, say)")
	large       = flag.Int("large", 0, "TestProcesses: add this many rooms of 20 rules each to roomgate's rule file")
	reloadEvery = flag.Duration("reload-every", 0, "TestProcesses: during roomgate's rounds, reload the rule file (SIGHUP) this often")
	storesFlag  = flag.String("stores", "", "TestProcesses: also run roomgate with each of these stores (sqlite, redis; comma-separated), holding 10,000 live revocations")
)

// Floors, as same-run ratios at 64 connections. Server CPU per request is
// held pinned, where wrk has a core of its own: unpinned, wrk shares the
// servers' cores and the ratios follow its cost as much as theirs.
const (
	maxBareCPURatio = 2.0  // roomgate's server CPU per request over the bare handler's
	maxO2PCPURatio  = 0.35 // roomgate's server CPU per request over oauth2-proxy's
)

// proc is one server under load: a process with its log in a file.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
	done chan error
}

// start runs argv, pinned to cpus unless cpus is empty, with stdout and
// stderr appended to a file in dir, and waits until it accepts connections
// on addr.
func start(t *testing.T, name, dir, cpus, addr string, env []string, argv ...string) *proc {
	t.Helper()
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatalf("%s: something already listens on %s", name, addr)
	}
	if cpus != "" {
		argv = append([]string{"taskset", "-c", cpus}, argv...)
	}
	log, err := os.OpenFile(filepath.Join(dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	// Each server runs as deployed, with Go's defaults: no GOGC from the
	// environment of the test.
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GOGC=") }), env...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: log, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(p.stop)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("%s exited at start (%v):\n%s", name, err, p.tail())
		default:
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not listen on %s:\n%s", name, addr, p.tail())
		}
	}
}

// stop ends the process with SIGTERM, and SIGKILL after 10 s.
func (p *proc) stop() {
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
	p.log.Close()
}

// cpu is the CPU time, user and system, the process has used so far.
func (p *proc) cpu() time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses: utime
	// and stime are the 12th and 13th, in clock ticks of 1/100 s.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// take returns the log written since the last take, and empties the file.
func (p *proc) take() []byte {
	b, _ := os.ReadFile(p.log.Name())
	p.log.Truncate(0)
	return b
}

func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log.Name())
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// target is one server of the comparison and the load it gets.
type target struct {
	name string
	proc *proc
	load load
	// check looks at the log written during a run of n requests and says
	// what is wrong with it, if anything.
	check func(log []byte, n int64) string
	// reloads, when not zero, is how often the process is sent SIGHUP
	// during a run: it reloads its rule file, and its log must say so.
	reloads time.Duration
	// signalled and reloaded count the SIGHUPs sent and the reloads
	// logged over all rounds.
	signalled, reloaded int
}

// during runs run while tg is sent SIGHUP every tg.reloads, and returns
// how many signals were sent.
func (tg *target) during(run func()) int {
	if tg.reloads == 0 {
		run()
		return 0
	}
	stop := make(chan struct{})
	sent := make(chan int)
	go func() {
		n := 0
		tick := time.NewTicker(tg.reloads)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				sent <- n
				return
			case <-tick.C:
				tg.proc.cmd.Process.Signal(syscall.SIGHUP)
				n++
			}
		}
	}()
	run()
	close(stop)
	return <-sent
}

// TestProcesses measures roomgate serve as it is deployed, a process with
// its log in a file, against a bare net/http 302 process and against
// oauth2-proxy's /oauth2/auth, both signed in through the same provider, in
// alternating rounds of one run: first with every server pinned to CPU 0 and
// wrk on CPU 1, then unpinned. It holds roomgate to the floors above.
func TestProcesses(t *testing.T) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		t.Fatalf("wrk: %v (scripts/load.sh installs it)", err)
	}
	o2p := oauth2ProxyBinary(t)
	out := *keepOut
	if out == "" {
		out = t.TempDir()
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	bin, logs := out, out
	build(t, filepath.Join(bin, "roomgate"), "..")
	build(t, filepath.Join(bin, "bare"), "./bare")

	p := oidctest.New(t)
	p.SetUser(oidctest.User{Subject: "ben", Claims: map[string]any{
		"name": "Ben Example", "email": "ben@example.com", "email_verified": true, "picture": "https://img.example/ben.png",
		"groups": []string{"eng-platform", "all-staff", "building-3", "vpn-users"},
	}})
	var stores []string
	if *storesFlag != "" {
		stores = strings.Split(*storesFlag, ",")
	}
	addrs := freeAddrs(t, 3+len(stores))
	gwAddr, bareAddr, o2pAddr := addrs[0], addrs[1], addrs[2]
	redirects := []string{"http://" + gwAddr + "/auth/callback", "http://" + o2pAddr + "/oauth2/callback"}
	conf := filepath.Join(t.TempDir(), "roomgate.yaml")
	if err := os.WriteFile(conf, []byte(configFile(gwAddr, p, rooms+rulegen.Rooms(*large, 20))), 0o600); err != nil {
		t.Fatal(err)
	}
	// roomgate with each store: its own address and config file.
	type variant struct{ name, addr, conf string }
	var variants []variant
	for i, st := range stores {
		v := variant{name: "roomgate-" + st, addr: addrs[3+i], conf: filepath.Join(t.TempDir(), "roomgate-"+st+".yaml")}
		redirects = append(redirects, "http://"+v.addr+"/auth/callback")
		file := configFile(v.addr, p, rooms+rulegen.Rooms(*large, 20)) + storeWithRevocations(t, st, liveRevocations)
		if err := os.WriteFile(v.conf, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		variants = append(variants, v)
	}
	p.SetRedirectURI(redirects...)
	cookieSecret := make([]byte, 32)
	rand.Read(cookieSecret)

	var modes []string
	switch *pinFlag {
	case "both":
		modes = []string{"pinned", "unpinned"}
	case "pinned", "unpinned":
		modes = []string{*pinFlag}
	default:
		t.Fatalf("-pin %q: want pinned, unpinned or both", *pinFlag)
	}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			servers, wrkCPUs := "", ""
			if mode == "pinned" {
				servers, wrkCPUs = "0", "1"
			}
			gen := wrkGenerator{path: wrk, threads: 2, cpus: wrkCPUs}

			gw := start(t, "roomgate-"+mode, logs, servers, gwAddr, nil, filepath.Join(bin, "roomgate"), "serve", "-config", conf)
			gwCookie, location := signIn(t, "http://"+gwAddr+"/standup", roomHost)
			if !strings.HasPrefix(location, wantLocation) {
				t.Fatalf("roomgate sent the signed-in person to %.100q; want the room", location)
			}
			gw.take() // the sign-in's own room entry, which wrk does not count
			bare := start(t, "bare-"+mode, logs, servers, bareAddr, nil, filepath.Join(bin, "bare"),
				"-listen", bareAddr, "-location", wantLocation, "-location-length", strconv.Itoa(len(location)))
			proxy := start(t, "oauth2-proxy-"+mode, logs, servers, o2pAddr, nil, o2p,
				"--http-address="+o2pAddr, "--provider=oidc", "--oidc-issuer-url="+p.Issuer(),
				"--client-id="+p.ClientID(), "--client-secret="+p.ClientSecret(),
				"--redirect-url=http://"+o2pAddr+"/oauth2/callback", "--code-challenge-method=S256",
				"--cookie-secret="+base64.RawURLEncoding.EncodeToString(cookieSecret), "--cookie-secure=false",
				"--email-domain=*", "--upstream=static://202", "--skip-provider-button")
			o2pCookie, _ := signIn(t, "http://"+o2pAddr+"/oauth2/start?rd=%2F", "")

			targets := []*target{
				{name: "bare", proc: bare, load: load{addr: bareAddr, path: "/standup", conns: *conns}},
				{name: "roomgate", proc: gw, load: load{addr: gwAddr, path: "/standup", header: gwCookie, conns: *conns}, check: auditLines, reloads: *reloadEvery},
				{name: "oauth2-proxy", proc: proxy, load: load{addr: o2pAddr, path: "/oauth2/auth", header: o2pCookie, conns: *conns}},
			}
			for _, v := range variants {
				proc := start(t, v.name+"-"+mode, logs, servers, v.addr, nil, filepath.Join(bin, "roomgate"), "serve", "-config", v.conf)
				cookie, _ := signIn(t, "http://"+v.addr+"/standup", roomHost)
				proc.take()
				targets = append(targets, &target{name: v.name, proc: proc, load: load{addr: v.addr, path: "/standup", header: cookie, conns: *conns}, check: auditLines, reloads: *reloadEvery})
			}
			results := measure(t, gen, targets)
			report(t, mode, results)
		})
	}
}

// measure warms every target up, then runs rounds in which each target is
// loaded once, the order turning by one each round.
func measure(t *testing.T, gen wrkGenerator, targets []*target) map[string]result {
	t.Logf("wrk on CPUs %q, %d connections, %d rounds of %v", gen.cpus, *conns, *rounds, *duration)
	ctx := context.Background()
	runs := map[string][]result{}
	for round := -1; round < *rounds; round++ {
		for i := range targets {
			tg := targets[(i+max(round, 0))%len(targets)]
			l := tg.load
			l.d = *duration
			if round < 0 {
				l.d = 2 * time.Second // warm-up: connections, caches
			}
			cpu0 := tg.proc.cpu()
			var r result
			var err error
			signals := tg.during(func() { r, err = gen.run(ctx, l) })
			if err != nil {
				t.Fatalf("%s: %v", tg.name, err)
			}
			time.Sleep(100 * time.Millisecond) // the last answers' log lines
			if signals > 0 {
				time.Sleep(3 * time.Second) // a reload signalled at the end of the run
			}
			r.CPU = tg.proc.cpu() - cpu0
			log := tg.proc.take()
			if reloads := reloadLine.FindAllSubmatch(log, -1); signals > 0 {
				// On one busy core a reload of a big file takes seconds,
				// and one may still be under way as a round ends: the
				// rounds together must show one at least per round.
				var took []string
				for _, m := range reloads {
					took = append(took, string(m[1])+" ms")
				}
				t.Logf("%s: %d SIGHUPs, %d reloads of the rule file logged, taking %s", tg.name, signals, len(reloads), strings.Join(took, ", "))
				tg.signalled += signals
				tg.reloaded += len(reloads)
			}
			if tg.check != nil {
				if what := tg.check(log, r.Requests); what != "" {
					r.Failed++
					r.FirstFailure = what
				}
			}
			if r.Failed > 0 {
				t.Errorf("%s: %d failed requests, e.g. %s: a run with a failure is not a number", tg.name, r.Failed, r.FirstFailure)
			}
			if round < 0 {
				continue
			}
			t.Logf("round %d %-12s %s  %5.1f µs CPU/request", round+1, tg.name, r, r.cpuPerRequest())
			runs[tg.name] = append(runs[tg.name], r)
		}
	}
	for _, tg := range targets {
		if want := min(*rounds, tg.signalled); tg.reloaded < want {
			t.Errorf("%s: %d reloads logged for %d SIGHUPs in %d rounds; want %d at least", tg.name, tg.reloaded, tg.signalled, *rounds, want)
		}
	}
	out := map[string]result{}
	for name, rs := range runs {
		out[name] = summarize(rs)
	}
	return out
}

// reloadLine is roomgate's log line for a reload, with how long it took.
var reloadLine = regexp.MustCompile(`"msg":"config reloaded".*"duration_ms":([0-9.]+)`)

// report logs the comparison and holds each roomgate to the floors.
func report(t *testing.T, mode string, res map[string]result) {
	names := slices.Sorted(maps.Keys(res))
	for _, name := range names {
		r := res[name]
		t.Logf("%s %-15s %s  %5.1f µs CPU/request", mode, name, r, r.cpuPerRequest())
	}
	for _, name := range names {
		if strings.HasPrefix(name, "roomgate") {
			holdFloors(t, mode, name, res)
		}
	}
}

// holdFloors holds the roomgate of this name to the floors: only to the
// p99 one while its rule file reloads.
func holdFloors(t *testing.T, mode, name string, res map[string]result) {
	bare, gw, o2p := res["bare"], res[name], res["oauth2-proxy"]
	mode += " " + name
	p99 := float64(gw.P99) / float64(bare.P99)
	toBare, toO2P := gw.cpuPerRequest()/bare.cpuPerRequest(), gw.cpuPerRequest()/o2p.cpuPerRequest()
	t.Logf("%s: CPU/request roomgate/bare %.2fx (floor <= %.2fx), roomgate/oauth2-proxy %.2fx (floor <= %.2fx); p99 roomgate/bare %.2fx (floor <= %.1fx); requests/s roomgate/bare %.2fx, roomgate/oauth2-proxy %.2fx",
		mode, toBare, maxBareCPURatio, toO2P, maxO2PCPURatio, p99, maxP99Ratio, gw.RPS()/bare.RPS(), gw.RPS()/o2p.RPS())
	if p99 > maxP99Ratio {
		t.Errorf("%s: roomgate's p99 is %.2fx the bare handler's; want at most %.1fx", mode, p99, maxP99Ratio)
	}
	if *reloadEvery > 0 || mode != "pinned" {
		// Reloading, roomgate's CPU goes to the reload too: what it must
		// keep is the requests' latency. Unpinned figures are reported.
		return
	}
	if toBare > maxBareCPURatio {
		t.Errorf("%s: roomgate's CPU per request is %.2fx the bare handler's; want at most %.2fx", mode, toBare, maxBareCPURatio)
	}
	if toO2P > maxO2PCPURatio {
		t.Errorf("%s: roomgate's CPU per request is %.2fx oauth2-proxy's; want at most %.2fx", mode, toO2P, maxO2PCPURatio)
	}
}

// auditLines checks that roomgate wrote one audit line for every answer wrk
// counted: every answer a room redirect with its token logged. wrk counts
// only completed answers, so up to one request per connection more may
// have been served and logged as the run ended.
func auditLines(log []byte, n int64) string {
	lines := int64(bytes.Count(log, []byte(`"outcome":"allow"`)))
	if lines < n || lines > n+int64(*conns) {
		return fmt.Sprintf("wrk counted %d answers, roomgate logged %d entries allowed", n, lines)
	}
	return ""
}

// signIn follows rawURL through the provider's sign-in like a browser, up to
// a redirect to stopHost (none when empty), and returns the Cookie header
// line it then holds for rawURL's host and the last Location.
func signIn(t *testing.T, rawURL, stopHost string) (cookie, location string) {
	t.Helper()
	b := oidctest.NewBrowser(t)
	if stopHost != "" {
		b.StopAt = oidctest.StopAtHost(stopHost)
	}
	resp, hops := b.Follow(t, rawURL)
	if resp.StatusCode >= 400 {
		t.Fatalf("sign-in at %s ended with %d after %v", rawURL, resp.StatusCode, hops)
	}
	var cookies []string
	for _, c := range b.Cookies(t, rawURL) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	if len(cookies) == 0 {
		t.Fatalf("sign-in at %s left no cookie (hops %v)", rawURL, hops)
	}
	return "Cookie: " + strings.Join(cookies, "; ") + "\r\n", resp.Header.Get("Location")
}

// build compiles the main package at pkg into out.
func build(t *testing.T, out, pkg string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

// oauth2ProxyBinary finds oauth2-proxy: -oauth2-proxy, PATH, or where go
// install puts it.
func oauth2ProxyBinary(t *testing.T) string {
	if *o2pFlag != "" {
		return *o2pFlag
	}
	if path, err := exec.LookPath("oauth2-proxy"); err == nil {
		return path
	}
	gopath, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		path := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "oauth2-proxy")
		if _, err := os.Stat(path); err == nil {
			return path
		}
	}
	t.Fatal("oauth2-proxy is not installed: go install github.com/oauth2-proxy/oauth2-proxy/v7@v7.15.6 (scripts/load.sh does)")
	return ""
}

// freeAddrs is n different loopback addresses no one listens on.
func freeAddrs(t *testing.T, n int) []string {
	// Held open until all are chosen: one at a time, the kernel may hand
	// out the same port twice, and a server that cannot listen then has
	// its load go to another (seen once: the bare process's rounds all
	// answered by roomgate).
	var addrs []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs
}

// liveRevocations is how many revocations a store variant holds.
const liveRevocations = 10_000

// storeWithRevocations makes a store of kind (sqlite, redis) holding n live
// revocations, none of them the signed-in person's, and returns the
// config's store section for it.
func storeWithRevocations(t *testing.T, kind string, n int) string {
	t.Helper()
	var st store.Store
	var section string
	switch kind {
	case "sqlite":
		path := filepath.Join(t.TempDir(), "roomgate.db")
		sq, err := store.OpenSQLite(path)
		if err != nil {
			t.Fatal(err)
		}
		st, section = sq, "store:\n  sqlite:\n    path: "+path+"\n"
	case "redis":
		srv := redistest.Start(t)
		rd, err := store.OpenRedis(srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		st, section = rd, "store:\n  redis:\n    url: \""+srv.URL()+"\"\n"
	default:
		t.Fatalf("-stores: %q is not sqlite or redis", kind)
	}
	defer st.Close()
	now := time.Now()
	for i := range n {
		r := store.Revocation{Kind: store.KindUser, Value: fmt.Sprint("left-", i), At: now, Expires: now.Add(8 * time.Hour)}
		if err := st.Revoke(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	return section
}
