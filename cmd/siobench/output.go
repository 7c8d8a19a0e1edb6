package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"text/tabwriter"

	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/bench"
	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/procstat"
)

// gcPercent is siobench's garbage collection target (GOGC) unless the
// environment sets one.
const gcPercent = 400

// execute runs the configured scenario, prints its result on stdout and any
// failure on stderr, and returns the exit status.
func execute(ctx context.Context, o options, stdout, stderr io.Writer) int {
	procstat.Init()
	if os.Getenv("GOGC") == "" {
		// The load generator's heap is small (its per-message paths do not
		// allocate, but net/http's polling requests do), so collecting
		// less often costs little memory and leaves more of its core to
		// the load.
		debug.SetGCPercent(gcPercent)
	}
	if lim, err := procstat.RaiseFileLimit(); err != nil {
		fail(stderr, "raising the descriptor limit (now %d): %v", lim, err)
	}
	if o.verbose {
		o.cfg.Log = stderr
	}
	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			fail(stderr, "%v", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(stderr, "starting the CPU profile: %v", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	res, err := bench.Run(ctx, o.cfg)
	if o.json {
		enc := json.NewEncoder(stdout)
		if e := enc.Encode(res); e != nil {
			fail(stderr, "writing JSON: %v", e)
			return 1
		}
	} else {
		printTable(stdout, res)
	}
	if err != nil {
		fail(stderr, "FAILED: %v", err)
		for _, m := range res.Errors {
			fail(stderr, "  %s", m)
		}
		return 1
	}
	return 0
}

// printTable prints a human-readable summary of res.
func printTable(w io.Writer, r *bench.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) {
		fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, args...))
	}
	row("scenario", "%s (%s) %s", r.Scenario, r.Transport, r.URL)
	row("connections", "%d", r.Connections)
	if r.Scenario != bench.Conns {
		row("payload", "%d B", r.Payload)
	}
	if r.Broadcasts > 0 {
		row("broadcasts", "%d", r.Broadcasts)
	}
	row(r.Unit, "%d in %.3f s", r.Ops, r.Elapsed)
	row("rate", "%.0f %s/s", r.Rate, r.Unit)
	l := r.Latency
	row("latency", "p50 %.3f ms  p99 %.3f ms  max %.3f ms  mean %.3f ms  (%d samples)", l.P50, l.P99, l.Max, l.Mean, l.Samples)
	if s := r.Server; s != nil {
		row("server cpu", "%.3f s (%.0f%% of a core), %.2f µs per %s", s.CPUSeconds, 100*s.CPUUtil, s.CPUPerOpMicros, singular(r.Unit))
		if s.RSSAfter > 0 {
			row("server rss", "%.1f MiB before, %.1f MiB after, %.2f KiB per connection",
				float64(s.RSSBefore)/(1<<20), float64(s.RSSAfter)/(1<<20), s.MemPerConn/1024)
		}
	}
	row("client cpu", "%.3f s (%.0f%% of a core, GOMAXPROCS %d)", r.Client.CPUSeconds, 100*r.Client.CPUUtil, r.Client.GOMAXPROCS)
	row("checks", "%d lost, %d duplicated, %d wrong", r.Lost, r.Duplicate, r.Wrong)
	result := "OK"
	if !r.OK {
		result = "FAILED"
	}
	row("result", "%s", result)
	tw.Flush()
}

func singular(unit string) string {
	switch unit {
	case "connections":
		return "connection"
	case "acks":
		return "ack"
	case "deliveries":
		return "delivery"
	}
	return unit
}
