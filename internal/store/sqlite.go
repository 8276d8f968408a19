package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the pure-Go driver: no cgo in the binary or the image
)

// sqliteSchema is the store's tables. revision counts the revocations
// written, so that a watcher in another process asks only for what it has
// not seen: changed is the revision that last wrote a row.
const sqliteSchema = `
CREATE TABLE IF NOT EXISTS meta (revision INTEGER NOT NULL);
INSERT INTO meta (revision) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM meta);
CREATE TABLE IF NOT EXISTS revocations (
	kind    TEXT    NOT NULL,
	value   TEXT    NOT NULL,
	at      INTEGER NOT NULL, -- unix nanoseconds
	expires INTEGER NOT NULL, -- unix nanoseconds
	changed INTEGER NOT NULL, -- meta.revision of the last write
	PRIMARY KEY (kind, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS revocations_changed ON revocations (changed);
CREATE INDEX IF NOT EXISTS revocations_expires ON revocations (expires);
CREATE TABLE IF NOT EXISTS used_ids (
	id      TEXT    PRIMARY KEY,
	expires INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS used_ids_expires ON used_ids (expires);
CREATE TABLE IF NOT EXISTS invitations (
	hash    TEXT    PRIMARY KEY, -- of the link's token
	id      TEXT    NOT NULL UNIQUE,
	room    TEXT    NOT NULL,
	expires INTEGER NOT NULL,    -- unix nanoseconds
	data    TEXT    NOT NULL     -- the Invitation, JSON
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS invitations_room ON invitations (room, expires);
CREATE INDEX IF NOT EXISTS invitations_expires ON invitations (expires);
CREATE TABLE IF NOT EXISTS decisions (
	request_id TEXT    NOT NULL,
	at         INTEGER NOT NULL, -- unix nanoseconds
	user_id    TEXT    NOT NULL,
	email      TEXT    NOT NULL, -- lower case
	name       TEXT    NOT NULL, -- lower case
	room       TEXT    NOT NULL,
	outcome    TEXT    NOT NULL,
	data       TEXT    NOT NULL  -- the Decision, JSON
);
CREATE INDEX IF NOT EXISTS decisions_at ON decisions (at);
CREATE INDEX IF NOT EXISTS decisions_request ON decisions (request_id);
CREATE INDEX IF NOT EXISTS decisions_user ON decisions (user_id, at);
CREATE INDEX IF NOT EXISTS decisions_email ON decisions (email, at);
CREATE INDEX IF NOT EXISTS decisions_room ON decisions (room, at);
`

// watchEvery is how often a watcher asks the file what changed: a
// revocation made by another process (roomgate revoke) reaches a serving
// one within it. The question is one index lookup that finds nothing.
const watchEvery = 200 * time.Millisecond

// SQLite is a Store in one file on this host, in WAL mode: it outlives the
// process, and every process on the host that opens the same file shares
// it (roomgate revoke beside roomgate serve). Not for replicas on several
// hosts: that is Redis.
type SQLite struct {
	db   *sql.DB
	path string
	Now  func() time.Time // nil means time.Now
}

// OpenSQLite opens the store at path, creating the file (mode 0600) and its
// tables if need be; path's folder must exist. A file that is not a
// database, or a damaged one, is refused here: the store guards
// revocations, so a gateway without it must not start.
func OpenSQLite(path string) (*SQLite, error) {
	if _, err := os.Stat(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("store.sqlite.path: the folder %s does not exist (create it, writable by roomgate alone)", filepath.Dir(path))
	}
	// Created here, so that it is created 0600: SQLite gives its -wal and
	// -shm files the database file's mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store.sqlite.path: %w", err)
	}
	f.Close()
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	// FULL: a revocation that was answered is on disk, power cut or not.
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store.sqlite.path %s: %w", path, err)
	}
	s := &SQLite{db: db, path: path}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.init(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store.sqlite.path %s: %w", path, err)
	}
	return s, nil
}

// init checks the file and makes the tables.
func (s *SQLite) init(ctx context.Context) error {
	var check string
	if err := s.db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&check); err != nil {
		return fmt.Errorf("not a usable SQLite database: %w", err)
	}
	if check != "ok" {
		return fmt.Errorf("the database is damaged (quick_check: %.160s...); restore it from a backup, or move it away to start empty",
			strings.ReplaceAll(check, "\n", "; "))
	}
	if _, err := s.db.ExecContext(ctx, sqliteSchema); err != nil {
		return fmt.Errorf("cannot create the tables: %w", err)
	}
	return nil
}

func (s *SQLite) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Revoke implements Store. It also forgets the revocations that have
// expired, so the file holds only live ones.
func (s *SQLite) Revoke(ctx context.Context, r Revocation) error {
	if !s.now().Before(r.Expires) {
		return nil
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var rev int64
		if err := tx.QueryRowContext(ctx, "UPDATE meta SET revision = revision + 1 RETURNING revision").Scan(&rev); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO revocations (kind, value, at, expires, changed) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (kind, value) DO UPDATE SET at = max(at, excluded.at), expires = max(expires, excluded.expires), changed = excluded.changed`,
			string(r.Kind), r.Value, r.At.UnixNano(), r.Expires.UnixNano(), rev); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM revocations WHERE expires <= ?", s.now().UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("store: revoke: %w", err)
	}
	return nil
}

// tx runs f in a write transaction (BEGIN IMMEDIATE: writers take their
// turn at the start, so none fails halfway with "database is locked").
func (s *SQLite) tx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Load implements Store, a page of loadPage at a time in key order.
func (s *SQLite) Load(ctx context.Context, page func([]Revocation)) error {
	now := s.now().UnixNano()
	var kind, value string
	for {
		revs, err := s.query(ctx, `SELECT kind, value, at, expires, changed FROM revocations
			WHERE expires > ? AND (kind, value) > (?, ?) ORDER BY kind, value LIMIT ?`, nil, now, kind, value, loadPage)
		if err != nil {
			return fmt.Errorf("store: load: %w", err)
		}
		if len(revs) == 0 {
			return nil
		}
		page(revs)
		last := revs[len(revs)-1]
		kind, value = string(last.Kind), last.Value
	}
}

// query returns the revocations a SELECT of kind, value, at, expires and
// changed finds; the highest changed goes to *revision when it is not nil.
func (s *SQLite) query(ctx context.Context, q string, revision *int64, args ...any) ([]Revocation, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var revs []Revocation
	for rows.Next() {
		var r Revocation
		var at, expires, changed int64
		if err := rows.Scan(&r.Kind, &r.Value, &at, &expires, &changed); err != nil {
			return nil, err
		}
		r.At, r.Expires = time.Unix(0, at), time.Unix(0, expires)
		revs = append(revs, r)
		if revision != nil {
			*revision = max(*revision, changed)
		}
	}
	return revs, rows.Err()
}

// Watch implements Store. Processes share no channel, only the file: it
// asks every watchEvery for the revocations written since the last it saw.
func (s *SQLite) Watch(ctx context.Context, seen func(Revocation)) error {
	var revision int64
	if err := s.db.QueryRowContext(ctx, "SELECT revision FROM meta").Scan(&revision); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("store: watch: %w", err)
	}
	tick := time.NewTicker(watchEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		revs, err := s.query(ctx, `SELECT kind, value, at, expires, changed FROM revocations
			WHERE changed > ? ORDER BY changed`, &revision, revision)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("store: watch: %w", err)
		}
		for _, r := range revs {
			seen(r)
		}
	}
}

// UseOnce implements Store: one statement, so two processes racing for
// the same id cannot both win.
func (s *SQLite) UseOnce(ctx context.Context, id string, ttl time.Duration) (bool, error) {
	now := s.now()
	var won bool
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM used_ids WHERE expires <= ?", now.UnixNano()); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO used_ids (id, expires) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", id, now.Add(ttl).UnixNano())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		won = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	return won, nil
}

// CreateInvitation implements Store. It also forgets the invitations
// that have expired.
func (s *SQLite) CreateInvitation(ctx context.Context, inv Invitation) error {
	data, err := json.Marshal(inv)
	if err != nil {
		return err
	}
	now := s.now()
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM invitations WHERE expires <= ?", now.UnixNano()); err != nil {
			return err
		}
		if inv.Inviter.UserID != "" {
			open, err := invitationsIn(ctx, tx, inv.Room, now)
			if err != nil {
				return err
			}
			if openFor(open, inv.Inviter.UserID, now) >= MaxOpenInvitations {
				return ErrTooManyInvitations
			}
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO invitations (hash, id, room, expires, data) VALUES (?, ?, ?, ?, ?)",
			inv.Hash, inv.ID, inv.Room, inv.Expires.UnixNano(), string(data))
		return err
	})
	if err != nil && !errors.Is(err, ErrTooManyInvitations) {
		return fmt.Errorf("store: invitation: %w", err)
	}
	return err
}

// querier is what reads: the database or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// invitationsIn reads the invitations of room ("": all) live at now.
func invitationsIn(ctx context.Context, q querier, room string, now time.Time) ([]Invitation, error) {
	rows, err := q.QueryContext(ctx, "SELECT data FROM invitations WHERE (? = '' OR room = ?) AND expires > ?", room, room, now.UnixNano())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Invitation
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		var inv Invitation
		if err := json.Unmarshal([]byte(data), &inv); err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	slices.SortFunc(out, func(a, b Invitation) int { return a.Created.Compare(b.Created) })
	return out, rows.Err()
}

// Invitation implements Store.
func (s *SQLite) Invitation(ctx context.Context, hash string) (Invitation, error) {
	var data string
	err := s.db.QueryRowContext(ctx, "SELECT data FROM invitations WHERE hash = ? AND expires > ?", hash, s.now().UnixNano()).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return Invitation{}, ErrNoInvitation
	}
	if err != nil {
		return Invitation{}, fmt.Errorf("store: invitation: %w", err)
	}
	var inv Invitation
	return inv, json.Unmarshal([]byte(data), &inv)
}

// RedeemInvitation implements Store: read, check and write in one
// transaction, which SQLite runs one writer at a time.
func (s *SQLite) RedeemInvitation(ctx context.Context, hash, browser string, now time.Time) (Invitation, error) {
	return s.changeInvitation(ctx, "hash = ?", []any{hash}, func(inv *Invitation) error { return inv.admit(browser, now) })
}

// RevokeInvitation implements Store.
func (s *SQLite) RevokeInvitation(ctx context.Context, id, by string, now time.Time) (Invitation, error) {
	return s.changeInvitation(ctx, "id = ? AND expires > ?", []any{id, now.UnixNano()}, func(inv *Invitation) error {
		inv.revoke(by, now)
		return nil
	})
}

// changeInvitation applies change to the invitation where (with args)
// finds, in one write transaction, and writes it back unless change fails.
func (s *SQLite) changeInvitation(ctx context.Context, where string, args []any, change func(*Invitation) error) (Invitation, error) {
	var inv Invitation
	var refused error
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var data string
		if err := tx.QueryRowContext(ctx, "SELECT data FROM invitations WHERE "+where, args...).Scan(&data); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(data), &inv); err != nil {
			return err
		}
		if refused = change(&inv); refused != nil {
			return nil
		}
		b, err := json.Marshal(inv)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE invitations SET data = ? WHERE hash = ?", string(b), inv.Hash)
		return err
	})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Invitation{}, ErrNoInvitation
	case err != nil:
		return Invitation{}, fmt.Errorf("store: invitation: %w", err)
	}
	return inv, refused
}

// Invitations implements Store.
func (s *SQLite) Invitations(ctx context.Context, room string) ([]Invitation, error) {
	invs, err := invitationsIn(ctx, s.db, room, s.now())
	if err != nil {
		return nil, fmt.Errorf("store: invitations: %w", err)
	}
	return invs, nil
}

// AddDecisions implements Store: one transaction for the lot, which also
// forgets what is older than keep.
func (s *SQLite) AddDecisions(ctx context.Context, ds []Decision, keep time.Duration) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, "INSERT INTO decisions (request_id, at, user_id, email, name, room, outcome, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i := range ds {
			d := &ds[i]
			data, err := json.Marshal(d)
			if err != nil {
				return err
			}
			if _, err := stmt.ExecContext(ctx, d.RequestID, d.At.UnixNano(), d.UserID, strings.ToLower(d.Email), strings.ToLower(d.Name), d.Room, d.Outcome, string(data)); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM decisions WHERE at < ?", s.now().Add(-keep).UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("store: decisions: %w", err)
	}
	return nil
}

// Decisions implements Store. An exact field (request id, user id,
// email, room) is found through its index; only when none matches is part
// of a name looked for, in every decision kept (BenchmarkDecisionSearch).
func (s *SQLite) Decisions(ctx context.Context, q DecisionQuery) ([]Decision, error) {
	if q.Text == "" {
		return s.decisions(ctx, q, "1 = 1")
	}
	t := strings.ToLower(q.Text)
	out, err := s.decisions(ctx, q, "(request_id = ? OR user_id = ? OR email = ? OR room = ?)", q.Text, q.Text, t, q.Text)
	if err != nil || len(out) > 0 {
		return out, err
	}
	return s.decisions(ctx, q, "instr(name, ?) > 0", t)
}

// decisions runs one search: match (with args) and q's outcome and time.
func (s *SQLite) decisions(ctx context.Context, q DecisionQuery, match string, args ...any) ([]Decision, error) {
	where := []string{match}
	if q.Outcome != "" {
		where = append(where, "outcome = ?")
		args = append(args, q.Outcome)
	}
	if !q.Since.IsZero() {
		where = append(where, "at >= ?")
		args = append(args, q.Since.UnixNano())
	}
	if !q.Until.IsZero() {
		where = append(where, "at <= ?")
		args = append(args, q.Until.UnixNano())
	}
	args = append(args, q.limit())
	rows, err := s.db.QueryContext(ctx, "SELECT data FROM decisions WHERE "+strings.Join(where, " AND ")+" ORDER BY at DESC LIMIT ?", args...)
	if err != nil {
		return nil, fmt.Errorf("store: decisions: %w", err)
	}
	defer rows.Close()
	var out []Decision
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("store: decisions: %w", err)
		}
		var d Decision
		if json.Unmarshal([]byte(data), &d) == nil {
			out = append(out, d)
		}
	}
	return out, rows.Err()
}

// Ping implements Store: it reads the file, which a Ping of the
// connection alone would not.
func (s *SQLite) Ping(ctx context.Context) error {
	var revision int64
	if err := s.db.QueryRowContext(ctx, "SELECT revision FROM meta").Scan(&revision); err != nil {
		if errors.Is(err, sql.ErrConnDone) {
			return ErrClosed
		}
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// Shared implements Store: other processes on this host see the file.
func (s *SQLite) Shared() bool { return true }

// Close implements Store.
func (s *SQLite) Close() error { return s.db.Close() }

var _ Store = (*SQLite)(nil)
