// Command cluster is the load generator of the cluster benchmark (bench/cluster/run.sh). It
// measures a cluster of Socket.IO servers that share a Redis server: one worker process per
// server (each within the open-file limit of one process) holds N members of the rooms
// r0..r<rooms-1> on its server, so that every room has members on every server; the first
// worker also holds a sender, which emits `bcast` to room k%rooms for broadcast k, at a fixed
// rate. Every member checks that it gets each broadcast to its room once, in order, and
// measures its latency from the sender's wall clock in the payload. The report gives the
// cross-node delivery latency (members on the servers other than the sender's), the
// servers' CPU time per delivery (their sum) and Redis's CPU time, from /proc.
//
// Usage:
//
//	cluster -urls http://127.0.0.1:4001,... -pids 11,12,13 -redis-pid 10 [flags]
//
// It exits with status 1 when a broadcast is lost, duplicated or altered.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/procstat"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "cluster: %v\n", err)
		os.Exit(1)
	}
}

// report is the result of one run, printed as JSON with -json.
type report struct {
	Label       string  `json:"label"`
	Load        string  `json:"load_average"`
	Servers     int     `json:"servers"`
	Connections int     `json:"connections"`
	Rooms       int     `json:"rooms"`
	Broadcasts  int     `json:"broadcasts"`
	Rate        float64 `json:"rate"`
	Deliveries  int64   `json:"deliveries"`
	Expected    int64   `json:"expected"`
	Lost        int64   `json:"lost"`
	Dups        int64   `json:"dups"`
	Wrong       int64   `json:"wrong"`
	ConnectSec  float64 `json:"connect_seconds"`
	// The latencies in milliseconds: cross-node (members not on the sender's server) and
	// same-node.
	CrossP50 float64 `json:"cross_node_p50_ms"`
	CrossP99 float64 `json:"cross_node_p99_ms"`
	SameP50  float64 `json:"same_node_p50_ms"`
	SameP99  float64 `json:"same_node_p99_ms"`
	// ServerCPU is the CPU time of the servers (their sum) during the broadcasts.
	ServerCPUSec      float64   `json:"server_cpu_seconds"`
	ServerCPUPerDelUS float64   `json:"server_cpu_us_per_delivery"`
	RedisCPUSec       float64   `json:"redis_cpu_seconds"`
	RedisCPUPercent   float64   `json:"redis_cpu_percent"`
	RedisCPUPerBcUS   float64   `json:"redis_cpu_us_per_broadcast"`
	DurationSec       float64   `json:"duration_seconds"`
	ServerRSSMiB      []float64 `json:"server_rss_mib"`
	Failures          []string  `json:"failures,omitempty"`
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	var (
		wc       workerConfig
		worker   = fs.Bool("worker", false, "run as a worker process (started by the coordinator)")
		urls     = fs.String("urls", "", "comma-separated server base URLs, one worker each")
		pids     = fs.String("pids", "", "comma-separated server process IDs, in the order of -urls")
		redisPID = fs.Int("redis-pid", 0, "the redis-server process ID")
		count    = fs.Int("count", 400, "broadcasts to send")
		rate     = fs.Float64("rate", 20, "broadcasts per second")
		label    = fs.String("label", "", "the label of the report")
		jsonOut  = fs.String("json", "", "write the report as JSON to this file")
		connWait = fs.Duration("connect-timeout", 15*time.Minute, "limit of the opening of all connections")
		load     = fs.String("load", "", "the load average of the machine before the run, kept in the report")
		freePort = fs.Bool("free-port", false, "print a free loopback port and exit")
		summary  = fs.Bool("summary", false, "print a Markdown table of the JSON reports named by the arguments and exit")
	)
	fs.StringVar(&wc.URL, "url", "", "the server of a worker")
	fs.IntVar(&wc.N, "n", 15000, "members per server")
	fs.IntVar(&wc.First, "first", 0, "the index of a worker's first member")
	fs.IntVar(&wc.Rooms, "rooms", 45, "rooms, spread over every server")
	fs.BoolVar(&wc.Sender, "sender", false, "the worker holds the sender")
	fs.IntVar(&wc.Concurrency, "concurrency", 100, "connections being opened at once, per worker")
	fs.DurationVar(&wc.Timeout, "timeout", 30*time.Second, "limit of every single wait (connect, join, the deliveries after the last send)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *freePort:
		return printFreePort()
	case *summary:
		return printSummary(os.Stdout, fs.Args())
	}
	if wc.N <= 0 || wc.Rooms <= 0 || wc.Concurrency <= 0 || *count <= 0 || *rate <= 0 {
		return errors.New("-n, -rooms, -concurrency, -count and -rate must be positive")
	}
	if *worker {
		return runWorker(ctx, wc, os.Stdin, os.Stdout)
	}
	procstat.Init()
	servers := strings.Split(*urls, ",")
	pidList, err := parsePIDs(*pids)
	if err != nil || len(pidList) != len(servers) || *urls == "" || *redisPID <= 0 {
		return errors.New("-urls, -pids (as many) and -redis-pid are required")
	}
	return coordinate(ctx, coordConfig{
		worker: wc, servers: servers, pids: pidList, redisPID: *redisPID, count: *count, rate: *rate,
		label: *label, load: *load, jsonOut: *jsonOut, connWait: *connWait,
	})
}

func parsePIDs(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad pid %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

type coordConfig struct {
	worker   workerConfig
	servers  []string
	pids     []int
	redisPID int
	count    int
	rate     float64
	label    string
	load     string
	jsonOut  string
	connWait time.Duration
}

// proc is one worker process seen from the coordinator.
type proc struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
}

func startWorker(ctx context.Context, c coordConfig, i int) (*proc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	w := c.worker
	args := []string{"-worker", "-url", c.servers[i], "-n", strconv.Itoa(w.N), "-first", strconv.Itoa(i * w.N),
		"-rooms", strconv.Itoa(w.Rooms), "-concurrency", strconv.Itoa(w.Concurrency), "-timeout", w.Timeout.String()}
	if i == 0 {
		args = append(args, "-sender")
	}
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, in: in, lines: make(chan string, 4)}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 256<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	return p, nil
}

// expect waits for the next line of p, which must start with prefix.
func (p *proc) expect(prefix string, d time.Duration) (string, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case l, ok := <-p.lines:
		if !ok {
			return "", fmt.Errorf("worker ended: %v", p.cmd.Wait())
		}
		if !strings.HasPrefix(l, prefix) {
			return "", fmt.Errorf("worker said %q, want %q", l, prefix)
		}
		return strings.TrimSpace(strings.TrimPrefix(l, prefix)), nil
	case <-t.C:
		return "", fmt.Errorf("no %q from the worker within %v", prefix, d)
	}
}

func cpuOf(pids []int) (time.Duration, error) {
	var sum time.Duration
	for _, p := range pids {
		c, err := procstat.CPU(p)
		if err != nil {
			return 0, fmt.Errorf("reading the CPU time of %d: %w", p, err)
		}
		sum += c
	}
	return sum, nil
}

func coordinate(ctx context.Context, c coordConfig) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	procs := make([]*proc, len(c.servers))
	defer func() {
		for _, p := range procs {
			if p != nil {
				_ = p.in.Close()
				_ = p.cmd.Wait()
			}
		}
	}()
	t0 := time.Now()
	for i := range c.servers {
		p, err := startWorker(ctx, c, i)
		if err != nil {
			return fmt.Errorf("starting worker %d: %w", i, err)
		}
		procs[i] = p
	}
	for i, p := range procs {
		if _, err := p.expect("ready", c.connWait-time.Since(t0)); err != nil {
			return fmt.Errorf("worker %d (%s): %w", i, c.servers[i], err)
		}
	}
	rep := report{
		Label: c.label, Load: c.load, Servers: len(c.servers), Connections: len(c.servers)*c.worker.N + 1,
		Rooms: c.worker.Rooms, Broadcasts: c.count, Rate: c.rate, ConnectSec: time.Since(t0).Seconds(),
	}
	fmt.Fprintf(os.Stderr, "cluster %s: %d connections open in %.0f s\n", c.label, rep.Connections, rep.ConnectSec)
	for _, pid := range c.pids {
		rss, err := procstat.RSS(pid)
		if err != nil {
			return fmt.Errorf("reading the memory of %d: %w", pid, err)
		}
		rep.ServerRSSMiB = append(rep.ServerRSSMiB, float64(rss)/(1<<20))
	}
	srv0, err := cpuOf(c.pids)
	if err != nil {
		return err
	}
	red0, err := cpuOf([]int{c.redisPID})
	if err != nil {
		return err
	}
	start := time.Now()
	for _, p := range procs {
		if _, err := fmt.Fprintf(p.in, "run %d %g\n", c.count, c.rate); err != nil {
			return err
		}
	}
	var cross, same []int64
	wait := time.Duration(float64(c.count)/c.rate*float64(time.Second)) + 2*c.worker.Timeout + time.Minute
	for i, p := range procs {
		line, err := p.expect("result ", wait)
		if err != nil {
			return fmt.Errorf("worker %d: %w", i, err)
		}
		var r workerResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return fmt.Errorf("worker %d: bad result: %w", i, err)
		}
		rep.Deliveries += r.Deliveries
		rep.Expected += r.Expected
		rep.Lost += r.Lost
		rep.Dups += r.Dups
		rep.Wrong += r.Wrong
		for _, f := range r.Failures {
			rep.Failures = append(rep.Failures, fmt.Sprintf("worker %d: %s", i, f))
		}
		if i == 0 {
			same = append(same, r.LatencyUS...)
		} else {
			cross = append(cross, r.LatencyUS...)
		}
	}
	// Every worker waited for its deliveries (and the sender for its acks): the servers'
	// work is done.
	rep.DurationSec = time.Since(start).Seconds()
	srv1, err := cpuOf(c.pids)
	if err != nil {
		return err
	}
	red1, err := cpuOf([]int{c.redisPID})
	if err != nil {
		return err
	}
	rep.CrossP50, rep.CrossP99 = quantileMS(cross, 0.5), quantileMS(cross, 0.99)
	rep.SameP50, rep.SameP99 = quantileMS(same, 0.5), quantileMS(same, 0.99)
	rep.ServerCPUSec = (srv1 - srv0).Seconds()
	rep.RedisCPUSec = (red1 - red0).Seconds()
	if rep.Deliveries > 0 {
		rep.ServerCPUPerDelUS = float64((srv1 - srv0).Microseconds()) / float64(rep.Deliveries)
	}
	rep.RedisCPUPercent = 100 * rep.RedisCPUSec / rep.DurationSec
	rep.RedisCPUPerBcUS = float64((red1 - red0).Microseconds()) / float64(c.count)
	printReport(os.Stdout, &rep)
	if c.jsonOut != "" {
		b, err := json.MarshalIndent(&rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(c.jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if rep.Lost > 0 || rep.Dups > 0 || rep.Wrong > 0 || rep.Deliveries != rep.Expected || len(rep.Failures) > 0 {
		return fmt.Errorf("%s: %d of %d deliveries, %d lost, %d duplicated, %d wrong; %s",
			c.label, rep.Deliveries, rep.Expected, rep.Lost, rep.Dups, rep.Wrong, strings.Join(first(rep.Failures, 5), "; "))
	}
	return nil
}

func first(s []string, n int) []string { return s[:min(n, len(s))] }

// quantileMS returns the q-quantile of latencies in microseconds, in milliseconds.
func quantileMS(us []int64, q float64) float64 {
	if len(us) == 0 {
		return 0
	}
	slices.Sort(us)
	i := min(int(q*float64(len(us))), len(us)-1)
	return float64(us[i]) / 1000
}

func printReport(w io.Writer, r *report) {
	fmt.Fprintf(w, "%s: %d servers, %d connections (opened in %.0f s), %d rooms, %d broadcasts at %g/s\n",
		r.Label, r.Servers, r.Connections, r.ConnectSec, r.Rooms, r.Broadcasts, r.Rate)
	fmt.Fprintf(w, "  deliveries %d of %d (lost %d, duplicated %d, wrong %d) in %.1f s\n",
		r.Deliveries, r.Expected, r.Lost, r.Dups, r.Wrong, r.DurationSec)
	fmt.Fprintf(w, "  latency cross-node p50 %.2f ms p99 %.2f ms; same-node p50 %.2f ms p99 %.2f ms\n",
		r.CrossP50, r.CrossP99, r.SameP50, r.SameP99)
	fmt.Fprintf(w, "  server CPU %.1f s (%.2f µs per delivery); redis CPU %.2f s (%.1f%%, %.0f µs per broadcast)\n",
		r.ServerCPUSec, r.ServerCPUPerDelUS, r.RedisCPUSec, r.RedisCPUPercent, r.RedisCPUPerBcUS)
	fmt.Fprintf(w, "  server RSS MiB %.0f\n", r.ServerRSSMiB)
}
