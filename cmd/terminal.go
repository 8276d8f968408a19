package cmd

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// remoteDeadline bounds a whole command's work with the Digital Samba API
// (check -remote, sync): each call gives up within 10 s, and however many
// pages an API sends, the command ends.
const remoteDeadline = 2 * time.Minute

// terminal writes text for a person's terminal. Room and role names, API
// messages, claims and config values reach it from outside, and a control
// character among them could drive the terminal: an OSC 52 sequence writes
// the clipboard, a carriage return or cursor codes rewrite the line that
// said "valid". Every control character but newline and tab is written as
// an escape (\x1b, \u009b), and so are the bidirectional overrides that
// make text read other than it is, and bytes that are not UTF-8.
type terminal struct{ w io.Writer }

func (t terminal) Write(p []byte) (int, error) {
	var b strings.Builder
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRune(p[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, p[i])
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.Write(p[i : i+size])
		}
		i += size
	}
	if _, err := io.WriteString(t.w, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}
