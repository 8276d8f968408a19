package store

import (
	"context"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// pollEvery is how often a replica reloads every revocation, beside its
// subscription: a message lost while the connection was down is caught up
// within this.
const pollEvery = 10 * time.Second

// Revocations is one replica's view of the live revocations: in memory,
// read without a lock on every room entry, fed by the store.
type Revocations struct {
	store Store
	now   func() time.Time
	log   *slog.Logger
	// OnState, when set, hears whether the store answers (metrics).
	OnState func(up bool)

	mu    sync.Mutex // writers
	set   atomic.Pointer[map[string]time.Time]
	until map[string]time.Time // kind:value -> expiry
	ready atomic.Bool
	up    atomic.Bool
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
	r := &Revocations{store: st, now: now, log: log, until: map[string]time.Time{}}
	empty := map[string]time.Time{}
	r.set.Store(&empty)
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
// It allocates nothing and takes no lock.
func (r *Revocations) Revoked(user, subject, sid string, signedIn time.Time) bool {
	set := *r.set.Load()
	if len(set) == 0 {
		return false
	}
	for _, k := range [3]struct {
		kind  Kind
		value string
	}{{KindUser, user}, {KindSubject, subject}, {KindSession, sid}} {
		if k.value == "" {
			continue
		}
		if at, ok := set[string(k.kind)+":"+k.value]; ok && !signedIn.After(at) {
			return true
		}
	}
	return false
}

// Add takes rev into the view.
func (r *Revocations) Add(rev Revocation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.merge([]Revocation{rev}, false)
}

// AddLocal takes rev into this replica's view for a revocation the store
// could not take. Like every revocation it keeps applying through every
// reload until it expires, so a store outage fails closed for that person
// here, and the next reload writes it to the store.
func (r *Revocations) AddLocal(rev Revocation) { r.Add(rev) }

// merge builds the next set: the old one (unless replace), plus revs, less
// what has expired. r.mu is held.
func (r *Revocations) merge(revs []Revocation, replace bool) {
	now := r.now()
	next := map[string]time.Time{}
	if !replace {
		maps.Copy(next, *r.set.Load())
	} else {
		r.until = map[string]time.Time{}
	}
	for _, rev := range revs {
		k := string(rev.Kind) + ":" + rev.Value
		if at, ok := next[k]; !ok || at.Before(rev.At) {
			next[k] = rev.At
		}
		if r.until[k].Before(rev.Expires) {
			r.until[k] = rev.Expires
		}
	}
	for k, until := range r.until {
		if !now.Before(until) {
			delete(next, k)
			delete(r.until, k)
		}
	}
	r.set.Store(&next)
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

// Run keeps the view current until ctx ends: it loads every live
// revocation, then follows the store's messages, and reloads every
// pollEvery and after every reconnection, so that a replica catches up on
// what it missed while the store was away.
func (r *Revocations) Run(ctx context.Context) {
	for ctx.Err() == nil {
		if err := r.reload(ctx); err != nil {
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
		wctx, cancel := context.WithCancel(ctx)
		werr := make(chan error, 1)
		go func() { werr <- r.store.Watch(wctx, r.Add) }()
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
				if err := r.reload(ctx); err != nil {
					r.state(false)
				} else {
					r.state(true)
				}
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

func (r *Revocations) reload(ctx context.Context) error {
	lctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	revs, err := r.store.Load(lctx)
	if err != nil {
		return err
	}
	r.mu.Lock()
	// Merge, never replace: a revocation is never undone, only outlived,
	// so one the store forgot (it restarted empty) keeps applying here
	// until it expires, and is written back for the other replicas.
	inStore := map[string]bool{}
	for _, rev := range revs {
		inStore[string(rev.Kind)+":"+rev.Value] = true
	}
	var lost []Revocation
	now := r.now()
	for k, until := range r.until {
		if !inStore[k] && now.Before(until) {
			kind, value, _ := strings.Cut(k, ":")
			lost = append(lost, Revocation{Kind: Kind(kind), Value: value, At: (*r.set.Load())[k], Expires: until})
		}
	}
	r.merge(revs, false)
	r.mu.Unlock()
	for _, rev := range lost {
		if err := r.store.Revoke(lctx, rev); err != nil {
			return err
		}
	}
	if len(lost) > 0 {
		r.log.Info("revocations the store had lost written back", "count", len(lost))
	}
	return nil
}

// Latest returns the latest revocation of this user id, provider subject
// or provider session id, and whether there is one.
func (r *Revocations) Latest(user, subject, sid string) (time.Time, bool) {
	set := *r.set.Load()
	var latest time.Time
	found := false
	for _, k := range []string{string(KindUser) + ":" + user, string(KindSubject) + ":" + subject, string(KindSession) + ":" + sid} {
		if at, ok := set[k]; ok && !strings.HasSuffix(k, ":") && (!found || at.After(latest)) {
			latest, found = at, true
		}
	}
	return latest, found
}
