package config

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// MaxFileBytes bounds the configuration file. A rule file of 10,000 rooms
// of 20 rules each is about 9 MB; anything past this is a mistake (a device,
// a log file, a runaway generator), refused before it is read into memory.
const MaxFileBytes = 32 << 20

// ErrNotRegular says the configuration path names something other than a
// regular file: a directory, a FIFO, a device or a socket.
var ErrNotRegular = errors.New("not a regular file")

// ReadFile reads the configuration file at path. It never blocks on
// opening (a FIFO with no writer answers at once), it reads only a regular
// file, and only up to MaxFileBytes, so no path an operator or a watcher
// points at can hang roomgate or make it run out of memory.
func ReadFile(path string) ([]byte, error) {
	f, err := openNonBlocking(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("config: %s: %w (it is %s); point -config at the YAML file", path, ErrNotRegular, describeMode(st.Mode()))
	}
	if st.Size() > MaxFileBytes {
		return nil, fmt.Errorf("config: %s: %d bytes, more than the %d a configuration file may have", path, st.Size(), MaxFileBytes)
	}
	// One byte more than the limit tells a file that grew while it was read.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("config: %s: grew past %d bytes while being read", path, MaxFileBytes)
	}
	return data, nil
}

func describeMode(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file"
}
