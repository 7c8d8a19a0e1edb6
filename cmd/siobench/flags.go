package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/bench"
)

// options are the parsed command line.
type options struct {
	cfg        bench.Config
	json       bool
	verbose    bool
	cpuprofile string
}

// parseFlags reads "[scenario] [flags]" or "[flags]" with -scenario. Usage
// errors are printed on stderr.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	scenario := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		scenario, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("siobench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &o.cfg
	fs.StringVar(&c.Scenario, "scenario", scenario, "scenario: "+strings.Join(bench.Scenarios, ", ")+" (may also be given as the first argument)")
	fs.StringVar(&c.URL, "url", "http://127.0.0.1:3001", "server base URL")
	fs.StringVar(&c.Path, "path", "/socket.io/", "Socket.IO endpoint path")
	fs.StringVar(&c.Transport, "transport", "websocket", "transport for conns, echo and broadcast: websocket or polling (the polling scenario always uses polling)")
	fs.IntVar(&c.N, "n", 1000, "connections (conns) or room members (broadcast)")
	fs.IntVar(&c.C, "c", 100, "closed-loop clients (echo, polling)")
	fs.IntVar(&c.Concurrency, "concurrency", 100, "connections being opened at once")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "measurement length (echo, polling) when -count is 0")
	fs.DurationVar(&c.Warmup, "warmup", 0, "time to run before measuring (echo, polling)")
	fs.IntVar(&c.Count, "count", 0, "acks to measure (echo, polling; overrides -duration) or broadcasts to send (broadcast, default 200)")
	fs.IntVar(&c.Payload, "payload", 64, "payload size in bytes")
	fs.IntVar(&c.PID, "pid", 0, "server process id, to measure its CPU time and memory from /proc")
	fs.DurationVar(&c.Timeout, "timeout", 10*time.Second, "limit of every single wait (connect, ack, the deliveries of one broadcast)")
	fs.DurationVar(&c.Settle, "settle", 5*time.Second, "how long conns holds the connections before reading the server's memory")
	fs.DurationVar(&c.Grace, "grace", 250*time.Millisecond, "how long to keep listening for late duplicates after the last message")
	fs.StringVar(&c.Room, "room", "bench", "room joined by the broadcast members")
	fs.BoolVar(&o.json, "json", false, "print the result as one JSON object instead of a table")
	fs.BoolVar(&o.verbose, "v", false, "print progress on stderr")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write siobench's own CPU profile to this file")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: siobench [%s] [flags]\n\n", strings.Join(bench.Scenarios, "|"))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "siobench: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return o, errors.New("unexpected argument")
	}
	if c.Scenario == "" {
		fmt.Fprintln(stderr, "siobench: no scenario given")
		fs.Usage()
		return o, errors.New("no scenario")
	}
	known := false
	for _, s := range bench.Scenarios {
		known = known || s == c.Scenario
	}
	if !known {
		fmt.Fprintf(stderr, "siobench: unknown scenario %q\n", c.Scenario)
		fs.Usage()
		return o, errors.New("unknown scenario")
	}
	return o, nil
}
