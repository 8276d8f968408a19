package cpushare

import (
	"cmp"
	"math/rand/v2"
	"net"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// TestYieldServesWaitingConnections: with one P, a Yield inside Begin lets
// a goroutine whose connection became readable run before the work goes
// on. runtime.Gosched alone does not: the goroutine would wait for sysmon.
func TestYieldServesWaitingConnections(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()

	var served atomic.Bool
	parked := make(chan struct{})
	go func() {
		close(parked)
		var b [1]byte
		if _, err := server.Read(b[:]); err == nil {
			served.Store(true)
		}
	}()
	<-parked
	runtime.Gosched() // the reader runs on until its Read parks in the poller
	defer Begin()()
	if _, err := client.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	// A busy loop of work: the reader's socket is readable, but only the
	// poller can tell the scheduler so. Several tries, in case the machine
	// is so slow that a pause ends before the scheduler looks for work:
	// without the pause, none of them serves the reader.
	for try := 0; try < 50 && !served.Load(); try++ {
		due()
		Yield()
	}
	if !served.Load() {
		t.Fatal("the goroutine reading a readable connection did not run during Yield")
	}
}

// TestYieldOutsideBeginDoesNothing: without a Begin in force, Yield does
// not sleep, and it leaves lastPoll alone.
func TestYieldOutsideBeginDoesNothing(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	lastPoll.Store(0)
	Yield()
	if got := lastPoll.Load(); got != 0 {
		t.Fatalf("Yield outside Begin polled (lastPoll = %d)", got)
	}
	end := Begin()
	end()
	if sharing.Load() != 0 {
		t.Fatal("Begin's end did not end it")
	}
}

// TestSortFunc: inside Begin and out, SortFunc sorts as slices.SortFunc
// does, at lengths around its runs and merges.
func TestSortFunc(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sharing := range []bool{false, true} {
		for _, n := range []int{0, 1, 7, sortRun - 1, sortRun, sortRun + 1, 2*sortRun + 5, 3 * sortRun, 4*sortRun + 1, 10000} {
			s := make([]int, n)
			for i := range s {
				s[i] = rng.IntN(n/2 + 1) // with repeats
			}
			want := slices.Clone(s)
			slices.Sort(want)
			end := func() {}
			if sharing {
				end = Begin()
			}
			SortFunc(s, cmp.Compare[int])
			end()
			if !slices.Equal(s, want) {
				t.Errorf("sharing %v, %d elements: not sorted", sharing, n)
			}
		}
	}
}

// TestYieldBacksOffWhenIdle: with one P, a poll during which no request
// began doubles the work until the next one, up to idleEvery; a poll that
// served one brings it back.
func TestYieldBacksOffWhenIdle(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	defer Begin()()
	poll := func() {
		due()
		Yield()
	}
	want := int64(pollEvery)
	for range 8 {
		poll()
		want = min(2*want, int64(idleEvery))
		if got := nextPoll.Load(); got != want {
			t.Fatalf("after an idle poll: next poll in %v; want %v", time.Duration(got), time.Duration(want))
		}
	}
	var stop atomic.Bool
	defer stop.Store(true)
	go func() { // requests that come while Yield sleeps
		for !stop.Load() {
			time.Sleep(time.Microsecond)
			Request()
		}
	}()
	for try := 0; try < 50 && nextPoll.Load() == int64(idleEvery); try++ {
		poll()
	}
	if got := nextPoll.Load(); got >= int64(idleEvery) {
		t.Fatalf("after a poll that served a request: next poll in %v; want it back near %v", time.Duration(got), pollEvery)
	}
}

// due makes the next Yield poll, as if work had gone on for an hour.
func due() {
	lastYield.Store(-int64(time.Hour))
	lastPoll.Store(-int64(time.Hour))
}
