// Package store keeps what must outlive a request and be shared by every
// process serving roomgate: revocations (from roomgate revoke and
// back-channel logout), the ids of logout tokens already used, and guest
// invitations. Three implementations: in the process (one replica, lost
// at a restart), SQLite (one host) and Redis or Valkey (every replica),
// tested by one suite.
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
	// CreateInvitation keeps inv, unless its inviter (a person, with an
	// Inviter.UserID) has MaxOpenInvitations open for its room already
	// (ErrTooManyInvitations).
	CreateInvitation(ctx context.Context, inv Invitation) error
	// Invitation returns the invitation whose link hashes to hash.
	Invitation(ctx context.Context, hash string) (Invitation, error)
	// RedeemInvitation lets browser (a hash) in on the invitation whose
	// link hashes to hash, at now, in one transaction: of two browsers
	// racing for the last slot, on any replicas, exactly one wins.
	RedeemInvitation(ctx context.Context, hash, browser string, now time.Time) (Invitation, error)
	// Invitations returns the invitations of room ("": every room) that
	// have not expired, oldest first.
	Invitations(ctx context.Context, room string) ([]Invitation, error)
	// RevokeInvitation ends the invitation with this id, by whom, at now.
	RevokeInvitation(ctx context.Context, id, by string, now time.Time) (Invitation, error)
	// AddDecisions keeps ds for the helpdesk console, and forgets the
	// decisions older than keep.
	AddDecisions(ctx context.Context, ds []Decision, keep time.Duration) error
	// Decisions finds kept decisions, newest first.
	Decisions(ctx context.Context, q DecisionQuery) ([]Decision, error)
	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
	// Shared reports whether other processes see this store.
	Shared() bool
	// Close releases the store's connections.
	Close() error
}

// ErrClosed is what a closed store answers.
var ErrClosed = errors.New("store: closed")
