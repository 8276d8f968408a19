//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/roomgate/roomgate/demo/dsroom"
)

// suite is what TestMain started, shared by every test.
type suite struct {
	repo string // the repository's root
	out  string // e2e/out: logs and screenshots

	chromium string // path of the chromium binary
	hydra    string // path of the Ory Hydra binary

	dexURL          string // Dex's origin, http://127.0.0.1:port
	issuer          string // dexURL + "/dex"
	dexClientSecret string
	probeCallback   string // redirect URI of Dex's client "probe"
	dexLog          string

	gatewayURL string // roomgate's public_url
	gatewayLog string
	roomgate   string // path of the roomgate binary

	// refreshURL is the public_url of the second roomgate instance that
	// TestRecheckRefreshes starts; Dex knows its callback. refreshPort
	// holds its port until then, so that nothing else takes it.
	refreshURL  string
	refreshPort net.Listener
	// prefixURL is the public_url, with a path, of the roomgate instance
	// TestChromiumBehindAPathPrefix starts; Dex knows its callback.
	prefixURL  string
	prefixPort net.Listener

	room      *dsroom.Stand
	roomURL   string // the stand-in's origin, digitalsamba.url
	closeRoom func()

	// secrets are the values that must never appear in a log.
	secrets map[string]string
}

var env *suite

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

// runSuite starts Dex, the room stand-in and roomgate, runs the tests and
// stops everything it started, also when a start fails or the run is
// interrupted.
func runSuite(m *testing.M) int {
	var (
		mu    sync.Mutex
		procs []*process
	)
	stopAll := func() {
		mu.Lock()
		defer mu.Unlock()
		for i := len(procs) - 1; i >= 0; i-- {
			procs[i].stop()
		}
		procs = nil
	}
	defer stopAll()

	// An interrupt (Ctrl-C, or CI ending the job) still stops the processes.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		s := <-sig
		fmt.Fprintf(os.Stderr, "e2e: %v: stopping Dex and roomgate\n", s)
		stopAll()
		os.Exit(1)
	}()

	start := time.Now()
	s, err := startSuite(func(p *process) {
		mu.Lock()
		defer mu.Unlock()
		procs = append(procs, p)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer s.closeRoom()
	fmt.Fprintf(os.Stderr, "e2e: Dex at %s, room stand-in at %s, roomgate at %s; started in %v\n",
		s.dexURL, s.roomURL, s.gatewayURL, time.Since(start).Round(time.Millisecond))
	env = s
	code := m.Run()

	// roomgate runs with the race detector: a race under real traffic is a
	// failure, reported when the process ends.
	stopAll()
	if log, err := os.ReadFile(s.gatewayLog); err == nil && bytes.Contains(log, []byte("WARNING: DATA RACE")) {
		fmt.Fprintf(os.Stderr, "e2e: FAIL: roomgate reported a data race; see %s\n", s.gatewayLog)
		code = 1
	}
	return code
}

func startSuite(started func(*process)) (*suite, error) {
	repo, err := filepath.Abs("..")
	if err != nil {
		return nil, err
	}
	s := &suite{repo: repo, out: filepath.Join(repo, "e2e", "out")}
	if err := os.MkdirAll(s.out, 0o755); err != nil {
		return nil, err
	}
	dexBin, err := s.dependencies()
	if err != nil {
		return nil, err
	}
	s.roomgate = filepath.Join(s.out, "bin", "roomgate")
	t0 := time.Now()
	// -buildvcs=true: the binary names its revision (roomgate version), even
	// where GOFLAGS turns stamping off.
	build := exec.Command("go", "build", "-race", "-buildvcs=true", "-o", s.roomgate, ".")
	build.Dir = repo
	if b, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("e2e: go build roomgate: %w\n%s", err, b)
	}
	fmt.Fprintf(os.Stderr, "e2e: built roomgate in %v\n", time.Since(t0).Round(time.Millisecond))

	dexPort, err := freePort()
	if err != nil {
		return nil, err
	}
	gwPort, err := freePort()
	if err != nil {
		return nil, err
	}
	if s.refreshPort, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	s.refreshURL = "http://" + s.refreshPort.Addr().String()
	if s.prefixPort, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	s.prefixURL = "http://" + s.prefixPort.Addr().String() + "/meet"
	s.dexURL = "http://" + hostPort(dexPort)
	s.issuer = s.dexURL + "/dex"
	s.gatewayURL = "http://" + hostPort(gwPort)
	// Nothing listens there: the probe stops at the redirect and reads the code.
	s.probeCallback = s.dexURL + "/probe/callback"
	s.secrets = map[string]string{
		"OIDC_CLIENT_SECRET": randomHex(24),
		"SESSION_SECRET":     randomHex(32),
		"DS_DEVELOPER_KEY":   randomHex(32),
	}
	s.dexClientSecret = s.secrets["OIDC_CLIENT_SECRET"]

	// Dex.
	dexConf := filepath.Join(s.out, "dex.yaml")
	callbacks := []string{s.gatewayURL + "/auth/callback", s.refreshURL + "/auth/callback", s.prefixURL + "/auth/callback"}
	conf := dexConfig(s.issuer, hostPort(dexPort), s.dexClientSecret, callbacks, s.probeCallback)
	if err := os.WriteFile(dexConf, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	s.dexLog = filepath.Join(s.out, "dex.log")
	dex, err := startProcess("dex", s.dexLog, nil, dexBin, "serve", dexConf)
	if err != nil {
		return nil, err
	}
	started(dex)
	if err := dex.waitHTTP(s.issuer+"/.well-known/openid-configuration", 30*time.Second); err != nil {
		return nil, err
	}

	// The room stand-in, in this process so that tests can read its entries.
	s.room = dsroom.New(teamID, s.secrets["DS_DEVELOPER_KEY"], nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	roomSrv := &httptest.Server{Listener: l, Config: &http.Server{Handler: s.room}}
	roomSrv.Start()
	s.roomURL = roomSrv.URL
	s.closeRoom = roomSrv.Close

	// roomgate.
	gwConf := filepath.Join(s.out, "roomgate.yaml")
	if err := os.WriteFile(gwConf, []byte(gatewayConfig(hostPort(gwPort), s.gatewayURL, s.issuer, s.roomURL, "10m")), 0o600); err != nil {
		return nil, err
	}
	s.gatewayLog = filepath.Join(s.out, "roomgate.log")
	gw, err := startProcess("roomgate", s.gatewayLog, s.gatewayEnv(), s.roomgate, "serve", "-config", gwConf)
	if err != nil {
		return nil, err
	}
	started(gw)
	if err := gw.waitHTTP(s.gatewayURL+"/readyz", 30*time.Second); err != nil {
		return nil, err
	}
	return s, nil
}

// gatewayEnv is the environment that roomgate's configuration reads its
// secrets from.
func (s *suite) gatewayEnv() []string {
	var e []string
	for k, v := range s.secrets {
		e = append(e, k+"="+v)
	}
	return e
}

// dependencies returns the Dex binary and sets s.chromium. Unless both
// ROOMGATE_DEX_BIN and ROOMGATE_CHROMIUM_BIN are set, it runs
// scripts/e2e-deps.sh, which installs or builds what is missing and prints
// their paths.
func (s *suite) dependencies() (dexBin string, err error) {
	dexBin, s.chromium, s.hydra = os.Getenv("ROOMGATE_DEX_BIN"), os.Getenv("ROOMGATE_CHROMIUM_BIN"), os.Getenv("ROOMGATE_HYDRA_BIN")
	if dexBin == "" || s.chromium == "" || s.hydra == "" {
		cmd := exec.Command("bash", filepath.Join(s.repo, "scripts", "e2e-deps.sh"))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("e2e: scripts/e2e-deps.sh: %w", err)
		}
		vars := map[string]string{}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
			if ok {
				vars[k] = strings.Trim(v, `'"`)
			}
		}
		if dexBin == "" {
			dexBin = vars["ROOMGATE_DEX_BIN"]
		}
		if s.chromium == "" {
			s.chromium = vars["ROOMGATE_CHROMIUM_BIN"]
		}
		if s.hydra == "" {
			s.hydra = vars["ROOMGATE_HYDRA_BIN"]
		}
	}
	for name, path := range map[string]string{"dex": dexBin, "chromium": s.chromium, "hydra": s.hydra} {
		if st, err := os.Stat(path); err != nil || st.IsDir() {
			return "", fmt.Errorf("e2e: no %s binary at %q; run scripts/e2e-deps.sh", name, path)
		}
	}
	return dexBin, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
