// Package jsonlog is roomgate serve's log output: a slog.Handler that
// writes what slog.NewJSONHandler writes, byte for byte, but faster and
// without a lock around the write, and a Writer that puts the lines of
// concurrent requests into one write(2) (group commit).
//
// The audit line of a room entry is on the hot path, and is written before
// the redirect leaves so that a crash never loses the line of a token a
// browser got. slog's JSON handler encodes it in about 3.4 µs and writes
// it under its mutex, one write(2) per line; on ext4 that write cost more
// than the rest of the room entry. Handler encodes in a fraction of that
// and Writer lets one write carry every line that is ready.
package jsonlog

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Handler writes records as JSON lines, as slog.NewJSONHandler with the
// same level would. Records whose attributes are strings, integers,
// booleans and durations, with keys, the kinds of every hot-path line, are
// encoded here; any other record, and every record of a handler made by
// WithAttrs or WithGroup, is encoded by slog's own JSON handler. Each record is one
// call of Write, and no lock is held around it.
type Handler struct {
	w     Writer
	level slog.Leveler
	// with are the WithAttrs and WithGroup calls that made this handler,
	// replayed on slog's JSON handler for each record (see writeSlow).
	with []func(slog.Handler) slog.Handler
}

// Writer is where a Handler writes its lines: an io.Writer that is safe for
// concurrent use, such as *GroupWriter or an *os.File.
type Writer interface {
	Write(p []byte) (int, error)
}

// NewHandler returns a Handler writing to w the records at level or above
// (slog.LevelInfo when level is nil).
func NewHandler(w Writer, level slog.Leveler) *Handler {
	if level == nil {
		level = slog.LevelInfo
	}
	return &Handler{w: w, level: level}
}

func (h *Handler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

// lines are the buffers records are encoded in.
var lines = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if len(h.with) > 0 {
		return h.writeSlow(ctx, r)
	}
	bp := lines.Get().(*[]byte)
	b := (*bp)[:0]
	b = append(b, '{')
	if !r.Time.IsZero() {
		t := r.Time.Round(0)
		if y := t.Year(); y < 0 || y >= 10000 {
			lines.Put(bp)
			return h.writeSlow(ctx, r) // slog reports the error in the line
		}
		b = append(b, `"time":"`...)
		b = t.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `",`...)
	}
	b = append(b, `"level":`...)
	b = appendString(b, r.Level.String())
	b = append(b, `,"msg":`...)
	b = appendString(b, r.Message)
	ok := true
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "" {
			ok = false // slog elides some, writes others
			return false
		}
		b = append(b, ',')
		b = appendString(b, a.Key)
		b = append(b, ':')
		switch v := a.Value; v.Kind() {
		case slog.KindString:
			b = appendString(b, v.String())
		case slog.KindInt64:
			b = strconv.AppendInt(b, v.Int64(), 10)
		case slog.KindUint64:
			b = strconv.AppendUint(b, v.Uint64(), 10)
		case slog.KindBool:
			b = strconv.AppendBool(b, v.Bool())
		case slog.KindDuration:
			b = strconv.AppendInt(b, int64(v.Duration()), 10)
		default:
			ok = false
		}
		return ok
	})
	if !ok {
		*bp = b
		lines.Put(bp)
		return h.writeSlow(ctx, r)
	}
	b = append(b, '}', '\n')
	_, err := h.w.Write(b)
	*bp = b
	lines.Put(bp)
	return err
}

// writeSlow encodes r with slog's JSON handler, into a buffer of its own,
// and writes it as one line.
func (h *Handler) writeSlow(ctx context.Context, r slog.Record) error {
	var buf bytes.Buffer
	var sh slog.Handler = slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: h.level})
	for _, with := range h.with {
		sh = with(sh)
	}
	if err := sh.Handle(ctx, r); err != nil {
		return err
	}
	_, err := h.w.Write(buf.Bytes())
	return err
}

func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return h.then(func(sh slog.Handler) slog.Handler { return sh.WithAttrs(attrs) })
}

func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.then(func(sh slog.Handler) slog.Handler { return sh.WithGroup(name) })
}

func (h *Handler) then(with func(slog.Handler) slog.Handler) *Handler {
	return &Handler{w: h.w, level: h.level, with: append(slices.Clip(h.with), with)}
}

// appendString appends s as a JSON string, escaped as slog escapes it:
// quote, backslash and control characters; invalid UTF-8 as U+FFFD; and
// U+2028 and U+2029, which JavaScript reads as line ends.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		for i < len(s) && plain[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
				b = append(b, s[start:i]...)
				if r == utf8.RuneError {
					b = append(b, `\ufffd`...)
				} else {
					b = append(b, `\u202`...)
					b = append(b, hex[r&0xf])
				}
				start = i + size
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// plain holds true for the bytes a JSON string carries as they are: ASCII
// but for control characters, quote and backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()
