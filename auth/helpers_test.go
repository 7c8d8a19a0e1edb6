package auth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/engineio"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// testServer is a Socket.IO server on an httptest server whose main namespace uses mw.
type testServer struct {
	io   *socketio.Server
	http *httptest.Server
}

func newServer(t *testing.T, mw socketio.Middleware, onConn func(*socketio.Socket)) *testServer {
	t.Helper()
	io := socketio.NewServer(socketio.Options{Engine: engineio.Options{MaxHTTPBufferSize: 3e6}})
	io.Use(mw)
	if onConn != nil {
		io.OnConnection(onConn)
	}
	ts := &testServer{io: io, http: httptest.NewServer(io)}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = io.Shutdown(ctx)
		ts.http.Close()
	})
	return ts
}

// request is what a minimal polling client sends with its handshake.
type request struct {
	auth    any
	header  http.Header
	query   url.Values
	rawAuth string
}

// connectResult is the server's answer to a CONNECT: the socket ID, or the connect_error.
type connectResult struct {
	SID     string
	Message string
	Data    map[string]any
	Raw     string
}

// connect opens an Engine.IO session over polling, sends CONNECT with the auth payload and
// returns the server's answer. It is a small client of the protocol, for fast unit tests; the
// interop tests use the official one.
func (ts *testServer) connect(t *testing.T, r request) connectResult {
	t.Helper()
	q := url.Values{"EIO": {"4"}, "transport": {"polling"}}
	for k, v := range r.query {
		q[k] = v
	}
	base := ts.http.URL + "/socket.io/"
	do := func(method, body string, q url.Values) string {
		t.Helper()
		req, err := http.NewRequest(method, base+"?"+q.Encode(), strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range r.header {
			req.Header[k] = v
		}
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return ""
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK && body != "1" {
			t.Errorf("%s: %d %s", method, res.StatusCode, b)
		}
		return string(b)
	}
	open := do(http.MethodGet, "", q)
	if t.Failed() {
		t.FailNow()
	}
	var hs struct {
		SID string `json:"sid"`
	}
	if !strings.HasPrefix(open, "0") || json.Unmarshal([]byte(open[1:]), &hs) != nil {
		t.Fatalf("handshake: %q", open)
	}
	q.Set("sid", hs.SID)
	payload := r.rawAuth
	if payload == "" && r.auth != nil {
		b, err := json.Marshal(r.auth)
		if err != nil {
			t.Fatal(err)
		}
		payload = string(b)
	}
	// Close the session at the end of the test, before the server shuts down (which would
	// otherwise wait for this client to poll).
	t.Cleanup(func() { _ = do(http.MethodPost, "1", q) })
	if got := do(http.MethodPost, "40"+payload, q); got != "ok" {
		t.Fatalf("CONNECT: %q", got)
	}
	for range 10 {
		for pkt := range strings.SplitSeq(do(http.MethodGet, "", q), "\x1e") {
			switch {
			case strings.HasPrefix(pkt, "40"):
				var ok struct {
					SID string `json:"sid"`
				}
				_ = json.Unmarshal([]byte(pkt[2:]), &ok)
				return connectResult{SID: ok.SID, Raw: pkt}
			case strings.HasPrefix(pkt, "44"):
				var e struct {
					Message string         `json:"message"`
					Data    map[string]any `json:"data"`
				}
				if err := json.Unmarshal([]byte(pkt[2:]), &e); err != nil {
					t.Fatalf("connect_error %q: %v", pkt, err)
				}
				return connectResult{Message: e.Message, Data: e.Data, Raw: pkt}
			}
		}
	}
	t.Fatal("no answer to CONNECT")
	return connectResult{}
}

func (c connectResult) String() string {
	return fmt.Sprintf("sid %q, connect_error %q %v", c.SID, c.Message, c.Data)
}
