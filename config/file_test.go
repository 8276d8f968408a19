//go:build unix

package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReadFileRefusesWhatIsNotAConfigFile points ReadFile at everything a
// path can name besides a file: each answer is an error at once, without
// blocking and without reading the thing into memory.
func TestReadFileRefusesWhatIsNotAConfigFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.yaml")
	if err := os.WriteFile(huge, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, MaxFileBytes+1); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"a FIFO with no writer", fifo, "a FIFO"},
		{"an endless device", "/dev/zero", "a character device"},
		{"a directory", dir, "a directory"},
		{"a file over the limit", huge, "more than the"},
		{"nothing", filepath.Join(dir, "missing.yaml"), "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			done := make(chan error, 1)
			go func() {
				_, err := ReadFile(tt.path)
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("ReadFile(%s): got %v; want an error saying %q", tt.name, err, tt.want)
				}
				if strings.Contains(tt.want, "a ") && !errors.Is(err, ErrNotRegular) {
					t.Errorf("ReadFile(%s): %v is not ErrNotRegular", tt.name, err)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("ReadFile(%s) is still reading after 5 s", tt.name)
			}
		})
	}
	if _, err := Load(fifo, Options{}); err == nil || !strings.Contains(err.Error(), "FIFO") {
		t.Errorf("Load(FIFO): got %v; want the FIFO refused", err)
	}
}
