//go:build e2e

package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestChromiumClosedRoom: someone the rules admit opens a room outside its
// hours in Chromium and reads when it opens, in the room's zone and in
// words, on a page that does not say they may not enter; the room list
// shows the room closed, with the same opening.
func TestChromiumClosedRoom(t *testing.T) {
	ctx := newChromium(t)
	before := len(env.room.Entries())
	status := chromiumSignIn(t, ctx, env.gatewayURL+"/"+closedPath, attendee)
	if status != http.StatusForbidden {
		t.Errorf("status: got %d; want 403", status)
	}
	text := bodyText(t, ctx)
	for _, want := range []string{closedTitle + " is closed now", "opens on Thu 1 Jan 2099 at 09:00 Europe/Berlin, in ", " days", "You may enter"} {
		if !strings.Contains(text, want) {
			t.Errorf("closed page: got %q; want it to say %q", text, want)
		}
	}
	if strings.Contains(text, "no rule") || strings.Contains(text, "keep you out") {
		t.Errorf("closed page says the person may not enter: %q", text)
	}
	screenshot(t, ctx, "closed.png")
	if err := chromedp.Do(ctx, chromedp.Navigate(env.gatewayURL+"/")); err != nil {
		t.Fatal(err)
	}
	if text := bodyText(t, ctx); !strings.Contains(text, closedTitle) || !strings.Contains(text, "closed now: opens on Thu 1 Jan 2099 at 09:00 Europe/Berlin") {
		t.Errorf("room list: got %q; want the closed room with its opening", text)
	}
	if n := len(env.room.Entries()) - before; n != 0 {
		t.Errorf("entries at the room: got %d; want 0", n)
	}
}

// TestZonesWithoutTheSystemDatabase: the distroless image has no zone
// database, so roomgate carries one. A binary built without GOROOT's
// (-trimpath) runs with the system's database hidden (a mount namespace
// binds an empty directory over /usr/share/zoneinfo) and ZONEINFO pointing
// nowhere, and still reads Europe/Berlin and decides by its clock.
func TestZonesWithoutTheSystemDatabase(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "roomgate")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	conf := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(conf, []byte(gatewayConfig("127.0.0.1:0", "http://127.0.0.1:1", "http://127.0.0.1:2", "http://127.0.0.1:3", "10m")), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "no-zones")
	os.Mkdir(empty, 0o755)
	explain := bin + " explain -config " + conf + " -room " + closedPath + " -at 2099-01-01T08:30:00Z -format json"
	cmd := exec.Command("unshare", "--mount", "sh", "-c", "mount --bind "+empty+" /usr/share/zoneinfo && ls /usr/share/zoneinfo/Europe 2>/dev/null; exec "+explain)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "ZONEINFO=" + filepath.Join(dir, "nowhere")}
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("explain with no zone database: %v\n%s\n%s", err, out, stderr)
	}
	var got struct {
		Rooms []struct {
			Allowed bool   `json:"allowed"`
			Role    string `json:"role"`
		} `json:"rooms"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("explain: %v\n%s", err, out)
	}
	// 08:30 UTC is 09:30 in Berlin on 1 January: inside the 09:00-10:00 opening.
	if len(got.Rooms) != 1 || !got.Rooms[0].Allowed || got.Rooms[0].Role != "attendee" {
		t.Errorf("at 08:30 UTC (09:30 in Berlin): %s; want the room open", out)
	}
}

// TestVersionNamesTheRevision: a binary built from a checkout says which
// commit it is, not just "(devel)".
func TestVersionNamesTheRevision(t *testing.T) {
	out, err := exec.Command(env.roomgate, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	head, err := exec.Command("git", "-C", "..", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "revision " + string(head[:12]); !strings.Contains(string(out), want) {
		t.Errorf("roomgate version: %q; want it to name %q", out, want)
	}
}
