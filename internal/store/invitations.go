package store

import (
	"errors"
	"slices"
	"time"
)

// Invitation lets one guest, in up to Browsers browsers, into Room until
// Expires. The link's token is never kept: only its Hash, so that the
// store cannot give a link away.
type Invitation struct {
	ID       string    `json:"id"`   // random; in lists, audit lines and the guest's ud, never in the link
	Hash     string    `json:"hash"` // SHA-256 of the link's token, hex
	Room     string    `json:"room"` // the room's path
	Guest    string    `json:"guest"`
	Inviter  Inviter   `json:"inviter"`
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires"`
	Browsers int       `json:"browsers"`       // how many browsers may enter with it
	Used     []string  `json:"used,omitempty"` // hashes of the browsers that have
	// Revoked is when it was ended on purpose; zero while it was not.
	Revoked   time.Time `json:"revoked,omitzero"`
	RevokedBy string    `json:"revoked_by,omitempty"`
}

// Inviter is who made an invitation: a signed-in person, or an admin
// with roomgate invite create (UserID empty, Name "roomgate invite").
type Inviter struct {
	UserID  string `json:"user_id,omitempty"` // the session's ud
	Subject string `json:"sub,omitempty"`     // the provider's sub and sid, so that offboarding ends the invitation
	SID     string `json:"sid,omitempty"`
	Name    string `json:"name,omitempty"`
	Email   string `json:"email,omitempty"`
}

// What the store answers about invitations.
var (
	// ErrNoInvitation: no such invitation, or it expired and is gone.
	ErrNoInvitation = errors.New("store: no such invitation")
	// ErrInvitationEnded: it was revoked, or it has expired.
	ErrInvitationEnded = errors.New("store: the invitation has ended")
	// ErrNoBrowserLeft: every browser it allows has entered; this one has not.
	ErrNoBrowserLeft = errors.New("store: every browser the invitation allows has been used")
	// ErrTooManyInvitations: the inviter has MaxOpenInvitations open for the room.
	ErrTooManyInvitations = errors.New("store: too many open invitations")
)

// MaxOpenInvitations is how many open invitations one person may have for
// one room.
const MaxOpenInvitations = 50

// Open reports whether the invitation can still let someone in at now.
func (inv *Invitation) Open(now time.Time) bool {
	return inv.Revoked.IsZero() && now.Before(inv.Expires)
}

// admit takes browser in at now: a browser that entered before enters
// again without using a slot; a new one takes a slot if one is left.
func (inv *Invitation) admit(browser string, now time.Time) error {
	switch {
	case !inv.Open(now):
		return ErrInvitationEnded
	case slices.Contains(inv.Used, browser):
		return nil
	case len(inv.Used) >= inv.Browsers:
		return ErrNoBrowserLeft
	}
	inv.Used = append(inv.Used, browser)
	return nil
}

// revoke ends the invitation at now, by whom; once.
func (inv *Invitation) revoke(by string, now time.Time) {
	if inv.Revoked.IsZero() {
		inv.Revoked, inv.RevokedBy = now, by
	}
}

// openFor counts the open invitations of inviter among invs.
func openFor(invs []Invitation, inviter string, now time.Time) int {
	n := 0
	for i := range invs {
		if invs[i].Inviter.UserID == inviter && invs[i].Open(now) {
			n++
		}
	}
	return n
}
