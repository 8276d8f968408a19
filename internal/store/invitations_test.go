package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func invitation(id, room, inviter string, browsers int, now time.Time) Invitation {
	return Invitation{ID: id, Hash: "hash-" + id, Room: room, Guest: "Jane Roe", Inviter: Inviter{UserID: inviter, Name: inviter},
		Created: now, Expires: now.Add(time.Hour), Browsers: browsers}
}

// TestInvitations: an invitation is kept, found by its link's hash alone,
// lets in as many browsers as it says (one browser again and again), ends
// when revoked, and is listed by room.
func TestInvitations(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, open func() Store) {
		ctx := context.Background()
		a, b := open(), open()
		now := time.Now()
		if err := a.CreateInvitation(ctx, invitation("inv-1", "standup", "ada", 2, now)); err != nil {
			t.Fatal(err)
		}
		a.CreateInvitation(ctx, invitation("inv-2", "retro", "ada", 1, now.Add(time.Second)))
		if got, err := b.Invitation(ctx, "hash-inv-1"); err != nil || got.ID != "inv-1" || got.Guest != "Jane Roe" || got.Inviter.UserID != "ada" {
			t.Fatalf("Invitation: %+v %v", got, err)
		}
		if _, err := b.Invitation(ctx, "inv-1"); !errors.Is(err, ErrNoInvitation) {
			t.Errorf("found by its id where only the link's hash may find it: %v", err)
		}
		for i, step := range []struct {
			browser string
			want    error
			used    int
		}{
			{"browser-1", nil, 1},
			{"browser-1", nil, 1}, // the same browser again: no slot used
			{"browser-2", nil, 2},
			{"browser-3", ErrNoBrowserLeft, 2},
			{"browser-2", nil, 2},
		} {
			st := []Store{a, b}[i%2]
			got, err := st.RedeemInvitation(ctx, "hash-inv-1", step.browser, time.Now())
			if !errors.Is(err, step.want) || len(got.Used) != step.used {
				t.Errorf("step %d, %s: %v with %d used; want %v with %d", i, step.browser, err, len(got.Used), step.want, step.used)
			}
		}
		if _, err := a.RedeemInvitation(ctx, "hash-nothing", "browser-1", time.Now()); !errors.Is(err, ErrNoInvitation) {
			t.Errorf("a link no invitation has: %v", err)
		}
		revoked, err := b.RevokeInvitation(ctx, "inv-1", "ada", time.Now())
		if err != nil || revoked.Revoked.IsZero() || revoked.RevokedBy != "ada" {
			t.Fatalf("RevokeInvitation: %+v %v", revoked, err)
		}
		if _, err := a.RedeemInvitation(ctx, "hash-inv-1", "browser-1", time.Now()); !errors.Is(err, ErrInvitationEnded) {
			t.Errorf("a browser that entered before, after the revocation: %v; want ErrInvitationEnded", err)
		}
		if _, err := a.RevokeInvitation(ctx, "inv-none", "ada", time.Now()); !errors.Is(err, ErrNoInvitation) {
			t.Errorf("revoking what is not there: %v", err)
		}
		if _, err := a.RedeemInvitation(ctx, "hash-inv-2", "browser-1", now.Add(2*time.Hour)); !errors.Is(err, ErrInvitationEnded) {
			t.Errorf("after its end: %v; want ErrInvitationEnded", err)
		}
		standup, err := b.Invitations(ctx, "standup")
		if err != nil || len(standup) != 1 || standup[0].ID != "inv-1" {
			t.Errorf("Invitations(standup): %+v %v", standup, err)
		}
		all, err := b.Invitations(ctx, "")
		if err != nil || len(all) != 2 || all[0].ID != "inv-1" || all[1].ID != "inv-2" {
			t.Errorf("Invitations(all): %+v %v; want inv-1 then inv-2", all, err)
		}
	})
}

// TestInvitationLimit: a person has at most MaxOpenInvitations open for a
// room; a revoked one no longer counts, nor do other people's or rooms'.
func TestInvitationLimit(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, open func() Store) {
		ctx := context.Background()
		st := open()
		now := time.Now()
		for i := range MaxOpenInvitations {
			if err := st.CreateInvitation(ctx, invitation(fmt.Sprint("ada-", i), "standup", "ada", 1, now)); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.CreateInvitation(ctx, invitation("ada-more", "standup", "ada", 1, now)); !errors.Is(err, ErrTooManyInvitations) {
			t.Errorf("one more than %d: %v; want ErrTooManyInvitations", MaxOpenInvitations, err)
		}
		for _, inv := range []Invitation{invitation("ben-1", "standup", "ben", 1, now), invitation("ada-retro", "retro", "ada", 1, now)} {
			if err := st.CreateInvitation(ctx, inv); err != nil {
				t.Errorf("%s: %v", inv.ID, err)
			}
		}
		st.RevokeInvitation(ctx, "ada-0", "ada", time.Now())
		if err := st.CreateInvitation(ctx, invitation("ada-after", "standup", "ada", 1, now)); err != nil {
			t.Errorf("after revoking one: %v", err)
		}
	})
}

// TestInvitationExpiry: an expired invitation is gone from the store.
func TestInvitationExpiry(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, open func() Store) {
		ctx := context.Background()
		st := open()
		inv := invitation("short", "standup", "ada", 1, time.Now())
		inv.Expires = time.Now().Add(time.Second)
		st.CreateInvitation(ctx, inv)
		st.CreateInvitation(ctx, invitation("long", "standup", "ada", 1, time.Now()))
		time.Sleep(1500 * time.Millisecond)
		if _, err := st.Invitation(ctx, "hash-short"); !errors.Is(err, ErrNoInvitation) {
			t.Errorf("an expired invitation: %v; want ErrNoInvitation", err)
		}
		if all, _ := st.Invitations(ctx, ""); len(all) != 1 || all[0].ID != "long" {
			t.Errorf("after expiry: %+v; want long alone", all)
		}
	})
}

// TestInvitationRace: browsers racing for an invitation's last slots,
// each through its own connection (replicas), get exactly as many slots
// as it has; the rest are refused.
func TestInvitationRace(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, open func() Store) {
		ctx := context.Background()
		const browsers, racers = 3, 12
		stores := make([]Store, racers)
		for i := range stores {
			stores[i] = open()
		}
		stores[0].CreateInvitation(ctx, invitation("race", "standup", "ada", browsers, time.Now()))
		for round := range 5 {
			hash := "hash-race"
			if round > 0 {
				id := fmt.Sprint("race-", round)
				stores[0].CreateInvitation(ctx, invitation(id, "standup", "ada", browsers, time.Now()))
				hash = "hash-" + id
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			won, refused := 0, 0
			start := make(chan struct{})
			for i, st := range stores {
				wg.Go(func() {
					<-start
					_, err := st.RedeemInvitation(ctx, hash, fmt.Sprint("browser-", i), time.Now())
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						won++
					case errors.Is(err, ErrNoBrowserLeft):
						refused++
					default:
						t.Errorf("racer %d: %v", i, err)
					}
				})
			}
			close(start)
			wg.Wait()
			if won != browsers || refused != racers-browsers {
				t.Errorf("round %d: %d won, %d refused; want %d and %d", round, won, refused, browsers, racers-browsers)
			}
			if inv, _ := stores[1].Invitation(ctx, hash); len(inv.Used) != browsers {
				t.Errorf("round %d: the store holds %d browsers; want %d", round, len(inv.Used), browsers)
			}
		}
	})
}
