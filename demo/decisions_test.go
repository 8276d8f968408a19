package demo

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// auditLine logs what gateway's audit writes for a decision.
func auditLine(l *slog.Logger, jti, rule, reason string) {
	l.Info("decision", "audit", true, "request_id", "r1", "outcome", "allow",
		"role", "moderator", "rule", rule, "reason", reason, "jti", jti)
}

func TestDecisionsDescribe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		log    func(l *slog.Logger)
		jti    string
		want   string
		wantOK bool
	}{
		{
			name: "audit line",
			log: func(l *slog.Logger) {
				auditLine(l, "j1", "demo/config.yaml:49", `rules[1] (demo/config.yaml:49) admits group "eng-leads" as moderator`)
			},
			jti:    "j1",
			want:   `Decided by the rule at demo/config.yaml:49 (rules[1], counting from 0): admits group "eng-leads" as moderator`,
			wantOK: true,
		},
		{
			name: "reason without the rule's place",
			log: func(l *slog.Logger) {
				auditLine(l, "j1", "demo/config.yaml:49", "something else")
			},
			jti:    "j1",
			want:   "Decided by roomgate: something else",
			wantOK: true,
		},
		{
			name: "unknown jti",
			log: func(l *slog.Logger) {
				auditLine(l, "j1", "demo/config.yaml:49", "rules[1] (demo/config.yaml:49) admits everyone as attendee")
			},
			jti: "j2",
		},
		{
			name: "denial has no jti",
			log: func(l *slog.Logger) {
				auditLine(l, "", "demo/config.yaml:45", `rules[0] (demo/config.yaml:45) denies email "dan@contractor.example"`)
			},
			jti: "",
		},
		{
			name: "not an audit line",
			log: func(l *slog.Logger) {
				l.Info("decision", "jti", "j1", "rule", "x:1", "reason", "rules[0] (x:1) admits everyone as attendee")
			},
			jti: "j1",
		},
		{
			name: "another message",
			log: func(l *slog.Logger) {
				l.Info("sign-in", "audit", true, "jti", "j1", "rule", "x:1", "reason", "rules[0] (x:1) admits everyone as attendee")
			},
			jti: "j1",
		},
		{
			name: "through WithAttrs and WithGroup",
			log: func(l *slog.Logger) {
				auditLine(l.With("component", "gateway").WithGroup("g"), "j1", "x:1", "rules[0] (x:1) admits everyone as attendee")
			},
			jti:    "j1",
			want:   "Decided by the rule at x:1 (rules[0], counting from 0): admits everyone as attendee",
			wantOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newDecisions(slog.DiscardHandler)
			tt.log(slog.New(h))
			got, ok := h.Describe(tt.jti)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Describe(%q): got %q, %v; want %q, %v", tt.jti, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// TestDecisionsPassThrough: every record reaches the next handler as it
// would without the wrapper, and its level still filters.
func TestDecisionsPassThrough(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	next := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})
	h := newDecisions(next)
	l := slog.New(h)
	auditLine(l, "j1", "x:1", "rules[0] (x:1) admits everyone as attendee")
	l.Warn("careful", "n", 1)
	l.Debug("noise")
	got := buf.String()
	if strings.Contains(got, `"decision"`) || strings.Contains(got, "noise") {
		t.Errorf("next got %q; want only the warning (its level is warn)", got)
	}
	if want := `"msg":"careful","n":1`; !strings.Contains(got, want) {
		t.Errorf("next got %q; want it to contain %q", got, want)
	}
	// Below next's level, the audit line is still remembered.
	if _, ok := h.Describe("j1"); !ok {
		t.Errorf("Describe(j1) after an audit line below next's level: got false; want true")
	}
	if !h.Enabled(context.Background(), slog.LevelInfo) {
		t.Errorf("Enabled(info): got false; want true, or audit lines would never arrive")
	}
	if h.Enabled(context.Background(), slog.LevelDebug) {
		t.Errorf("Enabled(debug): got true; want false, as next says")
	}
}

// TestDecisionsBounded: only the last keptDecisions are kept, so a long
// demo does not grow without end.
func TestDecisionsBounded(t *testing.T) {
	t.Parallel()
	h := newDecisions(slog.DiscardHandler)
	l := slog.New(h)
	const n = keptDecisions + 20
	for i := range n {
		auditLine(l, fmt.Sprint("j", i), "x:1", "rules[0] (x:1) admits everyone as attendee")
	}
	// The same jti again replaces its entry and pushes nothing out.
	auditLine(l, fmt.Sprint("j", n-1), "x:2", "rules[1] (x:2) admits everyone as attendee")
	for i := range n {
		_, ok := h.Describe(fmt.Sprint("j", i))
		if want := i >= n-keptDecisions; ok != want {
			t.Errorf("Describe(j%d): got %v; want %v", i, ok, want)
		}
	}
	if got, want := len(h.store.byJTI), keptDecisions; got != want {
		t.Errorf("kept: got %d; want %d", got, want)
	}
	if got, _ := h.Describe(fmt.Sprint("j", n-1)); !strings.Contains(got, "x:2") {
		t.Errorf("Describe after a second line for one jti: got %q; want the second rule", got)
	}
}
