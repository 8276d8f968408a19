package cmd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roomgate/roomgate/demo/dsroom"
	"github.com/roomgate/roomgate/internal/redistest"
	"github.com/roomgate/roomgate/internal/store"
)

// TestCheckRemoteAndSync: check -remote reports the team's findings (json
// too), sync plans (exit 2), applies (exit 0) and then finds nothing to do
// (exit 0); an API that cannot be read is exit 1, never "valid"; the
// developer key is printed nowhere.
func TestCheckRemoteAndSync(t *testing.T) {
	t.Parallel()
	const key = "a-developer-key-never-to-print"
	api := dsroom.NewAPI("team-1", key, nil)
	srv := httptest.NewServer(api)
	defer srv.Close()
	file := strings.Replace(testConfig, `developer_key: "${DS_DEVELOPER_KEY}"`, "developer_key: "+key+"\n  api_url: \""+srv.URL+"/api/v1\"", 1)
	path := writeConfig(t, file)
	runIt := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := Run(context.Background(), args, Env{Stdout: &out, Stderr: &errb, LookupEnv: lookup})
		all := out.String() + errb.String()
		if strings.Contains(all, key) {
			t.Errorf("%q printed the developer key:\n%s", args, all)
		}
		return code, all
	}
	code, out := runIt("check", "-config", path, "-remote")
	if code != exitProblem || !strings.Contains(out, `the team has no room "daily-standup"`) {
		t.Errorf("check -remote without the room: exit %d\n%s", code, out)
	}
	code, out = runIt("check", "-config", path, "-remote", "-format", "json")
	var r checkReport
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &r); err != nil || r.Valid || len(r.Problems) != 1 || r.Problems[0].Path != "rooms[0].room" {
		t.Errorf("check -remote -format json: %v %+v", err, r)
	}
	code, out = runIt("sync", "-config", path)
	if code != exitPending || !strings.Contains(out, "create       daily-standup") || !strings.Contains(out, "nothing changed") {
		t.Errorf("sync: exit %d\n%s", code, out)
	}
	code, out = runIt("sync", "-config", path, "-apply")
	if code != exitOK || !strings.Contains(out, "done: create daily-standup") {
		t.Errorf("sync -apply: exit %d\n%s", code, out)
	}
	if code, out = runIt("sync", "-config", path); code != exitOK || !strings.Contains(out, "nothing to do") {
		t.Errorf("sync again: exit %d\n%s", code, out)
	}
	if code, out = runIt("check", "-config", path, "-remote"); code != exitOK || !strings.Contains(out, "and with the Digital Samba team") {
		t.Errorf("check -remote after sync: exit %d\n%s", code, out)
	}
	srv.Close()
	if code, out = runIt("check", "-config", path, "-remote"); code != exitProblem || !strings.Contains(out, "cannot check against the Digital Samba team") {
		t.Errorf("check -remote, API down: exit %d\n%s", code, out)
	}
}

// TestRevokeCommand: without a store other processes see, revoke says
// why and exits 1; with SQLite or Redis it revokes, writes an audit line,
// and a gateway's view of the same store sees it within a second; with
// the store gone it exits 1 and says nothing was revoked.
func TestRevokeCommand(t *testing.T) {
	t.Parallel()
	plain := writeConfig(t, testConfig)
	if code, _, errs := run(t, "revoke", "-config", plain, "-user", "ada"); code != exitProblem || !strings.Contains(errs, "needs store.sqlite.path (one host) or store.redis.url") {
		t.Errorf("without a store: exit %d, %q", code, errs)
	}
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, "roomgate.db")
		conf := writeConfig(t, strings.Replace(testConfig, "rooms:", "store:\n  sqlite:\n    path: "+path+"\nrooms:", 1))
		st, err := store.OpenSQLite(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		revokeSeen(t, conf, st)
		os.RemoveAll(dir)
		if code, _, errs := run(t, "revoke", "-config", conf, "-user", "ben"); code != exitProblem || !strings.Contains(errs, "does not exist") {
			t.Errorf("the store's folder gone: exit %d, %q", code, errs)
		}
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		srv := redistest.Start(t)
		conf := writeConfig(t, strings.Replace(testConfig, "rooms:", "store:\n  redis:\n    url: \""+srv.URL()+"\"\nrooms:", 1))
		revokeSeen(t, conf, mustRedis(t, srv.URL()))
		srv.Stop()
		if code, _, errs := run(t, "revoke", "-config", conf, "-user", "ben"); code != exitProblem || !strings.Contains(errs, "nothing was revoked") {
			t.Errorf("store down: exit %d, %q", code, errs)
		}
	})
}

// revokeSeen runs roomgate revoke -user ada with conf, and wants a view of
// st, as a running gateway holds it, to see it within a second.
func revokeSeen(t *testing.T, conf string, st store.Store) {
	t.Helper()
	view := store.NewRevocations(st, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go view.Run(ctx)
	deadline := time.Now().Add(2 * time.Second)
	for !view.Ready() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	before := time.Now().Add(-time.Second)
	code, out, errs := run(t, "revoke", "-config", conf, "-user", "ada")
	if code != exitOK || !strings.Contains(out, "revoked every session of ada") || !strings.Contains(errs, `"audit":true`) {
		t.Fatalf("revoke: exit %d\n%s\n%s", code, out, errs)
	}
	deadline = time.Now().Add(time.Second)
	for !view.Revoked("ada", "", "", before) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !view.Revoked("ada", "", "", before) {
		t.Error("a gateway's view did not see the revocation within a second")
	}
}

func mustRedis(t *testing.T, url string) store.Store {
	t.Helper()
	s, err := store.OpenRedis(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestHealthcheck: exit 0 for a 200, 1 for anything else or nothing.
func TestHealthcheck(t *testing.T) {
	t.Parallel()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) }))
	defer ok.Close()
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "not ready", 503) }))
	defer sick.Close()
	if code, out, _ := run(t, "healthcheck", "-url", ok.URL); code != exitOK || out != "ok\n" {
		t.Errorf("healthy: exit %d %q", code, out)
	}
	if code, _, errs := run(t, "healthcheck", "-url", sick.URL); code != exitProblem || !strings.Contains(errs, "503") {
		t.Errorf("503: exit %d %q", code, errs)
	}
	if code, _, _ := run(t, "healthcheck", "-url", "http://127.0.0.1:1/healthz"); code != exitProblem {
		t.Errorf("nothing listening: exit %d", code)
	}
}

// TestInviteCommand: an admin creates an invitation and gets its link
// (the store holds only its hash), lists it, and revokes it; a room
// without guests, a bad -valid and a store in the process are refused
// with a reason.
func TestInviteCommand(t *testing.T) {
	t.Parallel()
	rooms := strings.Replace(testConfig, "rooms:", "rooms:\n  - path: interviews\n    room: interviews\n    guests: {role: attendee, max_valid: 48h}\n    rules:\n      - groups: [hr]\n        role: moderator\n        invite: true", 1)
	if code, _, errs := run(t, "invite", "create", "-config", writeConfig(t, rooms), "-room", "interviews", "-name", "Jane"); code != exitProblem || !strings.Contains(errs, "needs store.sqlite.path") {
		t.Errorf("with the store in the process: exit %d %q", code, errs)
	}
	db := filepath.Join(t.TempDir(), "roomgate.db")
	conf := writeConfig(t, strings.Replace(rooms, "rooms:", "store:\n  sqlite:\n    path: "+db+"\nrooms:", 1))

	code, out, errs := run(t, "invite", "create", "-config", conf, "-room", "interviews", "-name", "Jane Roe (ACME)", "-valid", "36h", "-browsers", "2")
	link := strings.TrimSpace(out)
	if code != exitOK || !strings.HasPrefix(link, "https://meet.example.com/guest/") || !strings.Contains(errs, `"action":"created"`) {
		t.Fatalf("invite create: exit %d\n%s\n%s", code, out, errs)
	}
	token := strings.TrimPrefix(link, "https://meet.example.com/guest/")
	if strings.Contains(errs, token) {
		t.Error("the audit line holds the link")
	}
	st, err := store.OpenSQLite(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sum := sha256.Sum256([]byte(token))
	inv, err := st.Invitation(context.Background(), hex.EncodeToString(sum[:]))
	if err != nil || inv.Guest != "Jane Roe (ACME)" || inv.Browsers != 2 || inv.Expires.Sub(inv.Created) != 36*time.Hour {
		t.Fatalf("the stored invitation: %+v %v", inv, err)
	}

	if code, out, _ := run(t, "invite", "list", "-config", conf); code != exitOK || !strings.Contains(out, inv.ID) || !strings.Contains(out, "unused") {
		t.Errorf("invite list: exit %d\n%s", code, out)
	}
	if code, out, _ := run(t, "invite", "revoke", "-config", conf, inv.ID); code != exitOK || !strings.Contains(out, "revoked invitation "+inv.ID) {
		t.Errorf("invite revoke: exit %d\n%s", code, out)
	}
	if got, _ := st.Invitation(context.Background(), inv.Hash); got.Revoked.IsZero() {
		t.Error("the invitation is not revoked in the store")
	}
	if code, _, errs := run(t, "invite", "revoke", "-config", conf, "nothing"); code != exitProblem || !strings.Contains(errs, "no open invitation") {
		t.Errorf("revoking an unknown id: exit %d %q", code, errs)
	}
	for _, args := range [][]string{
		{"-room", "standup", "-name", "Jane"},
		{"-room", "interviews", "-name", "Jane", "-valid", "72h"},
		{"-room", "interviews", "-name", "Jane", "-browsers", "21"},
		{"-room", "interviews", "-name", "\u202e\x07"},
	} {
		if code, _, errs := run(t, append([]string{"invite", "create", "-config", conf}, args...)...); code != exitProblem || errs == "" {
			t.Errorf("invite create %v: exit %d; want 1 with a reason", args, code)
		}
	}
}

// TestExplainSaysWhoMayInvite: explain names the right to invite, in text
// and JSON, for the person whose deciding rule gives it, and not for others.
func TestExplainSaysWhoMayInvite(t *testing.T) {
	t.Parallel()
	rooms := strings.Replace(testConfig, "rooms:", "rooms:\n  - path: interviews\n    room: interviews\n    guests: {role: attendee}\n    rules:\n      - groups: [hr]\n        role: moderator\n        invite: true\n      - groups: [eng]\n        role: attendee", 1)
	conf := writeConfig(t, rooms)
	if _, out, _ := run(t, "explain", "-config", conf, "-room", "interviews", "-groups", "hr"); !strings.Contains(out, "may invite guests (as attendee)") {
		t.Errorf("explain for hr:\n%s", out)
	}
	if _, out, _ := run(t, "explain", "-config", conf, "-room", "interviews", "-groups", "eng"); strings.Contains(out, "may invite") {
		t.Errorf("explain for eng says they may invite:\n%s", out)
	}
	if _, out, _ := run(t, "explain", "-config", conf, "-room", "interviews", "-groups", "hr", "-format", "json"); !strings.Contains(out, `"may_invite": true`) {
		t.Errorf("explain -format json for hr:\n%s", out)
	}
}
