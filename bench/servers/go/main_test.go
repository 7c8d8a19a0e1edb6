package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestSiobenchSmoke runs every siobench scenario with tiny sizes against the
// server of every report row (each mount), started in this process, so that
// the load generator, the server and the library keep working together. Any
// lost, duplicated or wrong message fails it.
func TestSiobenchSmoke(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not in PATH")
	}
	bin := filepath.Join(t.TempDir(), "siobench")
	build := exec.Command(goTool, "build", "-o", bin, "github.com/echo-socketio/echo-socketio/cmd/siobench")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building siobench: %v\n%s", err, out)
	}
	for _, mount := range []string{mountHTTP, mountEcho, mountMetrics} {
		t.Run(mount, func(t *testing.T) { smoke(t, bin, mount) })
	}
}

func smoke(t *testing.T, bin, mount string) {
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, mount, "127.0.0.1:0", "", func(a net.Addr) { addrc <- a }) }()
	var url string
	select {
	case a := <-addrc:
		url = "http://" + a.String()
	case err := <-errc:
		cancel()
		t.Fatalf("server: %v", err)
	}
	defer func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("server: %v", err)
		}
	}()

	pid := strconv.Itoa(os.Getpid())
	tests := []struct {
		name string
		args []string
	}{
		{"ok, conns", []string{"conns", "-n", "50", "-concurrency", "10", "-settle", "0s"}},
		{"ok, echo", []string{"echo", "-c", "5", "-count", "200"}},
		{"ok, broadcast", []string{"broadcast", "-n", "20", "-count", "10"}},
		{"ok, polling", []string{"polling", "-c", "5", "-count", "100"}},
		{"ok, echo over polling", []string{"echo", "-transport", "polling", "-c", "2", "-count", "20"}},
		{"ok, broadcast over polling", []string{"broadcast", "-transport", "polling", "-n", "5", "-count", "5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(tt.args, "-url", url, "-pid", pid, "-timeout", "5s", "-grace", "50ms", "-json")
			cmd := exec.Command(bin, args...)
			var stderr []byte
			out, err := cmd.Output()
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			if err != nil {
				t.Fatalf("siobench %v: %v\nstdout: %s\nstderr: %s", tt.args, err, out, stderr)
			}
			var res struct {
				Ops       int64 `json:"ops"`
				Lost      int64 `json:"lost"`
				Duplicate int64 `json:"duplicate"`
				Wrong     int64 `json:"wrong"`
				OK        bool  `json:"ok"`
			}
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatalf("siobench output is not JSON: %v\n%s", err, out)
			}
			if !res.OK || res.Ops == 0 || res.Lost+res.Duplicate+res.Wrong != 0 {
				t.Errorf("siobench %v: %s", tt.args, out)
			}
		})
	}
	checkMount(t, url, mount)
	// Let the server see the last connections close before it shuts down.
	time.Sleep(100 * time.Millisecond)
}

// checkMount checks that the server is mounted the way mount says: the Echo
// application answers its own route next to Socket.IO, and the metrics
// endpoint counted the smoke test's broadcast deliveries.
func checkMount(t *testing.T, url, mount string) {
	t.Helper()
	get := func(path string) (int, string) {
		c := http.Client{Timeout: 10 * time.Second}
		res, err := c.Get(url + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return res.StatusCode, string(b)
	}
	switch mount {
	case mountEcho:
		if code, body := get("/"); code != http.StatusOK || body != "ok" {
			t.Errorf("GET / on the Echo mount: %d %q, want 200 \"ok\"", code, body)
		}
	case mountMetrics:
		code, body := get("/metrics")
		if code != http.StatusOK || !strings.Contains(body, `socketio_broadcast_deliveries_total{namespace="/"}`) {
			t.Errorf("GET /metrics: %d, no broadcast deliveries counted:\n%s", code, body)
		}
	default:
		if code, _ := get("/metrics"); code != http.StatusNotFound {
			t.Errorf("GET /metrics on the plain mount: %d, want 404", code)
		}
	}
}
