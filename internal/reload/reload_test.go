package reload

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/internal/testconfig"
	"github.com/roomgate/roomgate/mapping"
)

// Secret values; a test checks that none of them is ever logged.
var secrets = map[string]string{
	"OIDC_CLIENT_SECRET":  "oidc-client-secret-never-logged",
	"OIDC_CLIENT_SECRET2": "second-oidc-client-secret-never-logged",
	"SESSION_SECRET":      "session-secret-never-logged-0123456789",
	"DS_DEVELOPER_KEY":    "developer-key-never-logged",
}

func lookupEnv(k string) (string, bool) {
	v, ok := secrets[k]
	return v, ok
}

// file is a whole configuration file. rooms is the rooms section, indented
// as a list under "rooms:"; listen and secretVar vary the sections outside
// rooms.
type file struct {
	listen    string
	secretVar string
	rooms     string
}

func (f file) String() string {
	listen, secretVar := f.listen, f.secretVar
	if listen == "" {
		listen = ":8080"
	}
	if secretVar == "" {
		secretVar = "OIDC_CLIENT_SECRET"
	}
	head := testconfig.With("server", `  listen: "`+listen+`"`)
	return strings.Replace(head, "${OIDC_CLIENT_SECRET}", "${"+secretVar+"}", 1) + f.rooms
}

// roomsFile has one room per path, each open to everyone as attendee.
func roomsFile(paths ...string) file {
	var b strings.Builder
	for _, p := range paths {
		fmt.Fprintf(&b, "  - path: %s\n    room: %s-room\n    rules:\n      - everyone: true\n        role: attendee\n", p, p)
	}
	return file{rooms: b.String()}
}

// badRole names a role the team does not have.
var badRole = file{rooms: `  - path: standup
    room: standup-room
    rules:
      - everyone: true
        role: moderater
`}

// syncBuffer is a log sink safe for the watcher's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness is a Watcher on a file in a temporary directory, with what it
// applied, reported and logged.
type harness struct {
	w       *Watcher
	dir     string
	path    string
	log     *syncBuffer
	applied chan *mapping.RuleSet
	results chan bool
}

// newHarness writes first to dir/config.yaml (unless the test lays out the
// directory itself, with first empty) and builds a Watcher on it.
func newHarness(t testing.TB, dir string, first file, setup bool) *harness {
	t.Helper()
	path := filepath.Join(dir, "config.yaml")
	if setup {
		writeFile(t, path, first)
	}
	running, err := config.Load(path, config.Options{LookupEnv: lookupEnv})
	if err != nil {
		t.Fatalf("config.Load of the first file: %v", err)
	}
	h := &harness{
		dir:     dir,
		path:    path,
		log:     &syncBuffer{},
		applied: make(chan *mapping.RuleSet, 16),
		results: make(chan bool, 16),
	}
	h.w = &Watcher{
		Path:     path,
		Options:  config.Options{LookupEnv: lookupEnv},
		Running:  running,
		Apply:    func(rs *mapping.RuleSet) { h.applied <- rs },
		Logger:   slog.New(slog.NewJSONHandler(h.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnResult: func(ok bool, at time.Time) { h.results <- ok },
		Debounce: 150 * time.Millisecond, // long enough that a busy machine does not stall a write past it
	}
	return h
}

// run starts the watcher and waits until it watches the directory.
func (h *harness) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		h.checkNoSecrets(t)
	})
	select {
	case <-h.w.Watching():
	case err := <-done:
		t.Fatalf("Run returned early: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not start watching within 5s")
	}
}

const wait = 5 * time.Second

// result waits for the next reload's outcome.
func (h *harness) result(t *testing.T) bool {
	t.Helper()
	select {
	case ok := <-h.results:
		return ok
	case <-time.After(wait):
		t.Fatalf("no reload within %s; log:\n%s", wait, h.log)
		return false
	}
}

// wantApplied waits for a successful reload and checks the rooms it applied.
func (h *harness) wantApplied(t *testing.T, paths ...string) {
	t.Helper()
	if ok := h.result(t); !ok {
		t.Fatalf("reload failed; want success; log:\n%s", h.log)
	}
	select {
	case rs := <-h.applied:
		if got := roomPaths(rs); !slices.Equal(got, paths) {
			t.Errorf("applied rooms %q; want %q", got, paths)
		}
	default:
		t.Fatal("reload succeeded without applying a rule set")
	}
}

// wantRefused waits for a failed reload and checks nothing was applied.
func (h *harness) wantRefused(t *testing.T) {
	t.Helper()
	if ok := h.result(t); ok {
		t.Fatalf("reload succeeded; want it refused; log:\n%s", h.log)
	}
	select {
	case rs := <-h.applied:
		t.Fatalf("refused reload applied rooms %q", roomPaths(rs))
	default:
	}
}

// wantQuiet checks that no reload happens for a while.
func (h *harness) wantQuiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case ok := <-h.results:
		t.Fatalf("unexpected reload (ok=%v); log:\n%s", ok, h.log)
	case <-time.After(d):
	}
}

func (h *harness) checkNoSecrets(t *testing.T) {
	t.Helper()
	log := h.log.String()
	for name, v := range secrets {
		if strings.Contains(log, v) {
			t.Errorf("log shows the value of %s:\n%s", name, log)
		}
	}
}

func roomPaths(rs *mapping.RuleSet) []string {
	var out []string
	for _, r := range rs.Rooms() {
		out = append(out, r.Path)
	}
	return out
}

// lineOf is the 1-based line of f on which s first appears.
func lineOf(t *testing.T, f file, s string) int {
	t.Helper()
	for i, line := range strings.Split(f.String(), "\n") {
		if strings.Contains(line, s) {
			return i + 1
		}
	}
	t.Fatalf("%q is not in the file", s)
	return 0
}

func writeFile(t testing.TB, path string, f file) {
	t.Helper()
	if err := os.WriteFile(path, []byte(f.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestValidChangeIsApplied(t *testing.T) {
	t.Parallel()
	h := newHarness(t, t.TempDir(), roomsFile("standup"), true)
	h.run(t)
	writeFile(t, h.path, roomsFile("standup", "retro"))
	h.wantApplied(t, "standup", "retro")
	if !regexp.MustCompile(`"msg":"config reloaded".*"rooms":2,"duration_ms":[0-9.]+}`).MatchString(h.log.String()) {
		t.Errorf("log lacks the reload, its rooms or how long it took:\n%s", h.log)
	}
}

func TestInvalidChangeIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, t.TempDir(), roomsFile("standup"), true)
	h.run(t)

	writeFile(t, h.path, badRole)
	h.wantRefused(t)
	log := h.log.String()
	at := fmt.Sprintf("%s:%d: rooms[0].rules[0].role", h.path, lineOf(t, badRole, "moderater"))
	if !strings.Contains(log, at) || !strings.Contains(log, `"level":"ERROR"`) {
		t.Errorf("log lacks an error at %s:\n%s", at, log)
	}
	if !strings.Contains(log, "last good rule set keeps serving") {
		t.Errorf("log does not say the last good rule set keeps serving:\n%s", log)
	}

	writeFile(t, h.path, roomsFile("standup", "retro"))
	h.wantApplied(t, "standup", "retro")
}

func TestEveryProblemIsLogged(t *testing.T) {
	t.Parallel()
	h := newHarness(t, t.TempDir(), roomsFile("standup"), true)
	bad := file{rooms: `  - path: standup
    room: standup-room
    rules:
      - everyone: true
        role: moderater
  - path: auth
    room: x
    rules:
      - grups: [a]
        role: attendee
`}
	writeFile(t, h.path, bad)
	err := h.w.Reload()
	if err == nil {
		t.Fatal("Reload of an invalid file: got nil error")
	}
	log := h.log.String()
	if got := strings.Count(log, `"msg":"config problem"`); got < 2 {
		t.Errorf("got %d problems logged; want at least 2:\n%s", got, log)
	}
	if ok := h.result(t); ok {
		t.Error("OnResult(true) for an invalid file")
	}
	if len(h.applied) != 0 {
		t.Error("an invalid file was applied")
	}
}

func TestRenameOver(t *testing.T) {
	t.Parallel()
	h := newHarness(t, t.TempDir(), roomsFile("standup"), true)
	h.run(t)
	// What vim (backupcopy=no), emacs and most tools that "save atomically"
	// do: write a new file next to it, then rename it over the old one.
	tmp := filepath.Join(h.dir, ".config.yaml.swp")
	writeFile(t, tmp, roomsFile("retro"))
	if err := os.Rename(tmp, h.path); err != nil {
		t.Fatal(err)
	}
	h.wantApplied(t, "retro")

	// The watch survives the old file's inode going away.
	writeFile(t, tmp, roomsFile("retro", "standup"))
	if err := os.Rename(tmp, h.path); err != nil {
		t.Fatal(err)
	}
	h.wantApplied(t, "retro", "standup")
}

// kubeDir lays out dir as the kubelet does for a ConfigMap volume:
// config.yaml -> ..data/config.yaml, ..data -> ..<timestamp>/.
type kubeDir struct {
	dir string
	gen int
}

func (k *kubeDir) publish(t *testing.T, f file) {
	t.Helper()
	k.gen++
	old := filepath.Join(k.dir, fmt.Sprintf("..2026_01_02_15_04_05.%d", k.gen-1))
	ts := fmt.Sprintf("..2026_01_02_15_04_05.%d", k.gen)
	if err := os.Mkdir(filepath.Join(k.dir, ts), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(k.dir, ts, "config.yaml"), f)
	tmp := filepath.Join(k.dir, "..data_tmp")
	if err := os.Symlink(ts, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(k.dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if k.gen == 1 {
		if err := os.Symlink(filepath.Join("..data", "config.yaml"), filepath.Join(k.dir, "config.yaml")); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err := os.RemoveAll(old); err != nil {
		t.Fatal(err)
	}
}

func TestKubernetesConfigMapSwap(t *testing.T) {
	t.Parallel()
	k := &kubeDir{dir: t.TempDir()}
	k.publish(t, roomsFile("standup"))
	h := newHarness(t, k.dir, file{}, false)
	h.run(t)

	k.publish(t, roomsFile("standup", "retro"))
	h.wantApplied(t, "standup", "retro")

	k.publish(t, badRole)
	h.wantRefused(t)

	k.publish(t, roomsFile("retro"))
	h.wantApplied(t, "retro")
}

// A symlink to a file elsewhere: retargeting it, or changing the file it
// points to, is a change.
func TestSymlinkElsewhere(t *testing.T) {
	t.Parallel()
	dir, elsewhere := t.TempDir(), t.TempDir()
	a := filepath.Join(elsewhere, "a.yaml")
	writeFile(t, a, roomsFile("standup"))
	if err := os.Symlink(a, filepath.Join(dir, "config.yaml")); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, dir, file{}, false)
	h.run(t)

	writeFile(t, a, roomsFile("standup", "retro"))
	h.wantApplied(t, "standup", "retro")

	b := filepath.Join(elsewhere, "b.yaml")
	writeFile(t, b, roomsFile("b"))
	tmp := filepath.Join(dir, "config.yaml.new")
	if err := os.Symlink(b, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, h.path); err != nil {
		t.Fatal(err)
	}
	h.wantApplied(t, "b")

	writeFile(t, b, roomsFile("b", "c"))
	h.wantApplied(t, "b", "c")
}

func TestDeletedThenRestored(t *testing.T) {
	t.Parallel()
	h := newHarness(t, t.TempDir(), roomsFile("standup"), true)
	h.run(t)
	if err := os.Remove(h.path); err != nil {
		t.Fatal(err)
	}
	h.wantRefused(t)
	if log := h.log.String(); !strings.Contains(log, "cannot read the file") {
		t.Errorf("log does not say the file cannot be read:\n%s", log)
	}
	writeFile(t, h.path, roomsFile("standup"))
	h.wantApplied(t, "standup")
}

func TestUnreadableFile(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		// root reads any file; make the path a directory instead.
		h := newHarness(t, t.TempDir(), roomsFile("standup"), true)
		os.Remove(h.path)
		if err := os.Mkdir(h.path, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := h.w.Reload(); err == nil {
			t.Fatal("Reload of a directory: got nil error")
		}
		h.wantRefused(t)
		return
	}
	h := newHarness(t, t.TempDir(), roomsFile("standup"), true)
	if err := os.Chmod(h.path, 0); err != nil {
		t.Fatal(err)
	}
	if err := h.w.Reload(); err == nil {
		t.Fatal("Reload of an unreadable file: got nil error")
	}
	h.wantRefused(t)
}

func TestChangeOutsideRoomsNeedsRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, t.TempDir(), roomsFile("standup"), true)
	var pending atomic.Bool
	h.w.OnRestartPending = pending.Store
	h.run(t)
	f := roomsFile("standup", "retro")
	f.listen = ":9999"
	f.secretVar = "OIDC_CLIENT_SECRET2"
	writeFile(t, h.path, f)
	h.wantApplied(t, "standup", "retro")
	log := h.log.String()
	for _, want := range []string{
		`"level":"WARN"`,
		`"sections":["server","oidc"]`,
		`"keys":["server.listen","oidc.client_secret"]`,
		"restart",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
	if !pending.Load() {
		t.Error("OnRestartPending was not told a restart is pending")
	}
}

func TestRoomsOnlyChangeNeedsNoRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, t.TempDir(), roomsFile("standup"), true)
	writeFile(t, h.path, roomsFile("retro"))
	if err := h.w.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	h.wantApplied(t, "retro")
	if log := h.log.String(); strings.Contains(log, "restart") {
		t.Errorf("a rooms-only change says it needs a restart:\n%s", log)
	}
}

func TestBurstIsDebounced(t *testing.T) {
	t.Parallel()
	h := newHarness(t, t.TempDir(), roomsFile("standup"), true)
	// Long enough that a busy machine does not stall the burst past it.
	h.w.Debounce = time.Second
	h.run(t)
	// An in-place save truncates, then writes: between the two the file is
	// empty and invalid. Five such saves in a row must be read once, after
	// the last.
	for i := range 5 {
		if err := os.WriteFile(h.path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		writeFile(t, h.path, roomsFile("standup", fmt.Sprintf("r%d", i)))
	}
	h.wantApplied(t, "standup", "r4")
	h.wantQuiet(t, 1500*time.Millisecond)
}

func TestUnchangedFileIsNotReloaded(t *testing.T) {
	t.Parallel()
	h := newHarness(t, t.TempDir(), roomsFile("standup"), true)
	h.run(t)
	// The same bytes again, a chmod and a neighbour's change.
	writeFile(t, h.path, roomsFile("standup"))
	if err := os.Chmod(h.path, 0o600); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(h.dir, "other.yaml"), roomsFile("other"))
	h.wantQuiet(t, 300*time.Millisecond)
}

func TestSignalReloads(t *testing.T) {
	t.Parallel()
	h := newHarness(t, t.TempDir(), roomsFile("standup"), true)
	sig := make(chan os.Signal, 1)
	h.w.Signals = sig
	h.run(t)
	// Unchanged file: a reload asked for is done anyway.
	sig <- syscall.SIGHUP
	h.wantApplied(t, "standup")
	if log := h.log.String(); !strings.Contains(log, `"signal":"hangup"`) {
		t.Errorf("log does not name the signal:\n%s", log)
	}
}

func TestReloadWithoutApply(t *testing.T) {
	t.Parallel()
	w := &Watcher{Path: filepath.Join(t.TempDir(), "config.yaml")}
	if err := w.Reload(); err == nil {
		t.Error("Reload without Apply: got nil error")
	}
	if err := w.Run(context.Background()); err == nil {
		t.Error("Run without Apply: got nil error")
	}
}

// Without a watch, Run still reloads on signals.
func TestRunWithoutDirectory(t *testing.T) {
	t.Parallel()
	h := newHarness(t, t.TempDir(), roomsFile("standup"), true)
	h.w.Path = filepath.Join(h.dir, "missing", "config.yaml")
	sig := make(chan os.Signal, 1)
	h.w.Signals = sig
	h.run(t)
	if log := h.log.String(); !strings.Contains(log, "config file not watched") || !strings.Contains(log, `"level":"ERROR"`) {
		t.Errorf("log does not say the file is not watched:\n%s", log)
	}
	sig <- syscall.SIGHUP
	h.wantRefused(t) // the file is not there
}

func TestResultTime(t *testing.T) {
	t.Parallel()
	h := newHarness(t, t.TempDir(), roomsFile("standup"), true)
	at := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	var got time.Time
	h.w.Now = func() time.Time { return at }
	h.w.OnResult = func(ok bool, t time.Time) { got = t }
	if err := h.w.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if !got.Equal(at) {
		t.Errorf("OnResult time %v; want %v", got, at)
	}
}

// TestPathPointedAtNoFile swaps the watched path for a link to an endless
// device, then for a FIFO nobody writes to: each reload is refused at once
// with a log line that says why, the last good rule set keeps serving, and
// a good file afterwards is applied.
func TestPathPointedAtNoFile(t *testing.T) {
	t.Parallel()
	h := newHarness(t, t.TempDir(), roomsFile("standup"), true)
	h.run(t)
	swap := func(make func(tmp string) error) {
		t.Helper()
		tmp := h.path + ".new"
		if err := make(tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, h.path); err != nil {
			t.Fatal(err)
		}
	}
	swap(func(tmp string) error { return os.Symlink("/dev/zero", tmp) })
	h.wantRefused(t)
	swap(func(tmp string) error { return syscall.Mkfifo(tmp, 0o600) })
	// Unreadable either way, so the watcher sees no change; a SIGHUP's
	// reload reads the FIFO, at once.
	if err := h.w.Reload(); err == nil || !strings.Contains(err.Error(), "a FIFO") {
		t.Errorf("Reload of a FIFO: got %v; want it refused as a FIFO", err)
	}
	h.wantRefused(t)
	log := h.log.String()
	for _, want := range []string{"a character device", "a FIFO", "last good rule set keeps serving"} {
		if !strings.Contains(log, want) {
			t.Errorf("log does not say %q:\n%s", want, log)
		}
	}
	if err := os.Remove(h.path); err != nil {
		t.Fatal(err)
	}
	writeFile(t, h.path, roomsFile("standup", "retro"))
	h.wantApplied(t, "standup", "retro")
}

// TestFailingRuleTestsAreRefused: a change that breaks one of the file's
// own rule tests is refused like any invalid file, with the failing test in
// the log, and the last good rule set keeps serving.
func TestFailingRuleTestsAreRefused(t *testing.T) {
	t.Parallel()
	tested := func(role string) file {
		return file{rooms: `  - path: standup
    room: standup-room
    rules:
      - everyone: true
        role: ` + role + `
tests:
  - name: everyone attends
    person: {}
    expect: {standup: attendee}
`}
	}
	h := newHarness(t, t.TempDir(), tested("attendee"), true)
	h.run(t)
	writeFile(t, h.path, tested("moderator"))
	h.wantRefused(t)
	if log := h.log.String(); !strings.Contains(log, `tests[0] \"everyone attends\": standup: got moderator (rules[0]`) {
		t.Errorf("log lacks the failing test:\n%s", log)
	}
	writeFile(t, h.path, roomsFile("standup", "retro"))
	h.wantApplied(t, "standup", "retro")
}
