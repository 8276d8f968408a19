//go:build load

package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// result is one measured run against one target.
type result struct {
	Requests int64
	Elapsed  time.Duration
	P50, P99 time.Duration
	// Max is the slowest answer (wrk only; the summary of rounds keeps
	// the slowest of all).
	Max time.Duration
	// Failed counts answers that were not a 302 into the room, and
	// transport errors.
	Failed int64
	// FirstFailure describes one failure, for the report.
	FirstFailure string
	// CPU is the CPU time this process used during the run.
	CPU time.Duration
}

// cpuPerRequest is CPU in microseconds per request.
func (r result) cpuPerRequest() float64 {
	return float64(r.CPU.Microseconds()) / float64(max(r.Requests, 1))
}

func (r result) RPS() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

func (r result) String() string {
	return fmt.Sprintf("%8.0f req/s  p50 %8v  p99 %8v  max %8v  (%d requests, %d failed)",
		r.RPS(), r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Max.Round(time.Microsecond), r.Requests, r.Failed)
}

// load is one run: conns keep-alive connections to addr, each sending GET
// path with header lines, for d. An answer counts as good only when it is a
// 302 whose Location starts with wantLocation.
type load struct {
	addr         string
	path         string
	header       string // extra header lines, each ending in \r\n
	wantLocation string
	conns        int
	d            time.Duration
}

// generator runs a load and measures it.
type generator interface {
	run(ctx context.Context, l load) (result, error)
	name() string
}

// goGenerator is a lean HTTP/1.1 client: one goroutine per connection,
// requests written from a prepared buffer, responses parsed just enough to
// check status and Location and skip the body.
type goGenerator struct{}

func (goGenerator) name() string { return "go" }

func (goGenerator) run(ctx context.Context, l load) (result, error) {
	req := []byte("GET " + l.path + " HTTP/1.1\r\nHost: " + l.addr + "\r\nUser-Agent: roomgate-loadtest\r\n" + l.header + "\r\n")
	ctx, cancel := context.WithTimeout(ctx, l.d)
	defer cancel()
	type connResult struct {
		lat    []time.Duration
		failed int64
		first  string
		err    error
	}
	out := make([]connResult, l.conns)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range l.conns {
		wg.Add(1)
		go func(cr *connResult) {
			defer wg.Done()
			conn, err := net.Dial("tcp", l.addr)
			if err != nil {
				cr.err = err
				return
			}
			defer conn.Close()
			go func() { <-ctx.Done(); conn.SetDeadline(time.Now()) }()
			br := bufio.NewReaderSize(conn, 16<<10)
			cr.lat = make([]time.Duration, 0, 1<<16)
			for ctx.Err() == nil {
				t0 := time.Now()
				if _, err := conn.Write(req); err != nil {
					if ctx.Err() == nil {
						cr.failed++
						cr.first = "write: " + err.Error()
					}
					return
				}
				status, loc, err := readResponse(br)
				if err != nil {
					if ctx.Err() == nil {
						cr.failed++
						cr.first = "read: " + err.Error()
					}
					return
				}
				cr.lat = append(cr.lat, time.Since(t0))
				if status != 302 || !strings.HasPrefix(loc, l.wantLocation) {
					cr.failed++
					if cr.first == "" {
						cr.first = fmt.Sprintf("status %d, Location %.120q", status, loc)
					}
				}
			}
		}(&out[i])
	}
	wg.Wait()
	res := result{Elapsed: time.Since(start)}
	var all []time.Duration
	for _, cr := range out {
		if cr.err != nil {
			return res, cr.err
		}
		all = append(all, cr.lat...)
		res.Failed += cr.failed
		if res.FirstFailure == "" {
			res.FirstFailure = cr.first
		}
	}
	res.Requests = int64(len(all))
	slices.Sort(all)
	if len(all) > 0 {
		res.P50 = all[len(all)*50/100]
		res.P99 = all[len(all)*99/100]
	}
	return res, nil
}

// readResponse reads one response, returning its status and Location and
// discarding its body (Content-Length only: the gateway and the bare
// handler never chunk a redirect).
func readResponse(br *bufio.Reader) (status int, location string, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, "", err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, "", fmt.Errorf("bad status line %q", line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, "", err
	}
	length := 0
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return 0, "", err
		}
		if len(line) <= 2 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			length, err = strconv.Atoi(string(v))
			if err != nil {
				return 0, "", err
			}
		case bytes.EqualFold(k, []byte("Location")):
			location = string(v)
		}
	}
	if _, err := br.Discard(length); err != nil {
		return 0, "", err
	}
	return status, location, nil
}

// wrkGenerator runs Debian's wrk, with a Lua script that counts every
// answer that is not a 302 into the room.
type wrkGenerator struct {
	path    string // the wrk binary
	threads int
	cpus    string // when set, wrk runs pinned to these CPUs (taskset -c)
}

func (wrkGenerator) name() string { return "wrk" }

// wrkScript only reports; the answers are checked by the server side (see
// checked), since a Lua response callback costs wrk more CPU per request
// than the bare handler costs the server, and on a shared machine that CPU
// would be taken from the server being measured.
const wrkScript = `
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("roomgate-failed: %d %d %d %d %d\n", e.status, e.connect, e.read, e.write, e.timeout))
  io.write(string.format("roomgate-latency-us: %d %d %d\n", latency:percentile(50), latency:percentile(99), latency.max))
  io.write(string.format("roomgate-requests: %d %d\n", summary.requests, summary.duration))
end
`

var (
	wrkFailed  = regexp.MustCompile(`roomgate-failed: (\d+) (\d+) (\d+) (\d+) (\d+)`)
	wrkLatency = regexp.MustCompile(`roomgate-latency-us: (\d+) (\d+) (\d+)`)
	wrkCount   = regexp.MustCompile(`roomgate-requests: (\d+) (\d+)`)
)

func (g wrkGenerator) run(ctx context.Context, l load) (result, error) {
	dir, err := os.MkdirTemp("", "roomgate-wrk")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "check.lua")
	if err := os.WriteFile(script, []byte(wrkScript), 0o600); err != nil {
		return result{}, err
	}
	args := []string{
		"-t", strconv.Itoa(g.threads), "-c", strconv.Itoa(l.conns),
		"-d", fmt.Sprintf("%ds", max(1, int(l.d.Round(time.Second).Seconds()))), "--timeout", "5s", "-s", script,
	}
	for _, h := range strings.Split(strings.TrimSpace(l.header), "\r\n") {
		if h != "" {
			args = append(args, "-H", h)
		}
	}
	args = append(args, "http://"+l.addr+l.path)
	cmd := exec.CommandContext(ctx, g.path, args...)
	if g.cpus != "" {
		cmd = exec.CommandContext(ctx, "taskset", append([]string{"-c", g.cpus, g.path}, args...)...)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %v: %s%s", err, stderr.String(), outb)
	}
	out := string(outb)
	m, lm, cm := wrkFailed.FindStringSubmatch(out), wrkLatency.FindStringSubmatch(out), wrkCount.FindStringSubmatch(out)
	if m == nil || lm == nil || cm == nil {
		return result{}, errors.New("wrk: no summary in its output:\n" + out)
	}
	var res result
	for _, s := range m[1:] {
		n, _ := strconv.ParseInt(s, 10, 64)
		res.Failed += n
	}
	if res.Failed > 0 {
		res.FirstFailure = "wrk errors (status>=400 connect read write timeout): " + strings.Join(m[1:], " ")
	}
	p50, _ := strconv.ParseInt(lm[1], 10, 64)
	p99, _ := strconv.ParseInt(lm[2], 10, 64)
	slowest, _ := strconv.ParseInt(lm[3], 10, 64)
	res.P50, res.P99 = time.Duration(p50)*time.Microsecond, time.Duration(p99)*time.Microsecond
	res.Max = time.Duration(slowest) * time.Microsecond
	res.Requests, _ = strconv.ParseInt(cm[1], 10, 64)
	us, _ := strconv.ParseInt(cm[2], 10, 64)
	res.Elapsed = time.Duration(us) * time.Microsecond
	return res, nil
}

// median is the middle of values (the lower middle for an even count).
func median(values []time.Duration) time.Duration {
	s := slices.Clone(values)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}
