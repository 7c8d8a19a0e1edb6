package engineio_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/engineio"
)

// echoServer is an Engine.IO server under test: it echoes every message and records the
// sessions it saw and how they closed.
type echoServer struct {
	*engineio.Server
	HTTP *httptest.Server

	mu      sync.Mutex
	opened  map[string]time.Time
	reasons map[string]engineio.CloseReason
	closed  chan string
}

func newEchoServer(t *testing.T, opts engineio.Options) *echoServer {
	t.Helper()
	s := &echoServer{
		Server:  engineio.NewServer(opts),
		opened:  map[string]time.Time{},
		reasons: map[string]engineio.CloseReason{},
		closed:  make(chan string, 100),
	}
	s.OnConnection(func(c *engineio.Conn) {
		s.mu.Lock()
		s.opened[c.ID()] = time.Now()
		s.mu.Unlock()
		c.OnMessage(func(data []byte, binary bool) {
			if !binary && string(data) == "close-me" {
				c.Close()
				return
			}
			_ = c.Send(data, binary)
		})
		c.OnClose(func(reason engineio.CloseReason) {
			s.mu.Lock()
			s.reasons[c.ID()] = reason
			s.mu.Unlock()
			s.closed <- c.ID()
		})
	})
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", s.Server)
	s.HTTP = httptest.NewServer(mux)
	t.Cleanup(func() {
		s.HTTP.CloseClientConnections()
		ctx, cancel := contextWithTimeout(5 * time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		s.HTTP.Close()
	})
	return s
}

// waitClosed waits for the session id to close and returns its reason and lifetime.
func (s *echoServer) waitClosed(t *testing.T, id string, timeout time.Duration) (engineio.CloseReason, time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		r, ok := s.reasons[id]
		opened := s.opened[id]
		s.mu.Unlock()
		if ok {
			return r, time.Since(opened)
		}
		select {
		case <-s.closed:
		case <-deadline:
			t.Fatalf("session %s did not close within %v", id, timeout)
		}
	}
}

// anyClosed waits for some session to close and returns its reason.
func (s *echoServer) anyClosed(t *testing.T, timeout time.Duration) engineio.CloseReason {
	t.Helper()
	select {
	case id := <-s.closed:
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.reasons[id]
	case <-time.After(timeout):
		t.Fatalf("no session closed within %v", timeout)
		return ""
	}
}

func newHTTPServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	return srv
}
