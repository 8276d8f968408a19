package store

import (
	"context"
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
	watchers map[chan Revocation]struct{}
	closed   bool
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory {
	return &Memory{revoked: map[string]Revocation{}, used: map[string]time.Time{}, watchers: map[chan Revocation]struct{}{}}
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
