// Package store keeps what replicas of roomgate must share to end sessions
// on purpose: revocations (from roomgate revoke and back-channel logout)
// and the ids of logout tokens already used. Two implementations: in the
// process (one replica) and Redis or Valkey (every replica), tested by one
// suite.
//
// The room entry never waits on a store: a replica keeps every live
// revocation in memory (Revocations), loaded at start and fed by Watch.
package store

import (
	"context"
	"errors"
	"time"
)

// Kind says what a revocation names.
type Kind string

// The kinds of revocation.
const (
	KindUser    Kind = "user"    // the session's user id (the token's ud): roomgate revoke
	KindSubject Kind = "subject" // the provider's sub: back-channel logout without sid
	KindSession Kind = "sid"     // the provider's session id: back-channel logout
	// KindSubjectWithoutSession is the provider's sub, for the sessions
	// that remember no sid (signed in before sessions kept it): a logout
	// token with both sid and sub ends those too.
	KindSubjectWithoutSession Kind = "sub-without-sid"
)

// Revocation ends every session of Kind Value that signed in before At. It
// lasts until Expires: by then every session it could touch has ended
// anyway (session.lifetime), so the store stays small.
type Revocation struct {
	Kind    Kind      `json:"kind"`
	Value   string    `json:"value"`
	At      time.Time `json:"at"`
	Expires time.Time `json:"expires"`
}

// Store is where revocations and used logout-token ids are shared.
type Store interface {
	// Revoke keeps r and tells every replica watching.
	Revoke(ctx context.Context, r Revocation) error
	// Load passes every revocation still live to page, a page at a time.
	Load(ctx context.Context, page func([]Revocation)) error
	// Watch calls seen for each revocation made from now on, until ctx
	// ends (nil) or the store fails (an error).
	Watch(ctx context.Context, seen func(Revocation)) error
	// UseOnce records id, for ttl, and reports whether it was new.
	UseOnce(ctx context.Context, id string, ttl time.Duration) (bool, error)
	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
	// Shared reports whether other processes see this store.
	Shared() bool
	// Close releases the store's connections.
	Close() error
}

// ErrClosed is what a closed store answers.
var ErrClosed = errors.New("store: closed")
