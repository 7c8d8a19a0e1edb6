// Package bench runs siobench's load scenarios against a server that
// implements the benchmark contract on namespace "/":
//
//   - event "echo" acknowledges its arguments back unchanged;
//   - event "join" (room) joins the room and acknowledges;
//   - event "bcast" (room, payload) emits "bcast" (payload) to the room and
//     acknowledges.
//
// Every scenario checks what it receives: each payload carries a sequence
// id, and a lost, duplicated or wrong message makes the scenario fail.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/client"
	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/procstat"
)

// Scenario names accepted by Run.
const (
	Conns     = "conns"
	Echo      = "echo"
	Broadcast = "broadcast"
	PollEcho  = "polling"
)

// Scenarios lists the scenario names in the order they are documented.
var Scenarios = []string{Conns, Echo, Broadcast, PollEcho}

// MaxConns is the largest number of connections one siobench process opens.
// The machines it runs on allow about 20,000 descriptors per process; larger
// tests need several processes.
const MaxConns = 18000

// ErrCheck is wrapped by the error Run returns when the server lost,
// duplicated or altered a message.
var ErrCheck = errors.New("bench: correctness check failed")

// Config holds the parameters of a run. Zero values mean the documented
// defaults, filled in by Defaults.
type Config struct {
	// Scenario is one of Conns, Echo, Broadcast or PollEcho.
	Scenario string
	// URL is the server's base URL, such as http://127.0.0.1:3001.
	URL string
	// Path is the Socket.IO endpoint path.
	Path string
	// Transport is client.WebSocket or client.Polling; PollEcho forces
	// polling.
	Transport string
	// N is the number of connections for Conns and the number of room
	// members for Broadcast.
	N int
	// C is the number of closed-loop clients for Echo and PollEcho.
	C int
	// Concurrency bounds how many connections are being opened at once.
	Concurrency int
	// Duration is how long Echo and PollEcho measure when Count is zero.
	Duration time.Duration
	// Warmup is how long Echo and PollEcho run before measuring.
	Warmup time.Duration
	// Count is the number of acknowledgements for Echo and PollEcho (it
	// overrides Duration when positive) and the number of broadcasts for
	// Broadcast.
	Count int
	// Payload is the size in bytes of each payload string.
	Payload int
	// PID is the server's process id; when positive its CPU time and memory
	// are measured.
	PID int
	// Timeout bounds every single wait: a connection, an acknowledgement,
	// the deliveries of one broadcast.
	Timeout time.Duration
	// Settle is how long Conns holds the connections before reading the
	// server's memory.
	Settle time.Duration
	// Grace is how long a scenario keeps listening after its last message
	// to catch late duplicates.
	Grace time.Duration
	// Room is the room the Broadcast members join.
	Room string
	// Log receives progress messages; nil discards them.
	Log io.Writer
}

// Defaults returns c with every zero field set to its default.
func (c Config) Defaults() Config {
	if c.URL == "" {
		c.URL = "http://127.0.0.1:3001"
	}
	if c.Path == "" {
		c.Path = client.DefaultPath
	}
	if c.Transport == "" {
		c.Transport = client.WebSocket
	}
	if c.Scenario == PollEcho {
		c.Transport = client.Polling
	}
	if c.N <= 0 {
		c.N = 1000
	}
	if c.C <= 0 {
		c.C = 100
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 100
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Count <= 0 && c.Scenario == Broadcast {
		c.Count = 200
	}
	if c.Payload <= 0 {
		c.Payload = 64
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Settle < 0 {
		c.Settle = 0
	}
	if c.Grace <= 0 {
		c.Grace = 250 * time.Millisecond
	}
	if c.Room == "" {
		c.Room = "bench"
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return c
}

// validate reports a configuration that cannot run.
func (c Config) validate() error {
	conns := 0
	switch c.Scenario {
	case Conns:
		conns = c.N
	case Broadcast:
		conns = c.N + 1
	case Echo, PollEcho:
		conns = c.C
	default:
		return fmt.Errorf("bench: unknown scenario %q (want one of %v)", c.Scenario, Scenarios)
	}
	if conns > MaxConns {
		return fmt.Errorf("bench: %d connections exceed the %d a single process may open; run several processes", conns, MaxConns)
	}
	if c.Transport != client.WebSocket && c.Transport != client.Polling {
		return fmt.Errorf("bench: unknown transport %q", c.Transport)
	}
	return nil
}

// Latency summarizes a set of latencies in milliseconds.
type Latency struct {
	Samples int     `json:"samples"`
	P50     float64 `json:"p50"`
	P99     float64 `json:"p99"`
	Max     float64 `json:"max"`
	Mean    float64 `json:"mean"`
}

// ServerStats is what was measured on the server process.
type ServerStats struct {
	PID int `json:"pid"`
	// CPUSeconds is the server's user+system CPU time during the
	// measurement.
	CPUSeconds float64 `json:"cpu_s"`
	// CPUPerOpMicros is CPUSeconds divided by Result.Ops, in microseconds.
	CPUPerOpMicros float64 `json:"cpu_us_per_op"`
	// CPUUtil is CPUSeconds divided by the elapsed time: 1.0 is one core.
	CPUUtil float64 `json:"cpu_util"`
	// RSSBefore and RSSAfter are the resident set sizes in bytes before
	// connecting and after the settle period (Conns only).
	RSSBefore int64 `json:"rss_before_bytes,omitempty"`
	RSSAfter  int64 `json:"rss_after_bytes,omitempty"`
	// MemPerConn is (RSSAfter-RSSBefore)/N in bytes (Conns only).
	MemPerConn float64 `json:"mem_per_conn_bytes,omitempty"`
}

// ClientStats is what the load generator measured on itself, so that a run
// limited by the client is visible.
type ClientStats struct {
	CPUSeconds float64 `json:"cpu_s"`
	// CPUUtil is CPUSeconds divided by the elapsed time; close to
	// GOMAXPROCS means the client was the bottleneck.
	CPUUtil    float64 `json:"cpu_util"`
	GOMAXPROCS int     `json:"gomaxprocs"`
}

// Result is the outcome of one run, printed as a table or as JSON.
type Result struct {
	Scenario  string `json:"scenario"`
	Transport string `json:"transport"`
	URL       string `json:"url"`
	// Connections is the number of connections the scenario held.
	Connections int `json:"connections"`
	Payload     int `json:"payload_bytes"`
	// Broadcasts is the number of broadcasts sent (Broadcast only).
	Broadcasts int `json:"broadcasts,omitempty"`
	// Elapsed is the length of the measurement in seconds.
	Elapsed float64 `json:"elapsed_s"`
	// Unit names what Ops counts: connections, acks or deliveries.
	Unit string `json:"unit"`
	Ops  int64  `json:"ops"`
	// Rate is Ops per second.
	Rate float64 `json:"rate_per_s"`
	// Latency is the connect latency (Conns), the round trip of an
	// acknowledgement (Echo, PollEcho), or the time from sending a
	// broadcast to its last delivery (Broadcast).
	Latency   Latency      `json:"latency_ms"`
	Server    *ServerStats `json:"server,omitempty"`
	Client    ClientStats  `json:"client"`
	Lost      int64        `json:"lost"`
	Duplicate int64        `json:"duplicate"`
	Wrong     int64        `json:"wrong"`
	Errors    []string     `json:"errors,omitempty"`
	OK        bool         `json:"ok"`
}

// Run executes the scenario described by cfg. It always returns a Result;
// the error is non-nil when the run could not complete or a correctness
// check failed (then it wraps ErrCheck).
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.Defaults()
	res := &Result{
		Scenario:  cfg.Scenario,
		Transport: cfg.Transport,
		URL:       cfg.URL,
		Payload:   cfg.Payload,
	}
	if err := cfg.validate(); err != nil {
		res.Errors = []string{err.Error()}
		return res, err
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chk := &checker{cancel: cancel}
	r := &runner{cfg: cfg, res: res, chk: chk}
	if cfg.Transport == client.Polling {
		r.httpTransport = &http.Transport{
			MaxIdleConns:        0,
			MaxIdleConnsPerHost: 2*max(cfg.N, cfg.C) + 16,
			IdleConnTimeout:     90 * time.Second,
		}
		r.hc = &http.Client{Transport: r.httpTransport}
		defer r.httpTransport.CloseIdleConnections()
	}
	if cfg.Transport == client.WebSocket {
		p, err := client.NewPoller()
		if err != nil {
			res.Errors = []string{err.Error()}
			return res, fmt.Errorf("bench: %w", err)
		}
		defer p.Close()
		r.poller = p
	}
	var err error
	switch cfg.Scenario {
	case Conns:
		err = r.conns(ctx)
	case Echo, PollEcho:
		err = r.echo(ctx)
	case Broadcast:
		err = r.broadcast(ctx)
	}
	if err == nil && parent.Err() != nil {
		err = fmt.Errorf("bench: run interrupted: %w", parent.Err())
	}
	res.Lost, res.Duplicate, res.Wrong = chk.lost.Load(), chk.dup.Load(), chk.wrong.Load()
	res.Errors = append(res.Errors, chk.messages()...)
	if err == nil && chk.failed() {
		err = fmt.Errorf("%w: %d lost, %d duplicated, %d wrong", ErrCheck, res.Lost, res.Duplicate, res.Wrong)
	}
	if err != nil && len(res.Errors) == 0 {
		res.Errors = []string{err.Error()}
	}
	res.OK = err == nil
	return res, err
}

// runner carries the state shared by the scenarios of one run.
type runner struct {
	cfg           Config
	res           *Result
	chk           *checker
	hc            *http.Client
	httpTransport *http.Transport
	poller        *client.Poller // reads every WebSocket connection of the run
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.cfg.Log, "siobench: "+format+"\n", args...)
}

func (r *runner) clientConfig() client.Config {
	return client.Config{
		URL:        r.cfg.URL,
		Path:       r.cfg.Path,
		Transport:  r.cfg.Transport,
		Timeout:    r.cfg.Timeout,
		HTTPClient: r.hc,
		Poller:     r.poller,
	}
}

// meter samples the server's and the client's CPU time around a
// measurement.
type meter struct {
	pid       int
	start     time.Time
	server0   time.Duration
	self0     time.Duration
	serverErr error
	procs     int
}

func startMeter(pid int) *meter {
	m := &meter{pid: pid, procs: runtime.GOMAXPROCS(0)}
	if pid > 0 {
		m.server0, m.serverErr = procstat.CPU(pid)
	}
	m.self0 = procstat.SelfCPU()
	m.start = time.Now()
	return m
}

// stop fills res.Elapsed, res.Rate, res.Client and res.Server from the
// samples and res.Ops.
func (m *meter) stop(res *Result) error {
	elapsed := time.Since(m.start)
	self := procstat.SelfCPU() - m.self0
	res.Elapsed = elapsed.Seconds()
	if res.Elapsed > 0 {
		res.Rate = float64(res.Ops) / res.Elapsed
	}
	res.Client = ClientStats{
		CPUSeconds: self.Seconds(),
		CPUUtil:    self.Seconds() / res.Elapsed,
		GOMAXPROCS: m.procs,
	}
	if m.pid <= 0 {
		return nil
	}
	if m.serverErr != nil {
		return fmt.Errorf("bench: reading the server's CPU time: %w", m.serverErr)
	}
	cpu, err := procstat.CPU(m.pid)
	if err != nil {
		return fmt.Errorf("bench: reading the server's CPU time: %w", err)
	}
	d := cpu - m.server0
	if res.Server == nil {
		res.Server = &ServerStats{PID: m.pid}
	}
	res.Server.CPUSeconds = d.Seconds()
	res.Server.CPUUtil = d.Seconds() / res.Elapsed
	if res.Ops > 0 {
		res.Server.CPUPerOpMicros = float64(d.Microseconds()) / float64(res.Ops)
	}
	return nil
}

// checker counts correctness failures and keeps the first messages. The
// first failure cancels the run.
type checker struct {
	lost, dup, wrong atomic.Int64
	cancel           context.CancelFunc
	mu               sync.Mutex
	msgs             []string
}

const maxMessages = 20

func (k *checker) report(counter *atomic.Int64, n int64, format string, args ...any) {
	counter.Add(n)
	k.mu.Lock()
	if len(k.msgs) < maxMessages {
		k.msgs = append(k.msgs, fmt.Sprintf(format, args...))
	}
	k.mu.Unlock()
	k.cancel()
}

// Lost records n messages that never arrived.
func (k *checker) Lost(n int64, format string, args ...any) {
	k.report(&k.lost, n, "lost: "+format, args...)
}

// Dup records a message that arrived more than once.
func (k *checker) Dup(format string, args ...any) {
	k.report(&k.dup, 1, "duplicate: "+format, args...)
}

// Wrong records a message with unexpected content.
func (k *checker) Wrong(format string, args ...any) {
	k.report(&k.wrong, 1, "wrong: "+format, args...)
}

// Fail records an error that is not about message content, such as a
// connection that dropped.
func (k *checker) Fail(format string, args ...any) {
	k.report(&k.wrong, 0, format, args...)
}

func (k *checker) failed() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.msgs) > 0
}

func (k *checker) messages() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.msgs...)
}

// summarize computes the latency summary of samples, in place.
func summarize(samples []time.Duration) Latency {
	if len(samples) == 0 {
		return Latency{}
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	var sum time.Duration
	for _, s := range samples {
		sum += s
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return Latency{
		Samples: len(samples),
		P50:     ms(percentile(samples, 50)),
		P99:     ms(percentile(samples, 99)),
		Max:     ms(samples[len(samples)-1]),
		Mean:    ms(sum / time.Duration(len(samples))),
	}
}

// percentile returns the nearest-rank percentile p of sorted samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return sorted[rank]
}

// sleep waits for d or until ctx is done, and reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
