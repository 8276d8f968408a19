//go:build unix

package cmd

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCommandsRefuseWhatIsNotAFile: every command that reads -config
// answers at once, exit 1, with a sentence naming what the path is, for a
// FIFO nobody writes to and for an endless device.
func TestCommandsRefuseWhatIsNotAFile(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "config.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, "/dev/zero"} {
		for _, args := range [][]string{
			{"check", "-config", path},
			{"explain", "-config", path, "-room", "standup", "-groups", "eng"},
			{"serve", "-config", path},
		} {
			done := make(chan struct{})
			var code int
			var stderr string
			go func() {
				code, _, stderr = run(t, args...)
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatalf("%q still running after 5 s", args)
			}
			if code != exitProblem || !strings.Contains(stderr, "not a regular file") {
				t.Errorf("%q: exit %d, stderr %q; want 1 and the path refused as not a regular file", args, code, stderr)
			}
		}
	}
}
