package procstat_test

import (
	"os"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/procstat"
)

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name  string
		stat  string
		ticks int
		want  time.Duration
		ok    bool
	}{
		{"ok, plain", "1234 (node) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 100 0 0", 100, 3 * time.Second, true},
		{"ok, name with spaces and parens", "77 (my (odd) name) R 1 77 77 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 0 0", 100, 100 * time.Millisecond, true},
		{"ok, other tick rate", "1 (x) S 0 1 1 0 -1 0 0 0 0 0 1000 0 0 0", 1000, time.Second, true},
		{"nok, no parenthesis", "1 x S 0", 100, 0, false},
		{"nok, too short", "1 (x) S 0 1", 100, 0, false},
		{"nok, not a number", "1 (x) S 0 1 1 0 -1 0 0 0 0 0 a b 0 0", 100, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := procstat.ParseStatCPU([]byte(tt.stat), tt.ticks)
			if (err == nil) != tt.ok {
				t.Fatalf("error %v, want ok=%v", err, tt.ok)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseStatusRSS(t *testing.T) {
	tests := []struct {
		name   string
		status string
		want   int64
		ok     bool
	}{
		{"ok, typical", "Name:\tnode\nVmPeak:\t  100 kB\nVmRSS:\t   51200 kB\nThreads:\t7\n", 51200 * 1024, true},
		{"nok, missing", "Name:\tx\n", 0, false},
		{"nok, bad unit", "VmRSS:\t12 MB\n", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := procstat.ParseStatusRSS([]byte(tt.status))
			if (err == nil) != tt.ok {
				t.Fatalf("error %v, want ok=%v", err, tt.ok)
			}
			if got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestSelf(t *testing.T) {
	procstat.Init()
	if procstat.ClockTicks <= 0 {
		t.Fatalf("ClockTicks %d", procstat.ClockTicks)
	}
	// Burn a little CPU so the counters move.
	deadline := time.Now().Add(30 * time.Millisecond)
	for time.Now().Before(deadline) {
	}
	if _, err := procstat.CPU(os.Getpid()); err != nil {
		t.Errorf("CPU: %v", err)
	}
	if rss, err := procstat.RSS(os.Getpid()); err != nil || rss <= 0 {
		t.Errorf("RSS = %d, %v", rss, err)
	}
	if procstat.SelfCPU() <= 0 {
		t.Errorf("SelfCPU is zero")
	}
	if _, err := procstat.CPU(-1); err == nil {
		t.Errorf("CPU(-1) succeeded")
	}
	if lim, err := procstat.RaiseFileLimit(); err != nil || lim == 0 {
		t.Errorf("RaiseFileLimit = %d, %v", lim, err)
	}
}
