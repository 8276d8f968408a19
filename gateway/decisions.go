package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/roomgate/roomgate/internal/metrics"
	"github.com/roomgate/roomgate/internal/store"
	"github.com/roomgate/roomgate/mapping"
)

// The recorder keeps decisions for the helpdesk console in the store, off
// the request path: a request puts its decision in a bounded queue and
// never waits; one writer takes what has gathered, up to recordBatch at a
// time, every recordEvery. A full queue drops the decision and counts it:
// the audit log stays the record of truth.
const (
	recordQueue = 10_000
	recordBatch = 500
	recordEvery = 250 * time.Millisecond
)

type recorder struct {
	queue   chan store.Decision
	keep    time.Duration
	store   store.Store
	metrics *metrics.Metrics
	log     *slog.Logger
}

// newRecorder starts the writer of decisions into st, kept for keep; nil
// (nothing kept) when keep is 0.
func newRecorder(st store.Store, keep time.Duration, m *metrics.Metrics, log *slog.Logger) *recorder {
	if keep <= 0 {
		return nil
	}
	rec := &recorder{queue: make(chan store.Decision, recordQueue), keep: keep, store: st, metrics: m, log: log}
	go rec.run()
	return rec
}

// record queues d, or drops it when the queue is full.
func (rec *recorder) record(d store.Decision) {
	if rec == nil {
		return
	}
	select {
	case rec.queue <- d:
	default:
		rec.metrics.DecisionsDropped(1)
	}
}

// run writes what the queue gathers, for as long as the process lives.
func (rec *recorder) run() {
	tick := time.NewTicker(recordEvery)
	defer tick.Stop()
	batch := make([]store.Decision, 0, recordBatch)
	for range tick.C {
		for len(batch) < recordBatch {
			select {
			case d := <-rec.queue:
				batch = append(batch, d)
				continue
			default:
			}
			break
		}
		if len(batch) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := rec.store.AddDecisions(ctx, batch, rec.keep); err != nil {
			rec.metrics.DecisionsDropped(len(batch))
			rec.log.Warn("decisions not kept for the helpdesk console", "count", len(batch), "err", err)
		}
		cancel()
		batch = batch[:0]
	}
}

// recordRoom keeps a room decision for the console.
func (s *Server) recordRoom(r *http.Request, id *identity, room *mapping.Room, d mapping.Decision, outcome, jti string) {
	if s.decisions == nil {
		return
	}
	rec := store.Decision{
		RequestID: requestID(r), At: s.now(), Kind: "room",
		UserID: id.UserID, Provider: s.providerName(id), Email: id.Email, Name: id.Name, Groups: groupsForLog(id.Groups), GroupCount: id.GroupCount,
		Room: room.Path, Outcome: outcome, Role: d.Role, Reason: d.Reason(), RuleSet: s.rulesVersion.Load().(string), JTI: jti,
	}
	if d.Rule != nil {
		rec.Rule = d.Rule.String()
	}
	s.decisions.record(rec)
}

// recordSignIn keeps, for the console, a sign-in that ended on a page:
// what the page said, and whom when it is known.
func (s *Server) recordSignIn(r *http.Request, id *identity, page string) {
	if s.decisions == nil {
		return
	}
	rec := store.Decision{RequestID: requestID(r), At: s.now(), Kind: "sign-in", Outcome: "refused", Reason: page,
		RuleSet: s.rulesVersion.Load().(string)}
	if id != nil {
		rec.UserID, rec.Email, rec.Name, rec.GroupCount = id.UserID, id.Email, id.Name, id.GroupCount
	}
	s.decisions.record(rec)
}

// recordGuest keeps a guest's redemption, let in or refused.
func (s *Server) recordGuest(r *http.Request, inv store.Invitation, name, outcome, role, why, jti string) {
	if s.decisions == nil {
		return
	}
	s.decisions.record(store.Decision{
		RequestID: requestID(r), At: s.now(), Kind: "guest", UserID: "guest:" + inv.ID, Name: name,
		Room: inv.Room, Outcome: outcome, Role: role, Reason: why, RuleSet: s.rulesVersion.Load().(string), JTI: jti,
	})
}
