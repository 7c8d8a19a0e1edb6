package bench_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/bench"
	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/testfake"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// run runs cfg against a fresh fake server with the given faults.
func run(t *testing.T, f testfake.Faults, cfg bench.Config) (*bench.Result, *testfake.Server, error) {
	t.Helper()
	srv := testfake.Start(50*time.Millisecond, f)
	t.Cleanup(srv.Close)
	cfg.URL = srv.URL
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	cfg.Grace = 50 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := bench.Run(ctx, cfg)
	if res == nil {
		t.Fatal("Run returned no result")
	}
	return res, srv, err
}

func TestScenarios(t *testing.T) {
	pid := os.Getpid() // the fake runs in this process
	tests := []struct {
		name string
		cfg  bench.Config
		unit string
		ops  int64 // exact number of operations, or 0 for "some"
		pong bool  // the run lasts long enough to see pings
	}{
		{"ok, conns websocket", bench.Config{Scenario: bench.Conns, N: 60, Concurrency: 8, Settle: 150 * time.Millisecond, PID: pid}, "connections", 60, true},
		{"ok, conns polling", bench.Config{Scenario: bench.Conns, Transport: "polling", N: 20, Concurrency: 4, Settle: 150 * time.Millisecond}, "connections", 20, true},
		{"ok, echo by duration", bench.Config{Scenario: bench.Echo, C: 8, Duration: 500 * time.Millisecond, Warmup: 50 * time.Millisecond, PID: pid}, "acks", 0, true},
		{"ok, echo by count", bench.Config{Scenario: bench.Echo, C: 5, Count: 300, Payload: 16}, "acks", 300, false},
		{"ok, broadcast", bench.Config{Scenario: bench.Broadcast, N: 40, Count: 25, PID: pid}, "deliveries", 40 * 25, false},
		{"ok, broadcast over polling", bench.Config{Scenario: bench.Broadcast, Transport: "polling", N: 10, Count: 10}, "deliveries", 100, false},
		{"ok, polling echo", bench.Config{Scenario: bench.PollEcho, C: 4, Duration: 200 * time.Millisecond}, "acks", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, srv, err := run(t, testfake.Faults{}, tt.cfg)
			if err != nil {
				t.Fatalf("Run: %v (%v)", err, res.Errors)
			}
			if !res.OK || res.Lost+res.Duplicate+res.Wrong != 0 || len(res.Errors) != 0 {
				t.Fatalf("result not clean: %+v", res)
			}
			if res.Unit != tt.unit {
				t.Errorf("unit %q, want %q", res.Unit, tt.unit)
			}
			if tt.ops > 0 && res.Ops != tt.ops {
				t.Errorf("ops %d, want %d", res.Ops, tt.ops)
			}
			if res.Ops == 0 || res.Rate <= 0 || res.Latency.Samples == 0 || res.Latency.P99 < res.Latency.P50 {
				t.Errorf("implausible figures: %+v", res)
			}
			if tt.cfg.PID > 0 && res.Server == nil {
				t.Errorf("no server figures with a pid")
			}
			if tt.cfg.Scenario == bench.Conns && tt.cfg.PID > 0 && res.Server.RSSAfter == 0 {
				t.Errorf("no memory figures for conns with a pid")
			}
			if tt.pong && srv.Pongs.Load() == 0 {
				t.Errorf("the server's pings were never answered")
			}
		})
	}
}

// TestAcceptsAnotherEncoding checks that a delivery encoded otherwise than
// usual (a valid JSON escape in its payload) is decoded and accepted, not
// reported by the allocation-free check of the usual encoding.
func TestAcceptsAnotherEncoding(t *testing.T) {
	res, _, err := run(t, testfake.Faults{EscapeDeliv: 55}, bench.Config{Scenario: bench.Broadcast, N: 10, Count: 10})
	if err != nil || !res.OK || res.Ops != 100 {
		t.Fatalf("Run: %v, result %+v", err, res)
	}
}

func TestDetectsFaults(t *testing.T) {
	tests := []struct {
		name   string
		faults testfake.Faults
		cfg    bench.Config
		lost   bool
		dup    bool
		wrong  bool
	}{
		{"nok, echo ack dropped", testfake.Faults{DropAck: 37}, bench.Config{Scenario: bench.Echo, C: 4, Count: 200}, true, false, false},
		{"nok, echo ack duplicated", testfake.Faults{DuplicateAck: 37}, bench.Config{Scenario: bench.Echo, C: 4, Count: 200}, false, true, false},
		{"nok, last echo ack duplicated", testfake.Faults{DuplicateAck: 20}, bench.Config{Scenario: bench.Echo, C: 1, Count: 20}, false, true, false},
		{"nok, echo ack altered", testfake.Faults{CorruptAck: 10}, bench.Config{Scenario: bench.Echo, C: 4, Count: 200}, false, false, true},
		{"nok, polling ack dropped", testfake.Faults{DropAck: 5}, bench.Config{Scenario: bench.PollEcho, C: 2, Count: 50}, true, false, false},
		{"nok, broadcast delivery dropped", testfake.Faults{DropDelivery: 55}, bench.Config{Scenario: bench.Broadcast, N: 10, Count: 10}, true, false, false},
		{"nok, broadcast delivery duplicated", testfake.Faults{DuplicateDeliv: 55}, bench.Config{Scenario: bench.Broadcast, N: 10, Count: 10}, false, true, false},
		{"nok, last broadcast delivery duplicated", testfake.Faults{DuplicateDeliv: 100}, bench.Config{Scenario: bench.Broadcast, N: 10, Count: 10}, false, true, false},
		{"nok, broadcast delivery altered", testfake.Faults{CorruptDeliv: 55}, bench.Config{Scenario: bench.Broadcast, N: 10, Count: 10}, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Timeout = 500 * time.Millisecond
			start := time.Now()
			res, _, err := run(t, tt.faults, tt.cfg)
			if !errors.Is(err, bench.ErrCheck) {
				t.Fatalf("Run error %v, want ErrCheck; result %+v", err, res)
			}
			if res.OK || len(res.Errors) == 0 {
				t.Errorf("result claims success: %+v", res)
			}
			if (res.Lost > 0) != tt.lost || (res.Duplicate > 0) != tt.dup || (res.Wrong > 0) != tt.wrong {
				t.Errorf("lost %d, duplicate %d, wrong %d; want lost %v, dup %v, wrong %v (%v)",
					res.Lost, res.Duplicate, res.Wrong, tt.lost, tt.dup, tt.wrong, res.Errors)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("detection took %v", d)
			}
		})
	}
}

// TestDetectsEndedConnection checks that an echo run fails, naming the
// client, when the server ends a connection while a request waits for its
// ack.
func TestDetectsEndedConnection(t *testing.T) {
	for _, scenario := range []string{bench.Echo, bench.PollEcho} {
		t.Run(scenario, func(t *testing.T) {
			res, _, err := run(t, testfake.Faults{CloseOnEcho: 37}, bench.Config{Scenario: scenario, C: 4, Count: 200, Timeout: 5 * time.Second})
			if !errors.Is(err, bench.ErrCheck) || res.OK {
				t.Fatalf("Run error %v, want ErrCheck; result %+v", err, res)
			}
			if len(res.Errors) == 0 || !strings.Contains(res.Errors[0], "connection ended") {
				t.Errorf("errors %q, want one about the ended connection first", res.Errors)
			}
		})
	}
}

func TestRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  bench.Config
	}{
		{"nok, unknown scenario", bench.Config{Scenario: "nope"}},
		{"nok, too many connections", bench.Config{Scenario: bench.Conns, N: bench.MaxConns + 1}},
		{"nok, broadcast room too large", bench.Config{Scenario: bench.Broadcast, N: bench.MaxConns}},
		{"nok, unknown transport", bench.Config{Scenario: bench.Echo, Transport: "carrier-pigeon"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := bench.Run(context.Background(), tt.cfg)
			if err == nil || res.OK {
				t.Fatalf("Run accepted %+v", tt.cfg)
			}
		})
	}
}

func TestUnreachableServerFails(t *testing.T) {
	srv := testfake.Start(time.Second, testfake.Faults{})
	url := srv.URL
	srv.Close()
	res, err := bench.Run(context.Background(), bench.Config{Scenario: bench.Echo, URL: url, C: 3, Timeout: time.Second})
	if err == nil || res.OK {
		t.Fatal("Run succeeded against a closed server")
	}
}

func TestInterruptedRunFails(t *testing.T) {
	srv := testfake.Start(time.Second, testfake.Faults{})
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	res, err := bench.Run(ctx, bench.Config{Scenario: bench.Echo, URL: srv.URL, C: 2, Duration: time.Minute})
	if err == nil || res.OK {
		t.Fatalf("an interrupted run reported success: %+v", res)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not wrap the context's", err)
	}
}
