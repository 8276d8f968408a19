package store

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Memory is a Store in this process: enough for one replica, whose
// back-channel logouts need no one else to hear of them.
type Memory struct {
	Now func() time.Time // nil means time.Now

	mu       sync.Mutex
	revoked  map[string]Revocation
	used     map[string]time.Time
	invites  map[string]*Invitation // by hash
	decided  []Decision             // oldest first
	watchers map[chan Revocation]struct{}
	closed   bool
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory {
	return &Memory{revoked: map[string]Revocation{}, used: map[string]time.Time{}, invites: map[string]*Invitation{}, watchers: map[chan Revocation]struct{}{}}
}

func (m *Memory) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Revoke implements Store.
func (m *Memory) Revoke(_ context.Context, r Revocation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	k := string(r.Kind) + ":" + r.Value
	if old, ok := m.revoked[k]; !ok || old.At.Before(r.At) {
		m.revoked[k] = r
	}
	for w := range m.watchers {
		select {
		case w <- r:
		default: // a watcher that does not keep up reloads (Load) anyway
		}
	}
	return nil
}

// Load implements Store.
func (m *Memory) Load(_ context.Context, page func([]Revocation)) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	now := m.now()
	var out []Revocation
	for k, r := range m.revoked {
		if !now.Before(r.Expires) {
			delete(m.revoked, k)
			continue
		}
		out = append(out, r)
	}
	m.mu.Unlock()
	page(out)
	return nil
}

// Ping implements Store.
func (m *Memory) Ping(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	return nil
}

// Watch implements Store.
func (m *Memory) Watch(ctx context.Context, seen func(Revocation)) error {
	ch := make(chan Revocation, 64)
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	m.watchers[ch] = struct{}{}
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.watchers, ch)
		m.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case r := <-ch:
			seen(r)
		}
	}
}

// UseOnce implements Store.
func (m *Memory) UseOnce(_ context.Context, id string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false, ErrClosed
	}
	now := m.now()
	for k, until := range m.used {
		if !now.Before(until) {
			delete(m.used, k)
		}
	}
	if _, ok := m.used[id]; ok {
		return false, nil
	}
	m.used[id] = now.Add(ttl)
	return true, nil
}

// invitations returns the live invitations of room ("": all), oldest
// first, forgetting the expired. m.mu is held.
func (m *Memory) invitations(room string) []Invitation {
	now := m.now()
	var out []Invitation
	for h, inv := range m.invites {
		if !now.Before(inv.Expires) {
			delete(m.invites, h)
			continue
		}
		if room == "" || inv.Room == room {
			c := *inv
			c.Used = slices.Clone(inv.Used)
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b Invitation) int { return a.Created.Compare(b.Created) })
	return out
}

// CreateInvitation implements Store.
func (m *Memory) CreateInvitation(_ context.Context, inv Invitation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if inv.Inviter.UserID != "" && openFor(m.invitations(inv.Room), inv.Inviter.UserID, m.now()) >= MaxOpenInvitations {
		return ErrTooManyInvitations
	}
	m.invites[inv.Hash] = &inv
	return nil
}

// Invitation implements Store.
func (m *Memory) Invitation(_ context.Context, hash string) (Invitation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return Invitation{}, ErrClosed
	}
	inv, ok := m.invites[hash]
	if !ok || !m.now().Before(inv.Expires) {
		return Invitation{}, ErrNoInvitation
	}
	c := *inv
	c.Used = slices.Clone(inv.Used)
	return c, nil
}

// RedeemInvitation implements Store.
func (m *Memory) RedeemInvitation(_ context.Context, hash, browser string, now time.Time) (Invitation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return Invitation{}, ErrClosed
	}
	inv, ok := m.invites[hash]
	if !ok {
		return Invitation{}, ErrNoInvitation
	}
	if err := inv.admit(browser, now); err != nil {
		return *inv, err
	}
	c := *inv
	c.Used = slices.Clone(inv.Used)
	return c, nil
}

// Invitations implements Store.
func (m *Memory) Invitations(_ context.Context, room string) ([]Invitation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	return m.invitations(room), nil
}

// RevokeInvitation implements Store.
func (m *Memory) RevokeInvitation(_ context.Context, id, by string, now time.Time) (Invitation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return Invitation{}, ErrClosed
	}
	for _, inv := range m.invites {
		if inv.ID == id && now.Before(inv.Expires) {
			inv.revoke(by, now)
			return *inv, nil
		}
	}
	return Invitation{}, ErrNoInvitation
}

// AddDecisions implements Store.
func (m *Memory) AddDecisions(_ context.Context, ds []Decision, keep time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.decided = append(m.decided, ds...)
	cut := m.now().Add(-keep)
	drop := 0
	for drop < len(m.decided) && (m.decided[drop].At.Before(cut) || len(m.decided)-drop > maxMemoryDecisions) {
		drop++
	}
	m.decided = slices.Delete(m.decided, 0, drop)
	return nil
}

// Decisions implements Store.
func (m *Memory) Decisions(_ context.Context, q DecisionQuery) ([]Decision, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	var out []Decision
	for i := len(m.decided) - 1; i >= 0 && len(out) < q.limit(); i-- {
		if q.matches(&m.decided[i]) {
			out = append(out, m.decided[i])
		}
	}
	newestFirst(out)
	return out, nil
}

// Shared implements Store: no other process sees this one.
func (m *Memory) Shared() bool { return false }

// Close implements Store.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

var _ Store = (*Memory)(nil)
