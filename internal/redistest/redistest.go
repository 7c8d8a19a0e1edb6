// Package redistest starts a real redis-server for a test, on a free loopback port, and
// holds the helpers the tests of the Redis adapters share (see cluster.go, clients.go).
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

	"github.com/redis/go-redis/v9"
)

// Server is a redis-server process of one test.
type Server struct {
	// Addr is the server's address, host:port.
	Addr string

	t    testing.TB
	port int
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

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
	s := &Server{Addr: "127.0.0.1:" + strconv.Itoa(port), t: t, port: port}
	t.Cleanup(s.Stop)
	s.start()
	return s
}

// start starts the process and waits until it answers PING.
func (s *Server) start() {
	s.t.Helper()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "yes")
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("redistest: start redis-server: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	for deadline := time.Now().Add(10 * time.Second); !answers(s.Addr); {
		if time.Now().After(deadline) {
			s.t.Fatalf("redistest: redis-server on %s did not start", s.Addr)
		}
		select {
		case <-done:
			s.t.Fatalf("redistest: redis-server on %s exited", s.Addr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop stops the server before the test ends, as an outage does. It is safe to call twice.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.t.Errorf("redistest: redis-server on %s did not stop", s.Addr)
	}
}

// Restart stops the server and starts it again, empty, on the same port.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// Resume starts a server that Stop stopped again, empty, on the same port, and waits until
// it answers PING.
func (s *Server) Resume() {
	s.t.Helper()
	s.start()
}

// Client returns a client of the server that does not retry, closed when the test ends.
func (s *Server) Client(t testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = c.Close() })
	return c
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
