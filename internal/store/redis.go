package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis keys and the channel, all under one prefix.
const (
	revocationPrefix   = "roomgate:revocation:"
	usedPrefix         = "roomgate:logout-token:"
	channel            = "roomgate:revocations"
	invitationPrefix   = "roomgate:invitation:"    // + hash: the Invitation, JSON, expiring with it
	invitationIDPrefix = "roomgate:invitation-id:" // + id: its hash, expiring with it
	roomInvitations    = "roomgate:invitations:"   // + room path: a set of hashes
	decisionPrefix     = "roomgate:decision:"      // + request id: a list of Decisions, JSON, expiring after keep
	decisionsByTime    = "roomgate:decisions"      // a sorted set of request ids, by unix milliseconds
)

// maxDecisionScan bounds a search through Redis by anything but a request
// id: the newest this many decisions are looked at.
const maxDecisionScan = 20_000

// txRetries is how often an optimistic transaction (WATCH) is tried
// before it gives up: only a crowd on one invitation makes it retry.
const txRetries = 50

// Redis is a Store in Redis or Valkey, shared by every replica. Each
// revocation is a key that expires when it no longer matters, and a
// message on a channel every replica subscribes to.
type Redis struct {
	client *redis.Client
	url    string // may hold a password: never shown
}

// quiet keeps go-redis's own log lines (dial errors, once per retry) out
// of roomgate's output; Revocations says when the store goes and comes.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

var quietOnce sync.Once

// OpenRedis connects to the Redis at url (redis://, rediss:// for TLS;
// a password in the URL is used and never shown).
func OpenRedis(url string) (*Redis, error) {
	quietOnce.Do(func() { redis.SetLogger(quiet{}) })
	opts, err := redis.ParseURL(url)
	if err != nil {
		// The parser's message may quote the URL, password and all.
		return nil, fmt.Errorf("store: store.redis.url is not a Redis URL (redis://[:password@]host:port/db, or rediss:// for TLS)")
	}
	opts.DialTimeout = 2 * time.Second
	opts.ReadTimeout = 2 * time.Second
	opts.WriteTimeout = 2 * time.Second
	opts.MaxRetries = 1
	return &Redis{client: redis.NewClient(opts), url: url}, nil
}

// Revoke implements Store.
func (s *Redis) Revoke(ctx context.Context, r Revocation) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	ttl := time.Until(r.Expires)
	if ttl <= 0 {
		return nil
	}
	pipe := s.client.TxPipeline()
	pipe.Set(ctx, revocationPrefix+string(r.Kind)+":"+r.Value, b, ttl)
	pipe.Publish(ctx, channel, b)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("store: revoke: %w", err)
	}
	return nil
}

// loadPage is how many keys Load asks SCAN for, and then reads with one
// MGET.
const loadPage = 1000

// Load implements Store. It reads a page of keys at a time, so a store of
// a million revocations never sits in memory twice, and no single call
// takes long.
func (s *Redis) Load(ctx context.Context, page func([]Revocation)) error {
	var cursor uint64
	revs := make([]Revocation, 0, loadPage)
	for {
		keys, next, err := s.client.Scan(ctx, cursor, revocationPrefix+"*", loadPage).Result()
		if err != nil {
			return fmt.Errorf("store: load: %w", err)
		}
		if len(keys) > 0 {
			vals, err := s.client.MGet(ctx, keys...).Result()
			if err != nil {
				return fmt.Errorf("store: load: %w", err)
			}
			revs = revs[:0]
			for _, v := range vals {
				str, ok := v.(string)
				if !ok {
					continue // expired between SCAN and MGET
				}
				var r Revocation
				if json.Unmarshal([]byte(str), &r) == nil {
					revs = append(revs, r)
				}
			}
			page(revs)
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}

// Watch implements Store.
func (s *Redis) Watch(ctx context.Context, seen func(Revocation)) error {
	sub := s.client.Subscribe(ctx, channel)
	defer sub.Close()
	// Wait for the subscription, so that what is revoked after Watch
	// starts is not missed.
	if _, err := sub.Receive(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("store: subscribe: %w", err)
	}
	for {
		msg, err := sub.ReceiveMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("store: watch: %w", err)
		}
		var r Revocation
		if json.Unmarshal([]byte(msg.Payload), &r) == nil {
			seen(r)
		}
	}
}

// UseOnce implements Store.
func (s *Redis) UseOnce(ctx context.Context, id string, ttl time.Duration) (bool, error) {
	ok, err := s.client.SetNX(ctx, usedPrefix+id, 1, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	return ok, nil
}

// CreateInvitation implements Store. The room's set of invitations is
// watched, so two creations by one person at once cannot both pass the
// limit.
func (s *Redis) CreateInvitation(ctx context.Context, inv Invitation) error {
	data, err := json.Marshal(inv)
	if err != nil {
		return err
	}
	ttl := time.Until(inv.Expires)
	if ttl <= 0 {
		return fmt.Errorf("store: invitation: already expired")
	}
	set := roomInvitations + inv.Room
	err = s.retry(ctx, func(tx *redis.Tx) error {
		if inv.Inviter.UserID != "" {
			open, err := s.invitationsOf(ctx, tx, set)
			if err != nil {
				return err
			}
			if openFor(open, inv.Inviter.UserID, time.Now()) >= MaxOpenInvitations {
				return ErrTooManyInvitations
			}
		}
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, invitationPrefix+inv.Hash, data, ttl)
			p.Set(ctx, invitationIDPrefix+inv.ID, inv.Hash, ttl)
			p.SAdd(ctx, set, inv.Hash)
			return nil
		})
		return err
	}, set)
	if err != nil && !errors.Is(err, ErrTooManyInvitations) {
		return fmt.Errorf("store: invitation: %w", err)
	}
	return err
}

// retry runs f in a transaction that watches keys, again while another
// client changed them first.
func (s *Redis) retry(ctx context.Context, f func(*redis.Tx) error, keys ...string) error {
	for range txRetries {
		err := s.client.Watch(ctx, f, keys...)
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
	}
	return fmt.Errorf("store: %d clients at once changed %s", txRetries, keys)
}

// invitationsOf reads the live invitations in a room's set, and drops
// from the set the ones that have expired.
func (s *Redis) invitationsOf(ctx context.Context, c redis.Cmdable, set string) ([]Invitation, error) {
	hashes, err := c.SMembers(ctx, set).Result()
	if err != nil || len(hashes) == 0 {
		return nil, err
	}
	keys := make([]string, len(hashes))
	for i, h := range hashes {
		keys[i] = invitationPrefix + h
	}
	vals, err := c.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, err
	}
	var out []Invitation
	var gone []any
	for i, v := range vals {
		str, ok := v.(string)
		var inv Invitation
		if !ok || json.Unmarshal([]byte(str), &inv) != nil {
			gone = append(gone, hashes[i])
			continue
		}
		out = append(out, inv)
	}
	if len(gone) > 0 {
		s.client.SRem(ctx, set, gone...)
	}
	slices.SortFunc(out, func(a, b Invitation) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// Invitation implements Store.
func (s *Redis) Invitation(ctx context.Context, hash string) (Invitation, error) {
	return s.getInvitation(ctx, s.client, hash)
}

func (s *Redis) getInvitation(ctx context.Context, c redis.Cmdable, hash string) (Invitation, error) {
	data, err := c.Get(ctx, invitationPrefix+hash).Result()
	if errors.Is(err, redis.Nil) {
		return Invitation{}, ErrNoInvitation
	}
	if err != nil {
		return Invitation{}, fmt.Errorf("store: invitation: %w", err)
	}
	var inv Invitation
	return inv, json.Unmarshal([]byte(data), &inv)
}

// RedeemInvitation implements Store: the invitation's key is watched, so
// of two browsers racing for its last slot exactly one writes.
func (s *Redis) RedeemInvitation(ctx context.Context, hash, browser string, now time.Time) (Invitation, error) {
	return s.changeInvitation(ctx, hash, func(inv *Invitation) error { return inv.admit(browser, now) })
}

// RevokeInvitation implements Store.
func (s *Redis) RevokeInvitation(ctx context.Context, id, by string, now time.Time) (Invitation, error) {
	hash, err := s.client.Get(ctx, invitationIDPrefix+id).Result()
	if errors.Is(err, redis.Nil) {
		return Invitation{}, ErrNoInvitation
	}
	if err != nil {
		return Invitation{}, fmt.Errorf("store: invitation: %w", err)
	}
	return s.changeInvitation(ctx, hash, func(inv *Invitation) error {
		inv.revoke(by, now)
		return nil
	})
}

// changeInvitation applies change to the invitation of hash in an
// optimistic transaction, and writes it back unless change fails.
func (s *Redis) changeInvitation(ctx context.Context, hash string, change func(*Invitation) error) (Invitation, error) {
	key := invitationPrefix + hash
	var inv Invitation
	var refused error
	err := s.retry(ctx, func(tx *redis.Tx) error {
		var err error
		if inv, err = s.getInvitation(ctx, tx, hash); err != nil {
			return err
		}
		if refused = change(&inv); refused != nil {
			return nil
		}
		data, err := json.Marshal(inv)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.SetArgs(ctx, key, data, redis.SetArgs{KeepTTL: true})
			return nil
		})
		return err
	}, key)
	if err != nil {
		if errors.Is(err, ErrNoInvitation) {
			return Invitation{}, err
		}
		return Invitation{}, fmt.Errorf("store: invitation: %w", err)
	}
	return inv, refused
}

// Invitations implements Store.
func (s *Redis) Invitations(ctx context.Context, room string) ([]Invitation, error) {
	var sets []string
	if room != "" {
		sets = []string{roomInvitations + room}
	} else {
		var cursor uint64
		for {
			keys, next, err := s.client.Scan(ctx, cursor, roomInvitations+"*", loadPage).Result()
			if err != nil {
				return nil, fmt.Errorf("store: invitations: %w", err)
			}
			sets = append(sets, keys...)
			if cursor = next; cursor == 0 {
				break
			}
		}
	}
	var out []Invitation
	for _, set := range sets {
		invs, err := s.invitationsOf(ctx, s.client, set)
		if err != nil {
			return nil, fmt.Errorf("store: invitations: %w", err)
		}
		out = append(out, invs...)
	}
	slices.SortFunc(out, func(a, b Invitation) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// AddDecisions implements Store: each decision under its request id,
// expiring after keep, and in a sorted set by time, trimmed to keep.
func (s *Redis) AddDecisions(ctx context.Context, ds []Decision, keep time.Duration) error {
	if keep <= 0 {
		return nil
	}
	pipe := s.client.Pipeline()
	for i := range ds {
		data, err := json.Marshal(ds[i])
		if err != nil {
			return err
		}
		key := decisionPrefix + ds[i].RequestID
		pipe.RPush(ctx, key, data)
		pipe.Expire(ctx, key, keep)
		pipe.ZAdd(ctx, decisionsByTime, redis.Z{Score: float64(ds[i].At.UnixMilli()), Member: ds[i].RequestID})
	}
	pipe.ZRemRangeByScore(ctx, decisionsByTime, "-inf", fmt.Sprint(time.Now().Add(-keep).UnixMilli()))
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("store: decisions: %w", err)
	}
	return nil
}

// Decisions implements Store. A request id is one lookup; anything else
// looks through the newest maxDecisionScan decisions.
func (s *Redis) Decisions(ctx context.Context, q DecisionQuery) ([]Decision, error) {
	var out []Decision
	read := func(ids []string) error {
		pipe := s.client.Pipeline()
		cmds := make([]*redis.StringSliceCmd, len(ids))
		for i, id := range ids {
			cmds[i] = pipe.LRange(ctx, decisionPrefix+id, 0, -1)
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		for _, c := range cmds {
			for _, data := range c.Val() {
				var d Decision
				if json.Unmarshal([]byte(data), &d) == nil && q.matches(&d) {
					out = append(out, d)
				}
			}
		}
		return nil
	}
	if err := read([]string{q.Text}); err != nil {
		return nil, fmt.Errorf("store: decisions: %w", err)
	}
	if len(out) == 0 {
		max := "+inf"
		if !q.Until.IsZero() {
			max = fmt.Sprint(q.Until.UnixMilli())
		}
		min := "-inf"
		if !q.Since.IsZero() {
			min = fmt.Sprint(q.Since.UnixMilli())
		}
		for offset := int64(0); offset < maxDecisionScan && len(out) < q.limit(); offset += loadPage {
			ids, err := s.client.ZRevRangeByScore(ctx, decisionsByTime, &redis.ZRangeBy{Max: max, Min: min, Offset: offset, Count: loadPage}).Result()
			if err != nil {
				return nil, fmt.Errorf("store: decisions: %w", err)
			}
			if err := read(ids); err != nil {
				return nil, fmt.Errorf("store: decisions: %w", err)
			}
			if len(ids) < loadPage {
				break
			}
		}
	}
	newestFirst(out)
	if len(out) > q.limit() {
		out = out[:q.limit()]
	}
	return out, nil
}

// Ping reports whether Redis answers.
func (s *Redis) Ping(ctx context.Context) error { return s.client.Ping(ctx).Err() }

// Shared implements Store.
func (s *Redis) Shared() bool { return true }

// Close implements Store.
func (s *Redis) Close() error { return s.client.Close() }

var _ Store = (*Redis)(nil)
