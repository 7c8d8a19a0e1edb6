package engineio_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/engineio"
)

// FuzzPollingBody posts arbitrary bodies to a polling session of a real server: every body is
// answered with 200, 400 or 413, and nothing panics or hangs. A session the body closed is
// replaced by a new one.
func FuzzPollingBody(f *testing.F) {
	for _, seed := range []string{
		"4hello", "4a\x1e4b", "bAQID", "b!!", "2", "3", "1", "5", "6", "", "\x1e", "4\x1e\x1e4",
		"9", "4\xff\xfe", "b", strings.Repeat("4x\x1e", 100) + "4x", "3probe", "0", "40",
	} {
		f.Add(seed)
	}
	srv := engineio.NewServer(engineio.Options{MaxHTTPBufferSize: 1 << 16, MaxPayloadPackets: 1000})
	srv.OnConnection(func(c *engineio.Conn) {
		c.OnMessage(func(data []byte, binary bool) { _ = c.Send(data, binary) })
	})
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	sid := ""
	f.Fuzz(func(t *testing.T, body string) {
		if sid == "" || srv.Session(sid) == nil {
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest("GET", "/engine.io/?EIO=4&transport=polling", nil))
			const prefix = `0{"sid":"`
			b := rec.Body.String()
			if !strings.HasPrefix(b, prefix) {
				t.Fatalf("handshake %q", b)
			}
			sid = b[len(prefix) : len(prefix)+20]
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/engine.io/?EIO=4&transport=polling&sid="+sid, strings.NewReader(body))
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		srv.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for %q", rec.Code, body)
		}
		if c := srv.Session(sid); c != nil && c.Transport() != "polling" {
			t.Fatalf("transport %s", c.Transport())
		}
	})
}
