package jsonlog

import (
	"io"
	"runtime"
	"sync"
)

// GroupWriter writes to an io.Writer in group commits: the bytes of every
// Write waiting at the moment go out in one write of the underlying
// writer, and each Write returns only once its bytes are written. For a
// log file, that keeps the promise of one write per line (when a Write
// returns, its line is in the kernel, and a crash cannot lose it) at the
// cost of one write(2) for the lines of all the requests running together.
//
// The first Write to find no write under way leads: it yields once, so
// that requests ready to run can add their lines, then writes them all.
// Writes that come while it writes form the next group, which one of them
// leads. Bytes of one Write are never split between groups.
type GroupWriter struct {
	w io.Writer

	mu      sync.Mutex
	cond    sync.Cond
	open    *group   // the group Writes join; nil until the first
	spare   []*group // written groups no Write waits on any more, for reuse
	writing bool
}

// group is the bytes of the Writes that go out in one write.
type group struct {
	buf     []byte
	err     error
	written bool
	waiting int // Writes that joined and have not returned
}

// NewGroupWriter returns a GroupWriter writing to w.
func NewGroupWriter(w io.Writer) *GroupWriter {
	g := &GroupWriter{w: w}
	g.cond.L = &g.mu
	return g
}

// Write writes p, with the bytes of the Writes running with it, and
// returns when they are written. It returns the error of that write.
func (g *GroupWriter) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open == nil {
		g.open = g.newGroup()
	}
	me := g.open
	me.buf = append(me.buf, p...)
	me.waiting++
	for !me.written {
		if g.writing {
			g.cond.Wait()
			continue
		}
		g.writing = true
		g.mu.Unlock()
		runtime.Gosched() // let the requests that are ready add their lines
		g.mu.Lock()
		g.open = g.newGroup()
		g.mu.Unlock()
		_, err := g.w.Write(me.buf)
		g.mu.Lock()
		me.err, me.written = err, true
		g.writing = false
		g.cond.Broadcast()
	}
	err := me.err
	if me.waiting--; me.waiting == 0 && len(g.spare) < maxSpare && cap(me.buf) <= maxSpareBytes {
		g.spare = append(g.spare, me)
	}
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// maxSpare is how many written groups a GroupWriter keeps for reuse. A
// group becomes spare once its last Write returns, which is often after
// the next group was opened, and sometimes after the one after that; the
// groups that come while none is spare grow a buffer from nothing.
// A group whose buffer grew past maxSpareBytes (a burst of long lines) is
// left to the collector.
const (
	maxSpare      = 4
	maxSpareBytes = 64 << 10
)

// newGroup is an empty group, reusing a spare one's memory.
func (g *GroupWriter) newGroup() *group {
	n := len(g.spare)
	if n == 0 {
		return &group{}
	}
	s := g.spare[n-1]
	g.spare = g.spare[:n-1]
	*s = group{buf: s.buf[:0]}
	return s
}
