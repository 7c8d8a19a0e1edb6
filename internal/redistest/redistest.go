// Package redistest starts a real redis-server for a test, on a free loopback port.
//
// A missing redis-server fails the test with a message that says how to install it; it is
// never skipped.
package redistest

import (
	"net"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Server is a redis-server process of one test.
type Server struct {
	// Addr is the server's address, host:port.
	Addr string
	stop func()
}

// Stop stops the server before the test ends, as an outage does. It is safe to call twice.
func (s *Server) Stop() { s.stop() }

// Start starts a redis-server without persistence on a free loopback port, waits until it
// answers PING, and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redistest: redis-server is not installed: run `make redis-deps` (apt-get install redis-server)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "yes")
	if err := cmd.Start(); err != nil {
		t.Fatalf("redistest: start redis-server: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Errorf("redistest: redis-server on %s did not stop", addr)
			}
		})
	}
	t.Cleanup(stop)
	for deadline := time.Now().Add(10 * time.Second); !answers(addr); {
		if time.Now().After(deadline) {
			t.Fatalf("redistest: redis-server on %s did not start", addr)
		}
		select {
		case <-done:
			t.Fatalf("redistest: redis-server on %s exited", addr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return &Server{Addr: addr, stop: stop}
}

// answers reports whether the server at addr answers PING.
func answers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	buf := make([]byte, 16)
	n, _ := c.Read(buf)
	return string(buf[:n]) == "+PONG\r\n"
}
