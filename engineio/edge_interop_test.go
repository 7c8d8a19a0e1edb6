package engineio_test

import (
	"bytes"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/engineio"
	"github.com/echo-socketio/echo-socketio/internal/nodetest"
)

// exchange is one HTTP request the server answered.
type exchange struct {
	method, query string
	status        int
	body          string
}

// recorder wraps a handler and records the answers to Engine.IO requests.
type recorder struct {
	next http.Handler
	mu   sync.Mutex
	seen []exchange
}

type recordingWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *recordingWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("transport") != engineio.TransportPolling {
		rec.next.ServeHTTP(w, r) // websockets are hijacked: nothing to record
		return
	}
	rw := &recordingWriter{ResponseWriter: w}
	rec.next.ServeHTTP(rw, r)
	rec.mu.Lock()
	rec.seen = append(rec.seen, exchange{r.Method, r.URL.RawQuery, rw.status, rw.body.String()})
	rec.mu.Unlock()
}

func (rec *recorder) exchanges() []exchange {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]exchange(nil), rec.seen...)
}

// The official client closes a polling session while its GET is pending: the GET is released
// with a noop (a close packet is for closes the server starts), the POST is answered "ok".
func TestInteropClientCloseReleasesPollWithNoop(t *testing.T) {
	s := newEchoServer(t, engineio.Options{})
	rec := &recorder{next: s.Server}
	srv := newHTTPServer(t, rec)
	res := nodetest.Run(t, 30*time.Second, "eio-client.mjs",
		"URL="+srv.URL, "SCENARIO=close-pending-poll", "TRANSPORTS=polling")
	id := res.Find("open").Str("id")
	if reason, _ := s.waitClosed(t, id, 10*time.Second); reason != engineio.ReasonTransportClose {
		t.Fatalf("server close reason %q, want %q", reason, engineio.ReasonTransportClose)
	}
	// The GET may be recorded a moment after the close: wait for it.
	var gets, posts []exchange
	deadline := time.Now().Add(10 * time.Second)
	for {
		gets, posts = gets[:0], posts[:0]
		for _, e := range rec.exchanges() {
			switch e.method {
			case http.MethodGet:
				gets = append(gets, e)
			case http.MethodPost:
				posts = append(posts, e)
			}
		}
		if len(gets) >= 2 && len(posts) >= 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(gets) < 2 || len(posts) != 1 {
		t.Fatalf("want the handshake, a pending GET and one POST, got GETs %+v POSTs %+v", gets, posts)
	}
	last := gets[len(gets)-1]
	if last.status != http.StatusOK || last.body != "6" {
		t.Fatalf("pending GET answered %d %q, want 200 \"6\"", last.status, last.body)
	}
	if p := posts[0]; p.status != http.StatusOK || p.body != "ok" {
		t.Fatalf("close POST answered %d %q, want 200 \"ok\"", p.status, p.body)
	}
}

// A second websocket for a session that has already upgraded completes its handshake and is
// closed at once, without an HTTP error; the session goes on on its own websocket.
func TestInteropSecondWebsocketIsClosed(t *testing.T) {
	s := newEchoServer(t, engineio.Options{})
	res := nodetest.Run(t, 30*time.Second, "eio-client.mjs",
		"URL="+s.HTTP.URL, "SCENARIO=second-websocket", "TRANSPORTS=polling,websocket")
	if res.Find("second_open") == nil {
		t.Fatalf("the second websocket's handshake did not complete:\n%s", res.Describe())
	}
	c := res.Find("second_close")
	if c == nil || c["code"] != float64(1005) {
		t.Fatalf("the second websocket was not closed without a status code:\n%s", res.Describe())
	}
	if res.Find("second_message") != nil {
		t.Fatalf("the second websocket got a message:\n%s", res.Describe())
	}
	m := res.Find("message")
	if m == nil || m.Str("data") != "still here" || m.Str("transport") != "websocket" {
		t.Fatalf("the session did not go on on its websocket:\n%s", res.Describe())
	}
}
