package socketio_test

import (
	"context"
	"io"
	"net/http"
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
		// The client pings every 300 ms; the session outlives several ping timeouts.
		opts := eio3Opts
		opts.Engine.PingInterval = 300 * time.Millisecond
		opts.Engine.PingTimeout = 200 * time.Millisecond
		ts := newTestServer(t, opts)
		res := runV2(t, ts.HTTP.URL, "events", "polling,websocket")
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
