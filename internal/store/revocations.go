package store

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// pollEvery is how often a replica asks whether the store still answers.
// A replica reloads every revocation when it (re)subscribes: a message
// lost while the connection was down is caught up then.
const pollEvery = 10 * time.Second

// progressEvery is how many revocations a first load reads between two
// progress lines in the log.
const progressEvery = 100_000

// Revocations is one replica's view of the live revocations: in memory,
// read on every room entry, fed by the store. A revocation takes one map
// entry (about 100 bytes with its key): a million live ones fit in a
// replica's memory limit, and adding one copies nothing.
type Revocations struct {
	store Store
	now   func() time.Time
	log   *slog.Logger
	// OnState, when set, hears whether the store answers (metrics).
	OnState func(up bool)

	mu      sync.RWMutex
	entries map[string]entry // kind:value
	gen     uint32           // of the load under way or last done
	ready   atomic.Bool
	up      atomic.Bool
}

// entry is one live revocation.
type entry struct {
	at, expires int64  // unix nanoseconds
	gen         uint32 // the load that last saw it in the store
}

// NewRevocations returns an empty view of st. now is the clock (nil:
// time.Now); log receives what happens to the store (nil: nothing).
func NewRevocations(st Store, now func() time.Time, log *slog.Logger) *Revocations {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Revocations{store: st, now: now, log: log, entries: map[string]entry{}}
	if !st.Shared() {
		// A store of this process holds nothing from before it: there is
		// nothing to load first.
		r.ready.Store(true)
		r.up.Store(true)
	}
	return r
}

// Store is the store the view reads.
func (r *Revocations) Store() Store { return r.store }

// Revoked reports whether a session of this user id, provider subject and
// provider session id that signed in at signedIn has been revoked since
// (or in the same instant: the safe side of a tie).
func (r *Revocations) Revoked(user, subject, sid string, signedIn time.Time) bool {
	at, ok := r.Latest(user, subject, sid)
	return ok && !signedIn.After(at)
}

// Latest returns the latest revocation of this user id, provider subject
// or provider session id, and whether there is one.
func (r *Revocations) Latest(user, subject, sid string) (time.Time, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.entries) == 0 {
		return time.Time{}, false
	}
	now := r.now().UnixNano()
	var latest int64
	found := false
	noSID := subject
	if sid != "" {
		noSID = ""
	}
	for _, k := range [4]struct {
		kind  Kind
		value string
	}{{KindUser, user}, {KindSubject, subject}, {KindSession, sid}, {KindSubjectWithoutSession, noSID}} {
		if k.value == "" {
			continue
		}
		if e, ok := r.entries[string(k.kind)+":"+k.value]; ok && now < e.expires && (!found || e.at > latest) {
			latest, found = e.at, true
		}
	}
	return time.Unix(0, latest), found
}

// Add takes rev into the view.
func (r *Revocations) Add(rev Revocation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.merge(rev, false)
}

// AddLocal takes rev into this replica's view for a revocation the store
// could not take. Like every revocation it keeps applying through every
// reload until it expires, so a store outage fails closed for that person
// here, and the next reload writes it to the store.
func (r *Revocations) AddLocal(rev Revocation) { r.Add(rev) }

// merge takes rev in; inStore says the store holds it. r.mu is held.
func (r *Revocations) merge(rev Revocation, inStore bool) {
	if !r.now().Before(rev.Expires) {
		return
	}
	k := string(rev.Kind) + ":" + rev.Value
	e := r.entries[k]
	e.at = max(e.at, rev.At.UnixNano())
	e.expires = max(e.expires, rev.Expires.UnixNano())
	if inStore {
		e.gen = r.gen
	}
	r.entries[k] = e
}

// prune forgets what has expired. r.mu is held.
func (r *Revocations) prune() {
	now := r.now().UnixNano()
	for k, e := range r.entries {
		if now >= e.expires {
			delete(r.entries, k)
		}
	}
}

// Len is how many revocations the view holds.
func (r *Revocations) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.entries)
}

// Ready reports whether every revocation live at start has been loaded:
// until then a replica must not serve, or a revoked person could slip in.
func (r *Revocations) Ready() bool { return r.ready.Load() }

// Up reports whether the store answered last time it was asked.
func (r *Revocations) Up() bool { return r.up.Load() }

func (r *Revocations) state(up bool) {
	if r.up.Swap(up) != up || !r.ready.Load() {
		if up {
			r.log.Info("revocation store reachable", "shared", r.store.Shared())
		} else {
			r.log.Warn("revocation store unreachable: known revocations keep applying; new ones cannot be shared until it is back")
		}
	}
	if r.OnState != nil {
		r.OnState(up)
	}
}

// Run keeps the view current until ctx ends: it follows the store's
// messages and loads every live revocation, again after every
// reconnection, so that a replica catches up on what it missed while the
// store was away; meanwhile it asks the store every pollEvery whether it
// answers.
func (r *Revocations) Run(ctx context.Context) {
	for ctx.Err() == nil {
		// Subscribed first, so that nothing revoked during the load is
		// missed; the load merges, so order does not matter.
		wctx, cancel := context.WithCancel(ctx)
		werr := make(chan error, 1)
		go func() { werr <- r.store.Watch(wctx, r.Add) }()
		if err := r.reload(ctx); err != nil {
			cancel()
			r.log.Warn("revocations not loaded; trying again", "err", err)
			r.state(false)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		r.state(true)
		r.ready.Store(true)
		tick := time.NewTicker(pollEvery)
	follow:
		for {
			select {
			case <-ctx.Done():
				break follow
			case err := <-werr:
				if err != nil {
					r.state(false)
				}
				break follow
			case <-tick.C:
				pctx, pcancel := context.WithTimeout(ctx, 3*time.Second)
				r.state(r.store.Ping(pctx) == nil)
				pcancel()
				r.mu.Lock()
				r.prune()
				r.mu.Unlock()
			}
		}
		tick.Stop()
		cancel()
		if ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

// reload loads every live revocation from the store, a page at a time.
// It has no deadline of its own: each of the store's calls has one, and a
// large store takes as long as it takes, saying how far it got. What this
// replica holds and the store does not (it restarted empty) is written
// back: a revocation is never undone, only outlived.
func (r *Revocations) reload(ctx context.Context) error {
	r.mu.Lock()
	r.gen++
	gen := r.gen
	r.mu.Unlock()
	loaded, started := 0, time.Now()
	err := r.store.Load(ctx, func(page []Revocation) {
		r.mu.Lock()
		for _, rev := range page {
			r.merge(rev, true)
		}
		r.mu.Unlock()
		before := loaded
		loaded += len(page)
		if !r.ready.Load() && loaded/progressEvery != before/progressEvery {
			r.log.Info("loading revocations", "loaded", loaded, "elapsed", time.Since(started).Round(time.Millisecond).String())
		}
	})
	if err != nil {
		return err
	}
	var lost []Revocation
	r.mu.Lock()
	r.prune()
	for k, e := range r.entries {
		if e.gen != gen {
			kind, value, _ := strings.Cut(k, ":")
			lost = append(lost, Revocation{Kind: Kind(kind), Value: value, At: time.Unix(0, e.at), Expires: time.Unix(0, e.expires)})
		}
	}
	r.mu.Unlock()
	if !r.ready.Load() {
		r.log.Info("revocations loaded", "count", loaded, "elapsed", time.Since(started).Round(time.Millisecond).String())
	}
	for _, rev := range lost {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err := r.store.Revoke(rctx, rev)
		cancel()
		if err != nil {
			return err
		}
		r.Add(rev) // seen in the store now
	}
	if len(lost) > 0 {
		r.log.Info("revocations the store had lost written back", "count", len(lost))
	}
	return nil
}
