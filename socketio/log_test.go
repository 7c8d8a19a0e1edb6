package socketio_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/socketio"
)

// logBuffer collects the JSON records of a slog logger.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the records logged with message msg.
func (b *logBuffer) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

// TestLoggerGetsTheServersEvents: refused handshakes, slow consumers and recovered panics reach
// Options.Logger at their levels, with their attributes.
func TestLoggerGetsTheServersEvents(t *testing.T) {
	logs := &logBuffer{}
	opts := socketio.Options{Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	opts.Engine.MaxQueuedPackets = 2
	srv := socketio.NewServer(opts)
	connected := make(chan *socketio.Socket, 1)
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("boom", func() { panic("handler bug") })
		connected <- s
	})
	hs := httptest.NewServer(srv)
	defer shutdown(srv, hs)

	res, err := http.Get(hs.URL + "/socket.io/?EIO=3&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	refused := logs.records(t, "handshake refused")
	if len(refused) != 1 || refused[0]["level"] != "INFO" || refused[0]["reason"] != "Unsupported protocol version" ||
		refused[0]["code"] != float64(5) || refused[0]["transport"] != "polling" || refused[0]["remote_addr"] == nil {
		t.Fatalf("handshake refused records: %v", refused)
	}

	sid := pollHandshake(t, hs.URL)
	post(t, hs.URL, sid, "40")
	_ = poll(t, hs.URL, sid)
	var s *socketio.Socket
	select {
	case s = <-connected:
	case <-time.After(10 * time.Second):
		t.Fatal("no connection")
	}
	post(t, hs.URL, sid, `42["boom"]`)
	waitFor(t, func() bool { return len(logs.records(t, "recovered panic")) > 0 })
	p := logs.records(t, "recovered panic")[0]
	if p["level"] != "ERROR" || p["where"] != `handler of "boom"` || p["panic"] != "handler bug" || !strings.Contains(p["stack"].(string), "goroutine") {
		t.Fatalf("recovered panic record: %v", p)
	}
	if s.Connected() {
		t.Fatal("the panicking socket is still connected")
	}

	// A polling client that no longer polls: two packets fit in its queue.
	sid = pollHandshake(t, hs.URL)
	post(t, hs.URL, sid, "40")
	_ = poll(t, hs.URL, sid)
	<-connected
	_ = srv.Volatile().Emit("v")
	_ = srv.Volatile().Emit("v")
	_ = srv.Volatile().Emit("v")
	_ = srv.Emit("x")
	dropped, slow := logs.records(t, "volatile packet dropped"), logs.records(t, "slow consumer disconnected")
	if len(dropped) != 1 || dropped[0]["level"] != "DEBUG" || dropped[0]["sid"] != sid || dropped[0]["namespace"] != "/" {
		t.Fatalf("volatile packet dropped records: %v", dropped)
	}
	if len(slow) != 1 || slow[0]["level"] != "WARN" || slow[0]["sid"] != sid {
		t.Fatalf("slow consumer records: %v", slow)
	}
}

// waitFor waits up to 10 s for cond.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
