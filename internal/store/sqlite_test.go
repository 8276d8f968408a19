package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSQLiteFileMode: the database and its WAL files are the owner's
// alone: they name who was offboarded.
func TestSQLiteFileMode(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "roomgate.db")
	st, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	if err := st.Revoke(context.Background(), Revocation{Kind: KindUser, Value: "ada", At: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("%s: %v (WAL mode makes it)", filepath.Base(p), err)
			continue
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %o; want 600", filepath.Base(p), mode)
		}
	}
}

// TestSQLiteRefusesWhatItCannotUse: a missing folder, a file that is not
// a database and a damaged database are refused at open, each with a
// message that says what to do; the file is left as it was found.
func TestSQLiteRefusesWhatItCannotUse(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()

	if _, err := OpenSQLite(filepath.Join(dir, "missing", "roomgate.db")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("a missing folder: %v", err)
	}

	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte(strings.Repeat("not a database at all\n", 100)), 0o600)
	if _, err := OpenSQLite(text); err == nil || !strings.Contains(err.Error(), "not a usable SQLite database") {
		t.Errorf("a text file: %v", err)
	}
	if b, _ := os.ReadFile(text); !strings.HasPrefix(string(b), "not a database") {
		t.Errorf("the text file was changed")
	}

	damaged := filepath.Join(dir, "damaged.db")
	st, err := OpenSQLite(damaged)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, st, 2000, time.Now())
	st.Close()
	b, _ := os.ReadFile(damaged)
	if len(b) < 16*4096 {
		t.Fatalf("the database is %d bytes; want several pages to damage", len(b))
	}
	// Past the first pages (the header and the schema), every page's
	// contents overwritten: the tree no longer holds together.
	for page := 4; page*4096 < len(b); page++ {
		copy(b[page*4096+100:], strings.Repeat("\xff", 1000))
	}
	os.WriteFile(damaged, b, 0o600)
	if _, err := OpenSQLite(damaged); err == nil {
		t.Errorf("a damaged database was opened")
	} else {
		t.Logf("a damaged database: %v", err)
	}
}

// TestSQLitePrunes: a write forgets the revocations and used ids that
// have expired, so the file holds the live ones only.
func TestSQLitePrunes(t *testing.T) {
	t.Parallel()
	st, err := OpenSQLite(filepath.Join(t.TempDir(), "roomgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	now := time.Now()
	clock := now
	st.Now = func() time.Time { return clock }
	fill(t, st, 100, now)
	for i := range 100 {
		st.UseOnce(ctx, fmt.Sprint("jti-", i), time.Hour)
	}
	clock = now.Add(9 * time.Hour) // past the 8 hours fill gives them
	st.Revoke(ctx, Revocation{Kind: KindUser, Value: "new", At: clock, Expires: clock.Add(time.Hour)})
	st.UseOnce(ctx, "jti-new", time.Hour)
	for table, want := range map[string]int{"revocations": 1, "used_ids": 1} {
		var n int
		st.db.QueryRow("SELECT count(*) FROM " + table).Scan(&n)
		if n != want {
			t.Errorf("%s holds %d rows after the others expired; want %d", table, n, want)
		}
	}
}

// TestSQLiteSize measures the file for 10,000 live revocations, the
// figure the README gives, and holds it under a bound.
func TestSQLiteSize(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "roomgate.db")
	st, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, st, 10_000, time.Now())
	if _, err := st.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("10,000 live revocations: %d bytes (%.1f MiB)", fi.Size(), float64(fi.Size())/(1<<20))
	if fi.Size() > 4<<20 {
		t.Errorf("10,000 revocations take %d bytes; want under 4 MiB", fi.Size())
	}
}

// fill revokes user-0 ... user-(n-1) for 8 hours, in one transaction.
func fill(t testing.TB, st *SQLite, n int, now time.Time) {
	t.Helper()
	err := st.tx(context.Background(), func(tx *sql.Tx) error {
		for i := range n {
			if _, err := tx.Exec(`INSERT INTO revocations (kind, value, at, expires, changed) VALUES (?, ?, ?, ?, 0)`,
				string(KindUser), fmt.Sprint("user-", i), now.UnixNano(), now.Add(8*time.Hour).UnixNano()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
