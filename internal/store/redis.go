package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis keys and the channel, all under one prefix.
const (
	revocationPrefix = "roomgate:revocation:"
	usedPrefix       = "roomgate:logout-token:"
	channel          = "roomgate:revocations"
)

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

// Ping reports whether Redis answers.
func (s *Redis) Ping(ctx context.Context) error { return s.client.Ping(ctx).Err() }

// Shared implements Store.
func (s *Redis) Shared() bool { return true }

// Close implements Store.
func (s *Redis) Close() error { return s.client.Close() }

var _ Store = (*Redis)(nil)
