package socketio_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/engineio"
	"github.com/echo-socketio/echo-socketio/internal/nodetest"
	"github.com/echo-socketio/echo-socketio/socketio"
)

var eio3Opts = socketio.Options{Engine: engineio.Options{AllowEIO3: true}}

func runV2(t *testing.T, url, scenario, transports string) *nodetest.Result {
	t.Helper()
	return nodetest.Run(t, 60*time.Second, "sio-v2-client.mjs", "URL="+url, "SCENARIO="+scenario, "TRANSPORTS="+transports)
}

func expectEvents(t *testing.T, res *nodetest.Result, want map[string]string) {
	t.Helper()
	for name, w := range want {
		if e := res.Find(name); e == nil || jsonOf(e) != jsonOf(mustMap(w)) {
			t.Fatalf("%s: got %s, want %s\n%s", name, jsonOf(e), w, res.Describe())
		}
	}
}

// TestInteropV2Client runs socket.io-client 2.5 (Engine.IO v3, Socket.IO protocol v4) against
// a server with AllowEIO3, on each transport, with a socket.io-client 4.x on the same server.
func TestInteropV2Client(t *testing.T) {
	for _, tc := range transports {
		t.Run("ok, events, "+tc.name, func(t *testing.T) {
			ts := newTestServer(t, eio3Opts)
			res := runV2(t, ts.HTTP.URL, "events", tc.list)
			echoes := res.All("echo")
			if len(echoes) != 8 {
				t.Fatalf("%d echoes, want 8:\n%s", len(echoes), res.Describe())
			}
			for i, e := range echoes {
				if e["ok"] != true {
					t.Fatalf("echo %d came back different: %v", i, e)
				}
			}
			first := "polling"
			if tc.list == "websocket" {
				first = "websocket"
			}
			expectEvents(t, res, map[string]string{
				"connected":            `{"event":"connected","idIsSession":true,"transport":"` + first + `"}`,
				"typed":                `{"event":"typed","reply":{"n":14,"name":"ada","tags":2}}`,
				"binary":               `{"event":"binary","file":{"hex":"010203"},"name":"f","parts":[{"hex":"04"},{"hex":"fafb"}]}`,
				"binary_after_upgrade": `{"event":"binary_after_upgrade","file":{"hex":"010203"},"parts":[{"hex":"04"},{"hex":"fafb"}]}`,
				"binary_push":          `{"data":{"hex":"090807"},"event":"binary_push","list":[{"hex":"01"},{"hex":"0203"}]}`,
				"server_ack":           `{"answer":42,"event":"server_ack"}`,
				"relay_to_v4":          `{"args":["from v2",{"hex":"0707"}],"event":"relay_to_v4"}`,
				"relay_to_v2":          `{"args":["from v4",{"hex":"08"}],"event":"relay_to_v2"}`,
				"final":                `{"event":"final","transport":"` + tc.final + `"}`,
			})
			who := res.Find("whoami")
			w, _ := who["who"].(map[string]any)
			if w["id"] != who.Str("id") || jsonOf(w["eio"]) != `["3"]` {
				t.Fatalf("whoami: %v", who)
			}
			if r := ts.waitDisconnect(t, who.Str("id")); r != socketio.ReasonClientNamespaceDisconnect {
				t.Fatalf("server saw %q, want %q", r, socketio.ReasonClientNamespaceDisconnect)
			}
		})
		t.Run("ok, namespaces, "+tc.name, func(t *testing.T) {
			ts := newTestServer(t, eio3Opts)
			res := runV2(t, ts.HTTP.URL, "namespaces", tc.list)
			expectEvents(t, res, map[string]string{
				"invalid":     `{"event":"invalid","error":{"message":"Invalid namespace"}}`,
				"refused":     `{"event":"refused","error":{"code":401}}`,
				"accepted":    `{"event":"accepted","nsp":"/private"}`,
				"multiplexed": `{"event":"multiplexed","same":true,"nsp":"/admin"}`,
			})
			if a := res.Find("admin"); a["nsp"] != "/admin" || a["idForm"] != true {
				t.Fatalf("admin: %v", a)
			}
		})
		t.Run("ok, disconnects, "+tc.name, func(t *testing.T) {
			ts := newTestServer(t, eio3Opts)
			res := runV2(t, ts.HTTP.URL, "disconnects", tc.list)
			expectEvents(t, res, map[string]string{
				"server_disconnect": `{"event":"server_disconnect","reason":"io server disconnect"}`,
				"server_close":      `{"event":"server_close","reason":"io server disconnect"}`,
			})
			if r := ts.waitDisconnect(t, res.Find("client_id").Str("id")); r != socketio.ReasonClientNamespaceDisconnect {
				t.Fatalf("client disconnect seen as %q", r)
			}
		})
	}
	t.Run("ok, ping timeout", func(t *testing.T) {
		opts := eio3Opts
		opts.Engine.PingInterval = 300 * time.Millisecond
		opts.Engine.PingTimeout = 200 * time.Millisecond
		ts := newTestServer(t, opts)
		res := runV2(t, ts.HTTP.URL, "pingTimeout", "websocket")
		if r := ts.waitDisconnect(t, res.Find("client_id").Str("id")); r != socketio.ReasonPingTimeout {
			t.Fatalf("server saw %q, want %q", r, socketio.ReasonPingTimeout)
		}
	})
	t.Run("ok, pings keep the session", func(t *testing.T) {
		// The client pings every 500 ms and stays idle for 8 s first: the session outlives
		// more than two windows of pingInterval + pingTimeout (wide enough for a loaded
		// machine) on the client's pings alone.
		opts := eio3Opts
		opts.Engine.PingInterval = 500 * time.Millisecond
		opts.Engine.PingTimeout = 2500 * time.Millisecond
		ts := newTestServer(t, opts)
		res := nodetest.Run(t, 60*time.Second, "sio-v2-client.mjs", "URL="+ts.HTTP.URL, "SCENARIO=events",
			"TRANSPORTS=polling,websocket", "IDLE_MS=8000")
		if len(res.All("echo")) != 8 {
			t.Fatalf("events with a short heartbeat:\n%s", res.Describe())
		}
	})
}

// TestEIO3Refused checks that without AllowEIO3 an EIO=3 handshake is refused, as by Node.
func TestEIO3Refused(t *testing.T) {
	ts := newTestServer(t)
	resp := httpGet(t, ts.HTTP.URL+"/socket.io/?EIO=3&transport=polling")
	if resp.code != 400 || resp.body != `{"code":5,"message":"Unsupported protocol version"}` {
		t.Fatalf("EIO=3 without AllowEIO3: %d %s", resp.code, resp.body)
	}
}

type httpResult struct {
	code int
	body string
}

func httpGet(t *testing.T, url string) httpResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return httpResult{resp.StatusCode, string(b)}
}

// TestBrowserV2Client runs the socket.io-client 2.5 bundle in headless Chromium, whose
// polling sends and receives binary payloads in the binary framing of Engine.IO v3.
func TestBrowserV2Client(t *testing.T) {
	root := nodetest.Root(t)
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("%s is missing: install it with `make browser-deps` (make test does it)", chromium)
	}
	bundle, err := os.ReadFile(filepath.Join(root, "node_modules", "socket.io-client-v2", "dist", "socket.io.js"))
	if err != nil {
		t.Fatalf("socket.io-client 2.x is not installed: run `npm ci` (make test does it): %v", err)
	}
	ts := newTestServer(t, eio3Opts)
	mux := http.NewServeMux()
	// Count the polling requests and responses in the binary framing.
	var binaryIn, binaryOut atomic.Int32
	mux.HandleFunc("/socket.io/", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") == "application/octet-stream" {
			binaryIn.Add(1)
		}
		ts.Server.ServeHTTP(&contentTypeSpy{ResponseWriter: w, binary: &binaryOut}, r)
	})
	mux.HandleFunc("/v2.html", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<!doctype html><meta charset="utf-8"><script src="/v2/socket.io.js"></script>`)
	})
	mux.HandleFunc("/v2/socket.io.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/javascript")
		_, _ = w.Write(bundle)
	})
	page := httptest.NewServer(mux)
	t.Cleanup(page.Close)
	for _, tc := range []struct{ list, final string }{{"polling", "polling"}, {"polling,websocket", "websocket"}} {
		t.Run("ok, "+tc.list, func(t *testing.T) {
			res := nodetest.Run(t, 90*time.Second, "v2-browser.mjs", "URL="+page.URL, "TRANSPORTS="+tc.list, "CHROMIUM="+chromium)
			r := res.Find("result")
			want := `{"event":"result","file":"010203","list":["01","0203"],"parts":["04","fafb"],"push":"090807","supportsBinary":true,"text":"héllo 🎉","transport":"` + tc.final + `"}`
			if r == nil || jsonOf(r) != want {
				t.Fatalf("got %s\nwant %s\n%s", jsonOf(r), want, res.Describe())
			}
			if tc.list == "polling" && (binaryIn.Load() == 0 || binaryOut.Load() == 0) {
				t.Fatalf("%d requests and %d responses in the binary framing, want some of each", binaryIn.Load(), binaryOut.Load())
			}
		})
	}
}

// contentTypeSpy counts the responses sent as application/octet-stream.
type contentTypeSpy struct {
	http.ResponseWriter
	binary *atomic.Int32
}

func (s *contentTypeSpy) WriteHeader(code int) {
	if s.Header().Get("Content-Type") == "application/octet-stream" {
		s.binary.Add(1)
	}
	s.ResponseWriter.WriteHeader(code)
}

// Hijack lets the websocket upgrade through the spy.
func (s *contentTypeSpy) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(s.ResponseWriter).Hijack()
}

// TestBrowserMsgpackBundle loads the socket.io.msgpack.min.js bundle the server serves into
// headless Chromium and exchanges binary values with a server on the msgpack parser.
func TestBrowserMsgpackBundle(t *testing.T) {
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("%s is missing: install it with `make browser-deps` (make test does it)", chromium)
	}
	ts := newTestServer(t, msgpackOpts)
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", ts.Server)
	mux.HandleFunc("/msgpack.html", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<!doctype html><meta charset="utf-8"><script src="/socket.io/socket.io.msgpack.min.js"></script>`)
	})
	page := httptest.NewServer(mux)
	t.Cleanup(page.Close)
	// One transport: the Node clients cover the msgpack parser on every transport.
	for _, tc := range []struct{ list, final string }{{"websocket", "websocket"}} {
		t.Run("ok, "+tc.list, func(t *testing.T) {
			res := nodetest.Run(t, 90*time.Second, "v2-browser.mjs", "URL="+page.URL, "PAGE=msgpack.html", "TRANSPORTS="+tc.list, "CHROMIUM="+chromium)
			want := `{"event":"result","file":"010203","list":["01","0203"],"parts":["04","fafb"],"push":"090807","supportsBinary":true,"text":"héllo 🎉","transport":"` + tc.final + `"}`
			if r := res.Find("result"); r == nil || jsonOf(r) != want {
				t.Fatalf("got %s\nwant %s\n%s", jsonOf(r), want, res.Describe())
			}
		})
	}
}
