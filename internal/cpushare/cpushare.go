// Package cpushare lets long work, the reload of a big rule file, share
// the CPU with the requests a server is answering meanwhile.
//
// The work calls Yield often: every few lines of YAML, every room. While
// no Begin is in force Yield does nothing, so startup and `roomgate check`
// run at full speed. Inside Begin, Yield calls runtime.Gosched once every
// slice of work, letting the goroutines that are ready run.
//
// That alone is not enough when the process has one P (one core, or
// taskset): a goroutine that calls Gosched goes to the global run queue,
// and the scheduler takes it back from there before it asks the network
// poller what is ready. The requests whose sockets became readable
// meanwhile then wait for sysmon, which polls the network every 10 ms. So
// with one P, Yield also sleeps for a moment every pollEvery: the P has
// nothing to run, polls the network, and serves the requests that are
// waiting before the work goes on.
package cpushare

import (
	"runtime"
	"slices"
	"sync/atomic"
	"time"
)

var (
	// sharing counts the Begin calls in force.
	sharing atomic.Int32
	// lastYield and lastPoll are when Yield last let others run and last
	// let the network poller run, in nanoseconds since epoch; nextPoll is
	// how much work goes by before it does again (see pollEvery).
	lastYield, lastPoll, nextPoll atomic.Int64
	epoch                         = time.Now()
)

// slice is the work Yield lets go by between two runtime.Gosched calls.
const slice = 200 * time.Microsecond

// pollEvery is the least work Yield lets go by, with one P, between two
// times it lets the network poller run: the longest a request that arrives
// then waits for the work.
//
// On a core that requests keep busy, the requests the poller finds take
// the CPU for longer than that, and more come meanwhile: the work would
// get a sliver of the CPU and a reload would take a minute. So the work
// goes on, after requests held the CPU for d, for d/4 before it polls
// again: it gets a fifth of a busy core, the requests four fifths.
//
// When no request is waiting, the poller waits a millisecond (its
// shortest wait) before the work goes on: polling every pollEvery would
// make a reload on an idle core take twice as long. So when no request
// began (see Request) while Yield slept, the time to the next poll
// doubles, up to idleEvery; the first request to come then waits that
// long at most, and the polls that follow are quick again.
const pollEvery = time.Millisecond

// idleEvery is the most work Yield lets go by between two polls.
const idleEvery = 16 * time.Millisecond

// requests counts the requests that began: see Request.
var requests atomic.Uint64

// Request tells Yield that a request began. The server calls it for every
// request; it costs one atomic add.
func Request() { requests.Add(1) }

// Requests is how many requests have begun: two calls that return the
// same count saw none begin between them.
func Requests() uint64 { return requests.Load() }

// pause is how long Yield sleeps to let the poller run: long enough that
// its timer has not fired by the time the scheduler looks for work, so
// that the scheduler gets as far as the network poller.
const pause = 20 * time.Microsecond

// Begin marks the start of work that runs beside requests; call the
// function it returns when the work ends. Calls may nest and overlap.
func Begin() (end func()) {
	sharing.Add(1)
	now := int64(time.Since(epoch))
	lastYield.Store(now)
	lastPoll.Store(now)
	nextPoll.Store(int64(pollEvery))
	return func() { sharing.Add(-1) }
}

// Yield lets the goroutines that are ready run, when a Begin is in force
// and a slice of work has gone by since it last did. Calling it costs a
// few nanoseconds otherwise.
func Yield() {
	if sharing.Load() == 0 {
		return
	}
	now := int64(time.Since(epoch))
	if now-lastYield.Load() < int64(slice) {
		return
	}
	runtime.Gosched()
	if runtime.GOMAXPROCS(0) > 1 || now-lastPoll.Load() < nextPoll.Load() {
		lastYield.Store(int64(time.Since(epoch)))
		return // with more than one P, an idle P polls the network
	}
	began := requests.Load()
	time.Sleep(pause)
	after := int64(time.Since(epoch))
	lastYield.Store(after)
	lastPoll.Store(after)
	if requests.Load() == began {
		nextPoll.Store(min(2*nextPoll.Load(), int64(idleEvery)))
		return
	}
	nextPoll.Store(max(int64(pollEvery), (after-now)/4))
}

// sortRun is how many elements SortFunc sorts, or merges, between two
// calls of Yield.
const sortRun = 1024

// SortFunc sorts s in the order cmp gives, as slices.SortFunc does. Inside
// Begin it sorts in pieces, calling Yield between them: runs of sortRun
// sorted apart, then merged pairwise. Sorting the 170,000 group patterns of
// a big rule file in one call holds the CPU for a hundred milliseconds.
// Elements that cmp finds equal may come out in any order.
func SortFunc[E any](s []E, cmp func(a, b E) int) {
	if sharing.Load() == 0 || len(s) <= sortRun {
		slices.SortFunc(s, cmp)
		return
	}
	for i := 0; i < len(s); i += sortRun {
		slices.SortFunc(s[i:min(i+sortRun, len(s))], cmp)
		Yield()
	}
	src, dst := s, make([]E, len(s))
	merged := 0
	for width := sortRun; width < len(s); width *= 2 {
		for lo := 0; lo < len(s); lo += 2 * width {
			mid, hi := min(lo+width, len(s)), min(lo+2*width, len(s))
			i, j, k := lo, mid, lo
			for ; i < mid && j < hi; k++ {
				if cmp(src[j], src[i]) < 0 {
					dst[k] = src[j]
					j++
				} else {
					dst[k] = src[i]
					i++
				}
				if merged++; merged%sortRun == 0 {
					Yield()
				}
			}
			k += copy(dst[k:], src[i:mid])
			copy(dst[k:], src[j:hi])
		}
		src, dst = dst, src
	}
	if &src[0] != &s[0] {
		copy(s, src)
	}
}
