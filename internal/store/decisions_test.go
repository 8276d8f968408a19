package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func decision(id string, at time.Time, user, email, name, room, outcome string) Decision {
	return Decision{RequestID: id, At: at, Kind: "room", UserID: user, Email: email, Name: name, Room: room, Outcome: outcome,
		Groups: []string{"eng"}, GroupCount: 12, Rule: "rules[1] (config.yaml:19)", Reason: "in group eng", JTI: "jti-" + id}
}

// TestDecisions: kept decisions are found by request id, user id, email
// (any case), room and part of a name, filtered by outcome and time,
// newest first, and forgotten after keep.
func TestDecisions(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, open func() Store) {
		ctx := context.Background()
		a, b := open(), open()
		now := time.Now().Truncate(time.Millisecond)
		ds := []Decision{
			decision("req-1", now.Add(-3*time.Minute), "carol", "Carol@Example.com", "Carol Smith", "standup", "deny"),
			decision("req-2", now.Add(-2*time.Minute), "carol", "carol@example.com", "Carol Smith", "all-hands", "allow"),
			decision("req-3", now.Add(-time.Minute), "dave", "dave@example.com", "Dave Jones", "standup", "allow"),
		}
		if err := a.AddDecisions(ctx, ds, time.Hour); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			q    DecisionQuery
			want []string
		}{
			{DecisionQuery{Text: "req-1"}, []string{"req-1"}},
			{DecisionQuery{Text: "carol"}, []string{"req-2", "req-1"}},
			{DecisionQuery{Text: "CAROL@example.com"}, []string{"req-2", "req-1"}},
			{DecisionQuery{Text: "standup"}, []string{"req-3", "req-1"}},
			{DecisionQuery{Text: "smith"}, []string{"req-2", "req-1"}},
			{DecisionQuery{Text: "carol", Outcome: "deny"}, []string{"req-1"}},
			{DecisionQuery{Since: now.Add(-150 * time.Second)}, []string{"req-3", "req-2"}},
			{DecisionQuery{Limit: 1}, []string{"req-3"}},
			{DecisionQuery{Text: "nobody"}, nil},
		} {
			got, err := b.Decisions(ctx, tt.q)
			var ids []string
			for _, d := range got {
				ids = append(ids, d.RequestID)
			}
			if err != nil || fmt.Sprint(ids) != fmt.Sprint(tt.want) {
				t.Errorf("%+v: %v %v; want %v", tt.q, ids, err, tt.want)
			}
		}
		got, _ := b.Decisions(ctx, DecisionQuery{Text: "req-1"})
		if len(got) != 1 || got[0].GroupCount != 12 || got[0].Rule != "rules[1] (config.yaml:19)" || got[0].JTI != "jti-req-1" || !got[0].At.Equal(ds[0].At) {
			t.Errorf("a decision did not come back whole: %+v", got)
		}

		a.AddDecisions(ctx, []Decision{decision("req-short", time.Now(), "erin", "erin@example.com", "Erin", "standup", "allow")}, time.Second)
		time.Sleep(1500 * time.Millisecond)
		a.AddDecisions(ctx, []Decision{decision("req-later", time.Now(), "erin", "erin@example.com", "Erin", "standup", "allow")}, time.Second)
		if got, _ := b.Decisions(ctx, DecisionQuery{Text: "erin"}); len(got) != 1 || got[0].RequestID != "req-later" {
			t.Errorf("after keep: %+v; want req-later alone", got)
		}
	})
}

// BenchmarkDecisionSearch: the helpdesk's searches over 100,000 kept
// decisions in SQLite, by request id (an index) and by part of a name
// (every row).
//
//	go test -run '^$' -bench DecisionSearch ./internal/store
func BenchmarkDecisionSearch(b *testing.B) {
	st, err := OpenSQLite(filepath.Join(b.TempDir(), "roomgate.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	now := time.Now()
	for start := 0; start < 100_000; start += 10_000 {
		var ds []Decision
		for i := start; i < start+10_000; i++ {
			ds = append(ds, decision(fmt.Sprintf("%016x", i), now.Add(-time.Duration(i)*time.Second), fmt.Sprint("user-", i%5000),
				fmt.Sprintf("user-%d@example.com", i%5000), fmt.Sprintf("Person %d Name", i%5000), fmt.Sprint("room-", i%300), "allow"))
		}
		if err := st.AddDecisions(ctx, ds, 30*24*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	for _, q := range []struct {
		name string
		q    DecisionQuery
	}{
		{"request-id", DecisionQuery{Text: fmt.Sprintf("%016x", 77_777)}},
		{"email", DecisionQuery{Text: "user-4242@example.com"}},
		{"name-part", DecisionQuery{Text: "person 4242 "}},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				got, err := st.Decisions(ctx, q.q)
				if err != nil || len(got) == 0 {
					b.Fatalf("%v %v", got, err)
				}
			}
		})
	}
}

// BenchmarkAddDecisions: what keeping one decision costs SQLite, written
// as the gateway's recorder writes them, 500 at a time.
//
//	go test -run '^$' -bench AddDecisions ./internal/store
func BenchmarkAddDecisions(b *testing.B) {
	st, err := OpenSQLite(filepath.Join(b.TempDir(), "roomgate.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	batch := make([]Decision, 500)
	for i := range batch {
		batch[i] = decision(fmt.Sprintf("%016x", i), now, "user", "user@example.com", "Some Person", "standup", "allow")
	}
	for b.Loop() {
		if err := st.AddDecisions(context.Background(), batch, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(batch)), "µs/decision")
}
