package demo

import (
	"context"
	"log/slog"
	"strings"
	"sync"
)

// keptDecisions bounds the decisions remembered for the room page: enough
// for everyone at one demo, however long it runs.
const keptDecisions = 100

// decision is what one audit line says about why a token was minted.
type decision struct {
	rule   string // file:line of the rule, e.g. demo/config.yaml:49
	reason string // mapping.Decision.Reason: rules[1] (demo/config.yaml:49) admits ...
}

// decisions is a slog.Handler that passes every record on and remembers,
// by the token's jti, the rule and reason of the gateway's audit lines
// (msg "decision", audit=true). The room token cannot carry the rule,
// because Digital Samba fixes its claims, but the audit line names the jti
// it was minted with; so the room stand-in can say which rule let a person
// in, from what the gateway logged and nothing else.
type decisions struct {
	next  slog.Handler
	store *decisionStore // shared by the handlers WithAttrs and WithGroup make
}

type decisionStore struct {
	mu    sync.Mutex
	byJTI map[string]decision
	order []string // jtis, oldest first; at most keptDecisions
}

func newDecisions(next slog.Handler) *decisions {
	return &decisions{next: next, store: &decisionStore{byJTI: make(map[string]decision)}}
}

// Enabled reports true for audit lines even when next would drop them (a
// demo run with -log-level warn, or no logger at all), so that the room
// page still names the rule.
func (h *decisions) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= slog.LevelInfo || h.next.Enabled(ctx, level)
}

// Handle remembers an audit line's decision, then hands the record on when
// next wants it.
func (h *decisions) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "decision" {
		h.remember(r)
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *decisions) remember(r slog.Record) {
	var audit bool
	var jti string
	var d decision
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "audit":
			audit = a.Value.Kind() == slog.KindBool && a.Value.Bool()
		case "jti":
			jti = a.Value.String()
		case "rule":
			d.rule = a.Value.String()
		case "reason":
			d.reason = a.Value.String()
		}
		return true
	})
	// A denial mints no token, so it has no jti and no room page.
	if !audit || jti == "" {
		return
	}
	s := h.store
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byJTI[jti]; !ok {
		if len(s.order) == keptDecisions {
			delete(s.byJTI, s.order[0])
			s.order = append(s.order[:0], s.order[1:]...)
		}
		s.order = append(s.order, jti)
	}
	s.byJTI[jti] = d
}

// WithAttrs passes attrs on; the audit line's own attributes are what
// count.
func (h *decisions) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &decisions{next: h.next.WithAttrs(attrs), store: h.store}
}

// WithGroup passes the group on.
func (h *decisions) WithGroup(name string) slog.Handler {
	return &decisions{next: h.next.WithGroup(name), store: h.store}
}

// Describe is the room stand-in's line for the token minted with jti, with
// the rule where the admin wrote it:
// "Decided by the rule at demo/config.yaml:49 (rules[1], counting from 0): admits group "eng-leads" ...".
func (h *decisions) Describe(jti string) (string, bool) {
	h.store.mu.Lock()
	d, ok := h.store.byJTI[jti]
	h.store.mu.Unlock()
	if !ok || d.reason == "" {
		return "", false
	}
	// The reason starts with the rule, rules[1] (demo/config.yaml:49); a
	// colon after it reads better on the page.
	if name, rest, found := strings.Cut(d.reason, " ("+d.rule+") "); found && d.rule != "" {
		return "Decided by the rule at " + d.rule + " (" + name + ", counting from 0): " + rest, true
	}
	return "Decided by roomgate: " + d.reason, true
}

var _ slog.Handler = (*decisions)(nil)
