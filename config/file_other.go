//go:build !unix

package config

import "os"

// openNonBlocking opens path for reading; outside Unix there are no FIFOs
// to block on in the file system.
func openNonBlocking(path string) (*os.File, error) { return os.Open(path) }
