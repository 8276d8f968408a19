package store

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomgate/roomgate/internal/redistest"
)

// eachStore runs test against every store, the way database/sql drivers
// share a suite. open returns another handle on the same store each time
// it is called, as a second process would hold: for SQLite a new
// connection to the same file, for Redis a new client.
func eachStore(t *testing.T, test func(t *testing.T, open func() Store)) {
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		m := NewMemory()
		test(t, func() Store { return m })
	})
	eachDurableStore(t, test)
}

// eachDurableStore is eachStore for the stores that outlive a process:
// SQLite and Redis.
func eachDurableStore(t *testing.T, test func(t *testing.T, open func() Store)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "roomgate.db")
		test(t, func() Store {
			s, err := OpenSQLite(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		srv := redistest.Start(t)
		test(t, func() Store {
			s, err := OpenRedis(srv.URL())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
}

func TestRevokeLoadWatch(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, open func() Store) {
		ctx := context.Background()
		a, b := open(), open()
		seen := make(chan Revocation, 4)
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go b.Watch(wctx, func(r Revocation) { seen <- r })
		time.Sleep(100 * time.Millisecond) // the subscription is up
		now := time.Now().Truncate(time.Second)
		rev := Revocation{Kind: KindUser, Value: "ada", At: now, Expires: now.Add(time.Hour)}
		if err := a.Revoke(ctx, rev); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-seen:
			if got.Value != "ada" || !got.At.Equal(now) {
				t.Errorf("watched %+v; want %+v", got, rev)
			}
		case <-time.After(time.Second):
			t.Fatal("the revocation did not reach the watcher within a second")
		}
		expired := Revocation{Kind: KindSession, Value: "s1", At: now.Add(-2 * time.Hour), Expires: now.Add(-time.Hour)}
		a.Revoke(ctx, expired)
		var got []Revocation
		err := b.Load(ctx, func(page []Revocation) { got = append(got, page...) })
		if err != nil || len(got) != 1 || got[0].Value != "ada" {
			t.Errorf("Load: %+v %v; want ada alone (the expired one gone)", got, err)
		}
		first, err1 := a.UseOnce(ctx, "jti-1", time.Minute)
		again, err2 := b.UseOnce(ctx, "jti-1", time.Minute)
		if !first || again || err1 != nil || err2 != nil {
			t.Errorf("UseOnce: first %v, again %v (%v %v); want true then false", first, again, err1, err2)
		}
	})
}

// TestRevocationsView: the in-memory view answers from memory, catches up
// on a reload, and keeps local revocations through a reload.
func TestRevocationsView(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, open func() Store) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		st := open()
		now := time.Now()
		st.Revoke(ctx, Revocation{Kind: KindSubject, Value: "sub-1", At: now, Expires: now.Add(time.Hour)})
		v := NewRevocations(open(), nil, nil)
		go v.Run(ctx)
		deadline := time.Now().Add(3 * time.Second)
		for !(v.Ready() && v.Revoked("", "sub-1", "", now.Add(-time.Minute))) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if !v.Ready() || !v.Revoked("", "sub-1", "", now.Add(-time.Minute)) {
			t.Fatalf("after start: ready %v; the revocation made before start not applied", v.Ready())
		}
		if v.Revoked("", "sub-1", "", now.Add(time.Second)) {
			t.Errorf("a session that signed in after the revocation is revoked")
		}
		time.Sleep(100 * time.Millisecond)
		st.Revoke(ctx, Revocation{Kind: KindUser, Value: "ben", At: time.Now(), Expires: time.Now().Add(time.Hour)})
		deadline = time.Now().Add(time.Second)
		for !v.Revoked("ben", "", "", now) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if !v.Revoked("ben", "", "", now) {
			t.Errorf("a revocation did not reach the view within a second")
		}
		v.AddLocal(Revocation{Kind: KindSession, Value: "only-here", At: time.Now(), Expires: time.Now().Add(time.Hour)})
		v.reload(ctx)
		if !v.Revoked("", "", "only-here", now) {
			t.Errorf("a local revocation was lost in a reload")
		}
	})
}

// TestRedisPasswordNeverShown: a Redis URL with a password works, and an
// unusable one is refused without repeating it.
func TestRedisPasswordNeverShown(t *testing.T) {
	t.Parallel()
	srv := redistest.StartWithPassword(t, "s3cret-redis-password")
	s, err := OpenRedis(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("with the password: %v", err)
	}
	if _, err := OpenRedis("mysql://:s3cret-redis-password@host"); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("a bad URL: %v; want an error without the password", err)
	}
	wrong, _ := OpenRedis(strings.Replace(srv.URL(), "s3cret", "wrong", 1))
	defer wrong.Close()
	if err := wrong.Ping(context.Background()); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("a wrong password: %v", err)
	}
}

// TestLoadPagesThroughALargeStore: a store of many revocations is read a
// page at a time, every one of them arrives, and the view holds each once.
func TestLoadPagesThroughALargeStore(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	st, err := OpenRedis(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	const n = 5 * loadPage
	fillRedis(t, st, n, time.Now())
	pages, total := 0, 0
	if err := st.Load(ctx, func(page []Revocation) {
		pages++
		total += len(page)
		if len(page) > 2*loadPage {
			t.Errorf("a page of %d revocations; want about %d", len(page), loadPage)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if total != n || pages < 3 {
		t.Errorf("%d revocations in %d pages; want %d in several", total, pages, n)
	}
	v := NewRevocations(st, nil, nil)
	if err := v.reload(ctx); err != nil {
		t.Fatal(err)
	}
	if v.Len() != n || !v.Revoked("user-4999", "", "", time.Now().Add(-time.Hour)) {
		t.Errorf("the view holds %d; want %d, user-4999 among them", v.Len(), n)
	}
}

// TestAddCopiesNothing: taking one revocation in does not rebuild the
// view, so a large one stays cheap to add to (the map stays the same one).
func TestAddCopiesNothing(t *testing.T) {
	t.Parallel()
	v := NewRevocations(NewMemory(), nil, nil)
	now := time.Now()
	for i := range 1000 {
		v.Add(Revocation{Kind: KindUser, Value: fmt.Sprint("u", i), At: now, Expires: now.Add(time.Hour)})
	}
	before := reflect.ValueOf(v.entries).UnsafePointer()
	v.Add(Revocation{Kind: KindUser, Value: "one more", At: now, Expires: now.Add(time.Hour)})
	if reflect.ValueOf(v.entries).UnsafePointer() != before {
		t.Error("adding one revocation made a new map of them all")
	}
	if !v.Revoked("one more", "", "", now) || !v.Revoked("u7", "", "", now) {
		t.Error("revocations missing after the add")
	}
	expired := Revocation{Kind: KindUser, Value: "old", At: now.Add(-2 * time.Hour), Expires: now.Add(-time.Hour)}
	v.Add(expired)
	if v.Revoked("old", "", "", now.Add(-3*time.Hour)) {
		t.Error("an expired revocation applies")
	}
}

// fillRedis writes n live revocations (user-0 ...) to st's Redis, many to
// a round trip.
func fillRedis(t testing.TB, st *Redis, n int, now time.Time) {
	t.Helper()
	ctx := context.Background()
	for start := 0; start < n; start += 10_000 {
		pipe := st.client.Pipeline()
		for i := start; i < min(n, start+10_000); i++ {
			r := Revocation{Kind: KindUser, Value: fmt.Sprint("user-", i), At: now, Expires: now.Add(8 * time.Hour)}
			b, _ := json.Marshal(r)
			pipe.Set(ctx, revocationPrefix+string(r.Kind)+":"+r.Value, b, 8*time.Hour)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkStartWithAMillionRevocations: a replica's first load of a
// million live revocations from Redis, the most back-channel logouts can
// pile up over a session's lifetime in a large company. It reports the
// load's time and the heap the view holds.
//
//	go test -run '^$' -bench StartWithAMillion -benchtime 1x ./internal/store
func BenchmarkStartWithAMillionRevocations(b *testing.B) {
	srv := redistest.Start(b)
	st, err := OpenRedis(srv.URL())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	fillRedis(b, st, 1_000_000, time.Now())
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		v := NewRevocations(st, nil, nil)
		start := time.Now()
		if err := v.reload(context.Background()); err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&after)
		if v.Len() != 1_000_000 {
			b.Fatalf("%d loaded", v.Len())
		}
		b.ReportMetric(took.Seconds(), "s/load")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB-held")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "B/revocation")
		runtime.KeepAlive(v)
	}
}

// TestRestart: what a durable store took is there for the next process,
// revocations and used logout-token ids alike.
func TestRestart(t *testing.T) {
	t.Parallel()
	eachDurableStore(t, func(t *testing.T, open func() Store) {
		ctx := context.Background()
		before := open()
		now := time.Now()
		before.Revoke(ctx, Revocation{Kind: KindUser, Value: "ada", At: now, Expires: now.Add(time.Hour)})
		before.UseOnce(ctx, "jti-restart", time.Hour)
		before.Close()
		after := open()
		var got []Revocation
		if err := after.Load(ctx, func(page []Revocation) { got = append(got, page...) }); err != nil || len(got) != 1 || got[0].Value != "ada" {
			t.Errorf("after a restart: %+v %v; want ada's revocation", got, err)
		}
		if fresh, err := after.UseOnce(ctx, "jti-restart", time.Hour); fresh || err != nil {
			t.Errorf("after a restart, a used logout token is new again (%v)", err)
		}
	})
}

// TestExpiry: a revocation and a used id are forgotten when they expire,
// and an expired id can be used again.
func TestExpiry(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, open func() Store) {
		ctx := context.Background()
		st := open()
		now := time.Now()
		st.Revoke(ctx, Revocation{Kind: KindUser, Value: "short", At: now, Expires: now.Add(time.Second)})
		st.Revoke(ctx, Revocation{Kind: KindUser, Value: "long", At: now, Expires: now.Add(time.Hour)})
		st.UseOnce(ctx, "jti-short", time.Second)
		time.Sleep(1500 * time.Millisecond)
		var got []string
		st.Load(ctx, func(page []Revocation) {
			for _, r := range page {
				got = append(got, r.Value)
			}
		})
		if len(got) != 1 || got[0] != "long" {
			t.Errorf("after expiry, Load: %v; want [long]", got)
		}
		if fresh, err := st.UseOnce(ctx, "jti-short", time.Second); !fresh || err != nil {
			t.Errorf("an expired logout-token id is still taken (%v)", err)
		}
	})
}

// TestAnotherProcess: a second process writes while this one watches,
// and is then killed (SIGKILL): every revocation it was told is taken
// reached the watcher, and is in the store, for this process and for the
// next one.
func TestAnotherProcess(t *testing.T) {
	t.Parallel()
	eachDurableStore(t, func(t *testing.T, open func() Store) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		st := open()
		var mu sync.Mutex
		watched := map[string]bool{}
		go st.Watch(ctx, func(r Revocation) {
			mu.Lock()
			watched[r.Value] = true
			mu.Unlock()
		})
		time.Sleep(300 * time.Millisecond) // the watch is up
		var target string
		switch s := st.(type) {
		case *SQLite:
			target = "sqlite:" + s.path
		case *Redis:
			target = "redis:" + s.url
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
		cmd.Env = append(os.Environ(), "ROOMGATE_STORE_HELPER="+target)
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || line != "revoked\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the helper said %q (%v)", line, err)
		}
		cmd.Process.Kill() // SIGKILL: no Close, no clean exit
		cmd.Wait()
		deadline := time.Now().Add(time.Second)
		for {
			mu.Lock()
			n := len(watched)
			mu.Unlock()
			if n == helperRevocations {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d revocations reached the watcher within a second", n, helperRevocations)
			}
			time.Sleep(10 * time.Millisecond)
		}
		for _, s := range []Store{st, open()} {
			n := 0
			if err := s.Load(ctx, func(page []Revocation) { n += len(page) }); err != nil || n != helperRevocations {
				t.Errorf("after the writer was killed: %d revocations (%v); want %d", n, err, helperRevocations)
			}
		}
	})
}

// helperRevocations is how many revocations TestHelperProcess makes.
const helperRevocations = 50

// TestHelperProcess is the second process of TestAnotherProcess: it
// revokes, says so, and waits to be killed.
func TestHelperProcess(t *testing.T) {
	target := os.Getenv("ROOMGATE_STORE_HELPER")
	if target == "" {
		return // run by go test itself: nothing to do
	}
	var st Store
	var err error
	switch kind, where, _ := strings.Cut(target, ":"); kind {
	case "sqlite":
		st, err = OpenSQLite(where)
	case "redis":
		st, err = OpenRedis(where)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	now := time.Now()
	for i := range helperRevocations {
		if err := st.Revoke(context.Background(), Revocation{Kind: KindUser, Value: fmt.Sprint("gone-", i), At: now, Expires: now.Add(time.Hour)}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	fmt.Println("revoked")
	time.Sleep(time.Minute)
	os.Exit(1)
}

// BenchmarkRevokeToRefusal measures how long a revocation takes to reach
// another gateway's view, which is what a room entry asks: 100
// revocations, p50 and p99. SQLite: the writer is a second handle on the
// file, as roomgate revoke beside serve is. Redis: the writer is one
// replica's store, the view another replica's. Each comes at a random
// moment, as revocations do, not in step with SQLite's polling.
//
//	go test -run '^$' -bench RevokeToRefusal -benchtime 1x ./internal/store
func BenchmarkRevokeToRefusal(b *testing.B) {
	stores := map[string]func() (writer, reader Store){
		"sqlite": func() (Store, Store) {
			path := filepath.Join(b.TempDir(), "roomgate.db")
			w, err := OpenSQLite(path)
			if err != nil {
				b.Fatal(err)
			}
			r, err := OpenSQLite(path)
			if err != nil {
				b.Fatal(err)
			}
			return w, r
		},
		"redis": func() (Store, Store) {
			srv := redistest.Start(b)
			w, _ := OpenRedis(srv.URL())
			r, _ := OpenRedis(srv.URL())
			return w, r
		},
	}
	for _, name := range []string{"sqlite", "redis"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				w, r := stores[name]()
				ctx, cancel := context.WithCancel(context.Background())
				view := NewRevocations(r, nil, nil)
				go view.Run(ctx)
				for !view.Ready() {
					time.Sleep(time.Millisecond)
				}
				time.Sleep(100 * time.Millisecond) // the watch is up
				took := make([]time.Duration, 100)
				for i := range took {
					// At a random moment, as revocations come.
					time.Sleep(rand.N(250 * time.Millisecond))
					signedIn := time.Now().Add(-time.Minute)
					start := time.Now()
					if err := w.Revoke(ctx, Revocation{Kind: KindUser, Value: fmt.Sprint("u", i), At: start, Expires: start.Add(time.Hour)}); err != nil {
						b.Fatal(err)
					}
					for !view.Revoked(fmt.Sprint("u", i), "", "", signedIn) {
						if time.Since(start) > 5*time.Second {
							b.Fatalf("revocation %d not seen in 5 s", i)
						}
						time.Sleep(time.Millisecond)
					}
					took[i] = time.Since(start)
				}
				cancel()
				w.Close()
				r.Close()
				slices.Sort(took)
				b.ReportMetric(float64(took[49].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(took[98].Microseconds())/1000, "p99-ms")
			}
		})
	}
}
