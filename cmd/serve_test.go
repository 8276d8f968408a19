package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is stderr shared by serve's goroutines and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// logged waits for a JSON log line with msg and returns its attribute key.
func logged(t *testing.T, stderr *lockedBuffer, msg, key string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(stderr.String(), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
				s, _ := rec[key].(string)
				return s
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no log line %q within 10s:\n%s", msg, stderr)
	return ""
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestServeReloadsAndServesMetrics runs serve in process: /metrics on its
// own address, a rules change picked up without a restart and counted,
// and a clean exit when the context ends.
func TestServeReloadsAndServesMetrics(t *testing.T) {
	// The provider is a closed port on loopback: nothing leaves the machine.
	base := strings.Replace(testConfig, `public_url: "https://meet.example.com"`,
		"public_url: \"https://meet.example.com\"\n  listen: \"127.0.0.1:0\"\n  metrics_listen: \"127.0.0.1:0\"", 1)
	base = strings.Replace(base, `issuer: "https://login.example.com"`, `issuer: "http://127.0.0.1:1"`, 1)
	path := writeConfig(t, base)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "-config", path}, Env{Stdout: io.Discard, Stderr: stderr, LookupEnv: lookup})
	}()
	metricsAddr := logged(t, stderr, "metrics served apart", "metrics_listen")
	addr := logged(t, stderr, "roomgate serving", "listen")
	logged(t, stderr, "watching the config file for changes", "file")

	if code, _ := get(t, "http://"+addr+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz: got %d; want 200", code)
	}
	if code, _ := get(t, "http://"+addr+"/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics on the main address with metrics_listen set: got %d; want 404", code)
	}
	_, body := get(t, "http://"+metricsAddr+"/metrics")
	if !strings.Contains(body, "roomgate_config_last_reload_successful 1") {
		t.Errorf("/metrics does not say the config loaded:\n%s", body)
	}
	for _, want := range []string{`roomgate_build_info{goversion="go1.`, "roomgate_ready 0", "roomgate_config_restart_pending 0"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q (the provider is unreachable here, so not ready):\n%s", want, body)
		}
	}

	changed := base + "  - path: retro\n    room: retro-room\n    rules:\n      - everyone: true\n        role: attendee\n"
	if err := os.WriteFile(path+".new", []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body = get(t, "http://"+metricsAddr+"/metrics")
		if strings.Contains(body, `roomgate_config_reloads_total{result="success"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no successful reload counted within 10s:\n%s\nlog:\n%s", body, stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// (Signed out, /retro answers alike before and after: a sign-in, so
	// room names cannot be probed. The counted reload is the evidence.)
	if _, body = get(t, "http://"+metricsAddr+"/metrics"); !strings.Contains(body, `route="GET /healthz"`) {
		t.Errorf("/metrics has no latency for GET /healthz:\n%s", body)
	}

	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("serve exit %d; want 0\n%s", code, stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s of its context ending")
	}
}

// TestServeStores: serve says at start that a store in the process is
// forgotten at a restart; with store.sqlite it says nothing of the kind and
// reports the store up; a file that is not a database stops it at start.
func TestServeStores(t *testing.T) {
	t.Parallel()
	base := strings.Replace(testConfig, `public_url: "https://meet.example.com"`,
		"public_url: \"https://meet.example.com\"\n  listen: \"127.0.0.1:0\"\n  metrics_listen: \"127.0.0.1:0\"", 1)
	base = strings.Replace(base, `issuer: "https://login.example.com"`, `issuer: "http://127.0.0.1:1"`, 1)
	dir := t.TempDir()
	notADatabase := filepath.Join(dir, "notes.db")
	os.WriteFile(notADatabase, []byte(strings.Repeat("meeting notes\n", 200)), 0o600)
	withStore := func(path string) string {
		return strings.Replace(base, "rooms:", "store:\n  sqlite:\n    path: "+path+"\nrooms:", 1)
	}
	const warning = "the store is in this process"

	for _, tt := range []struct {
		name, config string
		warns        bool
	}{
		{"in the process", base, true},
		{"sqlite", withStore(filepath.Join(dir, "roomgate.db")), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			stderr := &lockedBuffer{}
			done := make(chan int, 1)
			go func() {
				done <- Run(ctx, []string{"serve", "-config", writeConfig(t, tt.config)}, Env{Stdout: io.Discard, Stderr: stderr, LookupEnv: lookup})
			}()
			defer func() { cancel(); <-done }()
			metricsAddr := logged(t, stderr, "metrics served apart", "metrics_listen")
			logged(t, stderr, "roomgate serving", "listen")
			if got := strings.Contains(stderr.String(), warning); got != tt.warns {
				t.Errorf("warns %q: %v; want %v\n%s", warning, got, tt.warns, stderr)
			}
			deadline := time.Now().Add(5 * time.Second)
			for _, body := get(t, "http://"+metricsAddr+"/metrics"); !strings.Contains(body, "roomgate_store_up 1"); _, body = get(t, "http://"+metricsAddr+"/metrics") {
				if time.Now().After(deadline) {
					t.Fatalf("roomgate_store_up is not 1 within 5 s:\n%s", body)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}

	stderr := &lockedBuffer{}
	code := Run(context.Background(), []string{"serve", "-config", writeConfig(t, withStore(notADatabase))}, Env{Stdout: io.Discard, Stderr: stderr, LookupEnv: lookup})
	if code != exitProblem || !strings.Contains(stderr.String(), "not a usable SQLite database") || strings.Contains(stderr.String(), "roomgate serving") {
		t.Errorf("a file that is not a database: exit %d; want 1 with a clear message\n%s", code, stderr)
	}
}
