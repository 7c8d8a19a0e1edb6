package engineio_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/engineio"
	"github.com/gorilla/websocket"
)

// forwardCluster starts echo servers A and B with Forwarding, each knowing the other, and
// returns their base URLs; stop stops B.
func forwardCluster(t *testing.T) (urlA, urlB string, stopB func()) {
	t.Helper()
	listen := func() net.Listener {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	lA, lB := listen(), listen()
	peers := map[string]string{"A": "http://" + lA.Addr().String(), "B": "http://" + lB.Addr().String()}
	start := func(node string, l net.Listener) *httptest.Server {
		s := engineio.NewServer(engineio.Options{Forwarding: &engineio.Forwarding{NodeID: node, Peers: peers}})
		s.OnConnection(func(c *engineio.Conn) {
			c.OnMessage(func(data []byte, binary bool) { _ = c.Send(append([]byte(node+":"), data...), binary) })
		})
		mux := http.NewServeMux()
		mux.Handle("/engine.io/", s)
		hs := httptest.NewUnstartedServer(mux)
		_ = hs.Listener.Close()
		hs.Listener = l
		hs.Start()
		stopped := false
		stop := func() {
			if stopped {
				return
			}
			stopped = true
			hs.CloseClientConnections()
			ctx, cancel := contextWithTimeout(5 * time.Second)
			defer cancel()
			_ = s.Shutdown(ctx)
			hs.Close()
		}
		t.Cleanup(stop)
		return hs
	}
	a := start("A", lA)
	b := start("B", lB)
	return a.URL, b.URL, func() {
		b.CloseClientConnections()
		b.Close()
	}
}

func httpDo(t *testing.T, method, url, body string, hdr http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	c := &http.Client{Timeout: 30 * time.Second}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// openSession handshakes over polling at base and returns the session ID.
func openSession(t *testing.T, base string) string {
	t.Helper()
	code, body := httpDo(t, "GET", base+"/engine.io/?EIO=4&transport=polling", "", nil)
	if code != 200 || !strings.HasPrefix(body, "0{") {
		t.Fatalf("handshake: %d %q", code, body)
	}
	var open struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal([]byte(body[1:]), &open); err != nil {
		t.Fatal(err)
	}
	return open.SID
}

func TestForwardingToTheSessionsNode(t *testing.T) {
	urlA, urlB, stopB := forwardCluster(t)
	sid := openSession(t, urlA)
	if !strings.HasPrefix(sid, "A.") {
		t.Fatalf("session ID %q does not name its node", sid)
	}
	q := "/engine.io/?EIO=4&transport=polling&sid=" + sid

	t.Run("ok, polling requests to the other node reach the session", func(t *testing.T) {
		if code, body := httpDo(t, "POST", urlB+q, "4hello", nil); code != 200 || body != "ok" {
			t.Fatalf("POST through B: %d %q", code, body)
		}
		if code, body := httpDo(t, "GET", urlB+q, "", nil); code != 200 || body != "4A:hello" {
			t.Fatalf("GET through B: %d %q", code, body)
		}
	})
	t.Run("ok, a websocket upgrade through the other node", func(t *testing.T) {
		ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(urlB, "http")+"/engine.io/?EIO=4&transport=websocket&sid="+sid, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		if err := ws.WriteMessage(websocket.TextMessage, []byte("2probe")); err != nil {
			t.Fatal(err)
		}
		if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != "3probe" {
			t.Fatalf("probe answer %q, %v", msg, err)
		}
		// The pending poll of the polling transport ends with a noop.
		if code, body := httpDo(t, "GET", urlA+q, "", nil); code != 200 || body != "6" {
			t.Fatalf("poll during the upgrade: %d %q", code, body)
		}
		if err := ws.WriteMessage(websocket.TextMessage, []byte("5")); err != nil {
			t.Fatal(err)
		}
		if err := ws.WriteMessage(websocket.TextMessage, []byte("4over ws")); err != nil {
			t.Fatal(err)
		}
		if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != "4A:over ws" {
			t.Fatalf("echo over the upgraded transport %q, %v", msg, err)
		}
	})
	t.Run("ok, unknown nodes, forwarded requests and a node that is gone answer Session ID unknown", func(t *testing.T) {
		sidB := openSession(t, urlB)
		for _, tt := range []struct {
			url string
			hdr http.Header
		}{
			{urlA + "/engine.io/?EIO=4&transport=polling&sid=Z.abc", nil},
			{urlA + "/engine.io/?EIO=4&transport=polling&sid=" + sidB, http.Header{engineio.ForwardedHeader: {"B"}}},
		} {
			if code, body := httpDo(t, "GET", tt.url, "", tt.hdr); code != 400 || !strings.Contains(body, "Session ID unknown") {
				t.Errorf("GET %s: %d %q", tt.url, code, body)
			}
		}
		stopB()
		if code, body := httpDo(t, "GET", urlA+"/engine.io/?EIO=4&transport=polling&sid="+sidB, "", nil); code != 400 || !strings.Contains(body, "Session ID unknown") {
			t.Errorf("GET for a node that is gone: %d %q", code, body)
		}
	})
}

func TestForwardingOptions(t *testing.T) {
	for _, f := range []*engineio.Forwarding{
		{NodeID: ""}, {NodeID: "a.b"}, {NodeID: strings.Repeat("x", 33)},
		{NodeID: "a", Peers: map[string]string{"b": "ftp://x"}}, {NodeID: "a", Peers: map[string]string{"b.c": "http://x"}},
		{NodeID: "a", Peers: map[string]string{"b": "http://"}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewServer accepted %+v", f)
				}
			}()
			engineio.NewServer(engineio.Options{Forwarding: f})
		}()
	}
}
