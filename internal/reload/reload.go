// Package reload keeps a running gateway's rule set in step with its
// configuration file. It watches the file's directory (so editors that
// replace the file and Kubernetes ConfigMap updates, which swap a symlink,
// are both seen) and reloads on request, e.g. on SIGHUP. A valid file's
// rooms are handed to the gateway; an invalid or unreadable file is refused
// with every problem logged, and the last good rule set keeps serving.
// Changes outside rooms are logged as needing a restart.
package reload

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/mapping"
)

// DefaultDebounce is how long the file must be quiet before it is read.
// Editors and Kubernetes change a file in several steps (truncate and
// write, write and rename, swap a symlink and remove the old directory);
// reading after the last of them sees the whole change once.
const DefaultDebounce = 200 * time.Millisecond

// Watcher reloads the rule set when the configuration file changes. Set its
// fields, then call Run; Reload may be called at any time, also while Run
// is running. A Watcher must not be copied after first use.
type Watcher struct {
	// Path is the configuration file, as given on the command line. Problems
	// are reported against it.
	Path string
	// Options are passed to config.Parse, as for the first load.
	Options config.Options
	// Running is the configuration the gateway was built from. A reloaded
	// file is compared with it to say which keys outside rooms need a
	// restart. It is not replaced by reloads: until a restart, it is still
	// what runs. Its rooms and tests are not read, and may be nil.
	Running *config.Config
	// Apply puts a new, valid rule set into service, e.g.
	// gateway.Server.SetRules. Required.
	Apply func(*mapping.RuleSet)
	// Logger receives what happened; nil discards it. Values of keys are
	// never logged, only their names, since some are secrets.
	Logger *slog.Logger
	// OnResult, when set, is told the outcome of every reload attempt and
	// when it happened, e.g. for metrics.
	OnResult func(ok bool, at time.Time)
	// OnProblems, when set, is told the problems of every refused reload,
	// and nil after a good one, e.g. for the helpdesk console.
	OnProblems func(err error)
	// OnRestartPending, when set, is told after every valid reload
	// whether a change outside rooms waits for a restart.
	OnRestartPending func(pending bool)
	// Signals, when set, asks for a reload on every value received, e.g.
	// a channel given to signal.Notify for SIGHUP. A reload asked for this
	// way happens even when the file has not changed.
	Signals <-chan os.Signal
	// Debounce is how long the file must be quiet before it is read after
	// a change; zero means DefaultDebounce.
	Debounce time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu   sync.Mutex // serialises reloads; guards the fields below
	seen version    // the file as last read

	watching       chan struct{} // closed once Run has started
	watchingClosed bool
}

// Watching returns a channel that is closed once Run has started: it
// watches the file (changes made after that are seen) or, when it cannot,
// listens for Signals only. Tests wait on it instead of sleeping.
func (w *Watcher) Watching() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.watching == nil {
		w.watching = make(chan struct{})
	}
	return w.watching
}

var errApplyRequired = errors.New("reload: Watcher.Apply is required")

// version identifies the file's contents as last read, so that events that
// do not change them (a touch, a chmod, a neighbour's change) cause no
// reload.
type version struct {
	readable bool
	sum      [sha256.Size]byte
}

func versionOf(data []byte, err error) version {
	if err != nil {
		return version{}
	}
	return version{readable: true, sum: sha256.Sum256(data)}
}

// Reload reads the file now and, when it is valid, applies its rooms. It
// returns nil on success; otherwise an error that carries the file's
// mapping.Problems when there are any. Either way the outcome is logged
// and reported to OnResult.
func (w *Watcher) Reload() error {
	if w.Apply == nil {
		return errApplyRequired
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	began := time.Now()
	data, err := config.ReadFile(w.Path)
	w.seen = versionOf(data, err)
	return w.load(data, err, began)
}

// reloadIfChanged reloads when the file is not what it was when last read.
func (w *Watcher) reloadIfChanged() {
	w.mu.Lock()
	defer w.mu.Unlock()
	began := time.Now()
	data, err := config.ReadFile(w.Path)
	v := versionOf(data, err)
	if v == w.seen {
		w.logger().Debug("config file event without a change", "file", w.Path)
		return
	}
	w.seen = v
	w.load(data, err, began)
}

// load validates data read from the file and applies it; the reload began
// when the file's reading did. w.mu is held.
func (w *Watcher) load(data []byte, readErr error, began time.Time) error {
	log := w.logger()
	at := w.now()
	if readErr != nil {
		log.Error("config reload failed: cannot read the file; the last good rule set keeps serving", "file", w.Path, "err", readErr)
		w.report(false, at, readErr)
		return fmt.Errorf("reload: %w", readErr)
	}
	cfg, err := config.Parse(w.Path, data, w.Options)
	if err != nil {
		ps := mapping.AsProblems(err)
		for _, p := range ps {
			log.Error("config problem", "problem", p.Error())
		}
		if ps == nil {
			log.Error("config problem", "err", err)
		}
		log.Error("config reload refused; the last good rule set keeps serving", "file", w.Path, "problems", max(len(ps), 1))
		w.report(false, at, err)
		return fmt.Errorf("reload: %s refused: %w", w.Path, err)
	}
	keys := RestartNeeded(w.Running, cfg)
	if len(keys) > 0 {
		log.Warn("config changed outside rooms; those changes take effect only after a restart (rooms are reloaded now)",
			"file", w.Path, "sections", Sections(keys), "keys", keys)
	}
	if w.OnRestartPending != nil {
		w.OnRestartPending(len(keys) > 0)
	}
	w.Apply(cfg.Rules)
	log.Info("config reloaded", "file", w.Path, "rooms", len(cfg.Rules.Rooms()),
		"duration_ms", float64(time.Since(began).Microseconds())/1000)
	w.report(true, at, nil)
	return nil
}

func (w *Watcher) report(ok bool, at time.Time, err error) {
	if w.OnResult != nil {
		w.OnResult(ok, at)
	}
	if w.OnProblems != nil {
		w.OnProblems(err)
	}
}

// Run watches the file until ctx ends, reloading after every change once
// the file has been quiet for Debounce, and on every value from Signals.
// The file is not reloaded when Run starts: it is taken to be what Running
// was loaded from. When the file's directory cannot be watched (it is gone,
// or the system's inotify limits are reached), Run logs that and goes on
// reloading on Signals only. Run returns nil when ctx ends; it fails at once
// only when Apply is missing.
func (w *Watcher) Run(ctx context.Context) error {
	if w.Apply == nil {
		return errApplyRequired
	}
	log := w.logger()
	var (
		events <-chan fsnotify.Event
		errs   <-chan error
	)
	fw, t, err := w.watch()
	if err != nil {
		log.Error("config file not watched; changes take effect on SIGHUP or a restart", "file", w.Path, "err", err)
	} else {
		defer fw.Close()
		events, errs = fw.Events, fw.Errors
		log.Info("watching the config file for changes", "file", w.Path)
	}
	w.mu.Lock()
	data, err := config.ReadFile(w.Path)
	w.seen = versionOf(data, err)
	if w.watching == nil {
		w.watching = make(chan struct{})
	}
	if !w.watchingClosed {
		close(w.watching)
		w.watchingClosed = true
	}
	w.mu.Unlock()

	debounce := w.Debounce
	if debounce <= 0 {
		debounce = DefaultDebounce
	}
	timer := time.NewTimer(debounce)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if t.concerns(ev.Name) {
				timer.Reset(debounce)
			}
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			log.Warn("config file watch", "file", w.Path, "err", err)
		case <-timer.C:
			w.reloadIfChanged()
			t.follow(fw, log)
		case sig := <-w.Signals:
			log.Info("config reload requested", "signal", sig.String())
			w.Reload()
			if fw != nil {
				t.follow(fw, log)
			}
		}
	}
}

// watch starts watching the file's directory and, when the file is a
// symlink, the directory it ends in.
func (w *Watcher) watch() (*fsnotify.Watcher, *targets, error) {
	abs, err := filepath.Abs(w.Path)
	if err != nil {
		return nil, nil, err
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, nil, err
	}
	// The directory, not the file: a watch on the file itself follows the
	// inode, which an editor's rename or a ConfigMap's symlink swap leaves
	// behind.
	dir := filepath.Dir(abs)
	if err := fw.Add(dir); err != nil {
		fw.Close()
		return nil, nil, fmt.Errorf("watching %s: %w", dir, err)
	}
	t := &targets{file: abs, dir: dir}
	t.follow(fw, w.logger())
	return fw, t, nil
}

// targets are the places whose changes may change the file: its own
// directory and, when the file is a symlink, the directory of what it
// points to, which moves when the link is retargeted.
type targets struct {
	file, dir  string // the file and its directory, absolute
	real, rdir string // where the file's symlinks end, and that directory; empty when not watched
}

// follow watches the directory the file's symlinks end in, when that is
// somewhere else than the file's own directory, and forgets the previous one.
func (t *targets) follow(fw *fsnotify.Watcher, log *slog.Logger) {
	real, err := filepath.EvalSymlinks(t.file)
	if err != nil {
		return // gone for now; the directory watch sees it come back
	}
	rdir := filepath.Dir(real)
	if rdir == t.rdir {
		t.real = real
		return
	}
	if t.rdir != "" {
		fw.Remove(t.rdir) // fails when the directory is gone, which is fine
	}
	t.real, t.rdir = "", ""
	if rdir == t.dir {
		return
	}
	if err := fw.Add(rdir); err != nil {
		log.Warn("config file watch: cannot watch the directory the file links to", "dir", rdir, "err", err)
		return
	}
	t.real, t.rdir = real, rdir
}

// concerns reports whether an event on name may have changed the file.
func (t *targets) concerns(name string) bool {
	dir, base := filepath.Split(name)
	dir = filepath.Clean(dir)
	switch {
	case name == t.file, name == t.real:
		return true
	case dir == t.dir && strings.HasPrefix(base, ".."):
		// Kubernetes: ..data is retargeted to a new ..2026_01_02_... directory.
		return true
	}
	return false
}

func (w *Watcher) logger() *slog.Logger {
	if w.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Logger
}

func (w *Watcher) now() time.Time {
	if w.Now == nil {
		return time.Now()
	}
	return w.Now()
}
