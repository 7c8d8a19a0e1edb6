package main

import (
	"bytes"
	"context"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/echo-socketio/echo-socketio/socketio/socketiotest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// logBuffer collects the standard logger's output.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// TestHello serves the page, then runs the tutorial's session through the Echo app with two
// in-process clients: a message from one reaches both, and the server logs both connections
// and the disconnection with the socket IDs.
func TestHello(t *testing.T) {
	logs := &logBuffer{}
	log.SetOutput(logs)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	e, sio := newApp()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = sio.Shutdown(ctx)
	}()

	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `socket.emit('chat message'`) {
		t.Fatalf("page: %d %.200s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/socket.io/socket.io.js", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("client bundle: %d", rec.Code)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var users []*socketiotest.Socket
	for range 2 {
		c, err := socketiotest.Dial(ctx, sio, &socketiotest.Options{Handler: e}) // through Echo
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		s, err := c.Connect(ctx, "/", nil)
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, s)
	}
	if err := users[0].Emit("chat message", "hello"); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		e, err := u.Expect(ctx, "chat message")
		if err != nil {
			t.Fatal(err)
		}
		var msg string
		if err := e.Decode(&msg); err != nil || msg != "hello" {
			t.Fatalf("got %q %v", msg, err)
		}
	}
	users[1].Close()
	want := []string{
		"a user connected: " + users[0].ID(),
		"a user connected: " + users[1].ID(),
		"user disconnected: " + users[1].ID() + " (client namespace disconnect)",
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, w := range want {
		for !strings.Contains(logs.String(), w) {
			if time.Now().After(deadline) {
				t.Fatalf("the log has no %q:\n%s", w, logs)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
