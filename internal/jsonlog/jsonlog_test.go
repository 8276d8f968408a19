package jsonlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// both handles r with a Handler and with slog's JSON handler, after the
// same WithAttrs and WithGroup calls, and returns the two outputs.
func both(t testing.TB, r slog.Record, with func(slog.Handler) slog.Handler) (ours, theirs string) {
	t.Helper()
	var a, b bytes.Buffer
	var h slog.Handler = NewHandler(&a, slog.LevelDebug)
	var s slog.Handler = slog.NewJSONHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})
	if with != nil {
		h, s = with(h), with(s)
	}
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	s.Handle(context.Background(), r)
	return a.String(), b.String()
}

func record(t time.Time, level slog.Level, msg string, attrs ...slog.Attr) slog.Record {
	r := slog.NewRecord(t, level, msg, 0)
	r.AddAttrs(attrs...)
	return r
}

// TestHandlerWritesWhatSlogWrites: every record, hostile strings and all,
// comes out byte for byte as slog.NewJSONHandler writes it.
func TestHandlerWritesWhatSlogWrites(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 1, 9, 30, 0, 123456789, time.FixedZone("CET", 3600))
	hostile := "quote\" back\\slash\nnew\rret\ttab\x00nul\x1funit\x7fdel <b>&amp; é 漢 \u2028\u2029 bad\xff\xfe utf8 \xe2\x80"
	tests := []struct {
		name string
		r    slog.Record
		with func(slog.Handler) slog.Handler
	}{
		{name: "audit line", r: record(at, slog.LevelInfo, "decision",
			slog.Bool("audit", true), slog.String("request_id", "0992e043ec22a38b"), slog.String("email", "ada@example.com"),
			slog.String("reason", `rules[0] (config.yaml:14) admits group "eng-leads" as moderator`), slog.String("jti", "VNfgElOc0ntdrIBq8M6suw"))},
		{name: "hostile strings", r: record(at, slog.LevelWarn, hostile, slog.String(hostile, hostile))},
		{name: "numbers", r: record(at, slog.LevelError, "n", slog.Int("int", -42), slog.Int64("min", -1<<63), slog.Uint64("max", 1<<64-1),
			slog.Bool("no", false), slog.Duration("took", 1500*time.Millisecond))},
		{name: "no time", r: record(time.Time{}, slog.LevelDebug, "debug")},
		{name: "odd level", r: record(at, slog.LevelInfo+2, "info plus two")},
		{name: "no attributes", r: record(at, slog.LevelInfo, "")},
		{name: "float", r: record(at, slog.LevelInfo, "request", slog.Float64("duration_ms", 0.125), slog.Float64("big", 1e21))},
		{name: "time and any", r: record(at, slog.LevelInfo, "m", slog.Time("at", at), slog.Any("err", errors.New("boom")), slog.Any("list", []string{"a"}))},
		{name: "group", r: record(at, slog.LevelInfo, "m", slog.Group("g", slog.String("k", "v")), slog.String("after", "x"))},
		{name: "empty key", r: record(at, slog.LevelInfo, "m", slog.String("", "v"), slog.Attr{})},
		{name: "year 10000", r: record(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), slog.LevelInfo, "m")},
		{name: "with attrs", r: record(at, slog.LevelInfo, "m", slog.String("k", "v")),
			with: func(h slog.Handler) slog.Handler { return h.WithAttrs([]slog.Attr{slog.String("component", "reload")}) }},
		{name: "with group", r: record(at, slog.LevelInfo, "m", slog.String("k", "v")),
			with: func(h slog.Handler) slog.Handler {
				return h.WithGroup("store").WithAttrs([]slog.Attr{slog.Int("n", 1)})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ours, theirs := both(t, tt.r, tt.with)
			if ours != theirs {
				t.Errorf("got  %q\nslog %q", ours, theirs)
			}
			if strings.Count(ours, "\n") != 1 || !strings.HasSuffix(ours, "\n") {
				t.Errorf("not one line: %q", ours)
			}
		})
	}
}

func TestHandlerLevel(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	h := NewHandler(&buf, slog.LevelWarn)
	if h.Enabled(context.Background(), slog.LevelInfo) || !h.Enabled(context.Background(), slog.LevelWarn) {
		t.Error("a handler at warn must drop info and keep warn")
	}
	if NewHandler(&buf, nil).Enabled(context.Background(), slog.LevelDebug) {
		t.Error("the default level must be info")
	}
}

// FuzzHandler: whatever the strings and numbers, the line is slog's.
func FuzzHandler(f *testing.F) {
	f.Add("msg", "key", "value", int64(-7), true)
	f.Add("\u2028", "\x00", "\xff\"\\\n", int64(1<<62), false)
	f.Fuzz(func(t *testing.T, msg, key, value string, n int64, b bool) {
		r := record(time.Unix(1796147435, 999), slog.LevelInfo, msg,
			slog.String(key, value), slog.Int64("n", n), slog.Bool("b", b), slog.String("v", value+key))
		if ours, theirs := both(t, r, nil); ours != theirs {
			t.Errorf("got  %q\nslog %q", ours, theirs)
		}
	})
}

// recorder is a slow io.Writer that keeps every write apart.
type recorder struct {
	mu     sync.Mutex
	writes []string
	delay  time.Duration
	fail   error
}

func (r *recorder) Write(p []byte) (int, error) {
	time.Sleep(r.delay)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return 0, r.fail
	}
	r.writes = append(r.writes, string(p))
	return len(p), nil
}

func (r *recorder) holds(line string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range r.writes {
		if strings.Contains(w, line) {
			return true
		}
	}
	return false
}

// TestGroupWriterWritesEveryLineOnceBeforeReturning: lines of concurrent
// Writes share underlying writes, none is split, lost or repeated, and a
// Write returns only once its line has been written.
func TestGroupWriterWritesEveryLineOnceBeforeReturning(t *testing.T) {
	t.Parallel()
	rec := &recorder{delay: time.Millisecond}
	g := NewGroupWriter(rec)
	const writers, each = 64, 20
	var wg sync.WaitGroup
	var late sync.Map
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				line := fmt.Sprintf("{\"w\":%d,\"i\":%d}\n", w, i)
				if n, err := g.Write([]byte(line)); n != len(line) || err != nil {
					t.Errorf("Write: %d, %v", n, err)
				}
				if !rec.holds(line) {
					late.Store(line, true)
				}
			}
		}()
	}
	wg.Wait()
	late.Range(func(k, _ any) bool { t.Errorf("Write returned before %q was written", k); return true })
	seen := map[string]int{}
	for _, w := range rec.writes {
		if !strings.HasSuffix(w, "\n") {
			t.Errorf("a write ends inside a line: %q", w)
		}
		for _, line := range strings.SplitAfter(w, "\n") {
			if line != "" {
				seen[line]++
			}
		}
	}
	for w := range writers {
		for i := range each {
			if line := fmt.Sprintf("{\"w\":%d,\"i\":%d}\n", w, i); seen[line] != 1 {
				t.Errorf("%q written %d times; want once", line, seen[line])
			}
		}
	}
	if lines := writers * each; len(rec.writes) > lines/2 {
		t.Errorf("%d lines took %d writes; want them grouped, at most %d", lines, len(rec.writes), lines/2)
	}
	t.Logf("%d lines in %d writes", writers*each, len(rec.writes))
}

// TestGroupWriterReportsErrors: a failed write fails every Write of its
// group, and the next group writes again.
func TestGroupWriterReportsErrors(t *testing.T) {
	t.Parallel()
	rec := &recorder{fail: errors.New("disk full")}
	g := NewGroupWriter(rec)
	if n, err := g.Write([]byte("lost\n")); n != 0 || err == nil {
		t.Errorf("Write to a failing writer: %d, %v; want 0 and the error", n, err)
	}
	rec.mu.Lock()
	rec.fail = nil
	rec.mu.Unlock()
	if n, err := g.Write([]byte("kept\n")); n != 5 || err != nil || !rec.holds("kept\n") || rec.holds("lost") {
		t.Errorf("Write after the failure: %d, %v, writes %q; want only the new line written", n, err, rec.writes)
	}
}

// auditRecord is the hot path's audit line.
func auditRecord() slog.Record {
	return record(time.Now(), slog.LevelInfo, "decision",
		slog.Bool("audit", true),
		slog.String("request_id", "0992e043ec22a38b"),
		slog.String("client_ip", "127.0.0.1"),
		slog.String("user_id", "ada"),
		slog.String("email", "ada@example.com"),
		slog.String("room_path", "standup"),
		slog.String("room", "daily-standup"),
		slog.String("outcome", "allow"),
		slog.String("role", "moderator"),
		slog.String("rule", "config.yaml:14"),
		slog.String("reason", `rules[0] (config.yaml:14) admits group "eng-leads" as moderator`),
		slog.String("jti", "VNfgElOc0ntdrIBq8M6suw"),
	)
}

// BenchmarkAuditLine encodes the audit line with Handler and with slog's
// JSON handler, into io.Discard.
//
//	go test -run '^$' -bench AuditLine -benchmem ./internal/jsonlog
func BenchmarkAuditLine(b *testing.B) {
	r := auditRecord()
	for _, h := range []struct {
		name string
		h    slog.Handler
	}{
		{"jsonlog", NewHandler(io.Discard, nil)},
		{"slog", slog.NewJSONHandler(io.Discard, nil)},
	} {
		b.Run(h.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.h.Handle(context.Background(), r)
			}
		})
	}
}

// BenchmarkGroupWriter writes the audit line's length from concurrent
// goroutines to a file, as serve's log does under load.
//
//	go test -run '^$' -bench GroupWriter -benchmem ./internal/jsonlog
func BenchmarkGroupWriter(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "log"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	g := NewGroupWriter(f)
	line := []byte(strings.Repeat("x", 399) + "\n")
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	b.SetParallelism(32) // the requests of a loaded server, waiting on their lines
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := g.Write(line); err != nil {
				b.Error(err)
			}
		}
	})
}
