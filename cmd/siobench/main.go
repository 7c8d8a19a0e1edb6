// Command siobench is a load generator for Socket.IO v4 servers. It speaks
// Engine.IO v4 and Socket.IO v5 itself, over WebSocket or HTTP long-polling,
// and measures connection, echo and broadcast scenarios against any server
// that implements the benchmark contract (see package bench). It checks every
// message and exits with status 1 when one is lost, duplicated or wrong.
//
// Usage:
//
//	siobench [scenario] [flags]
//
// where scenario is conns, echo, broadcast or polling. Run siobench -h for
// the flags.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes siobench with the given arguments and returns the process
// exit status: 0 on success, 1 when the run failed, 2 on a usage error.
func run(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts, err := parseFlags(args, os.Stderr)
	if err != nil {
		return 2
	}
	return execute(ctx, opts, os.Stdout, os.Stderr)
}

// fail prints a message on stderr in the tool's format.
func fail(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "siobench: "+format+"\n", args...)
}
