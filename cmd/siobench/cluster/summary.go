package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
)

// printFreePort prints a loopback port that was free a moment ago.
func printFreePort() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	return nil
}

// printSummary prints one Markdown table of the reports in files.
func printSummary(w io.Writer, files []string) error {
	fmt.Fprintln(w, "| cluster | connections | broadcasts | deliveries | cross-node p50 | cross-node p99 | same-node p50 | server CPU per delivery (3 servers) | Redis CPU | server RSS (MiB) | load average |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var r report
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		rss := make([]string, len(r.ServerRSSMiB))
		for i, m := range r.ServerRSSMiB {
			rss[i] = fmt.Sprintf("%.0f", m)
		}
		fmt.Fprintf(w, "| %s | %d | %d at %g/s | %d of %d | %.1f ms | %.1f ms | %.1f ms | %.1f µs | %.1f%% (%.0f µs per broadcast) | %s | %s |\n",
			r.Label, r.Connections, r.Broadcasts, r.Rate, r.Deliveries, r.Expected, r.CrossP50, r.CrossP99, r.SameP50,
			r.ServerCPUPerDelUS, r.RedisCPUPercent, r.RedisCPUPerBcUS, strings.Join(rss, ", "), r.Load)
	}
	return nil
}
