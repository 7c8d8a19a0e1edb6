package engineio_test

import (
	"context"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/engineio"
	"github.com/echo-socketio/echo-socketio/internal/nodetest"
)

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

var transportCases = []struct {
	name       string
	transports string
	final      string
}{
	{"polling only", "polling", "polling"},
	{"websocket only", "websocket", "websocket"},
	{"polling then upgrade", "polling,websocket", "websocket"},
}

func TestInteropEcho(t *testing.T) {
	for _, tc := range transportCases {
		t.Run("ok, "+tc.name, func(t *testing.T) {
			s := newEchoServer(t, engineio.Options{})
			res := nodetest.Run(t, 30*time.Second, "eio-client.mjs",
				"URL="+s.HTTP.URL, "SCENARIO=echo", "TRANSPORTS="+tc.transports)
			done := res.Find("done")
			if done == nil || done["ok"] != true {
				t.Fatalf("echo failed:\n%s", res.Describe())
			}
			if got := done.Str("transport"); got != tc.final {
				t.Fatalf("final transport %q, want %q", got, tc.final)
			}
			if tc.final == "websocket" && tc.transports != "websocket" && res.Find("upgrade") == nil {
				t.Fatalf("no upgrade event:\n%s", res.Describe())
			}
			id := res.Find("open").Str("id")
			if reason, _ := s.waitClosed(t, id, 5*time.Second); reason != engineio.ReasonTransportClose {
				t.Fatalf("server saw close reason %q, want %q", reason, engineio.ReasonTransportClose)
			}
		})
	}
}

func TestInteropSizeLimit(t *testing.T) {
	const limit = 1000
	for _, tc := range transportCases[:2] {
		t.Run("ok, "+tc.name, func(t *testing.T) {
			s := newEchoServer(t, engineio.Options{MaxHTTPBufferSize: limit})
			res := nodetest.Run(t, 30*time.Second, "eio-client.mjs",
				"URL="+s.HTTP.URL, "SCENARIO=size", "TRANSPORTS="+tc.transports, "SIZE_LIMIT=1000")
			if u := res.Find("under"); u == nil || u["ok"] != true {
				t.Fatalf("a message at the limit was not echoed:\n%s", res.Describe())
			}
			if res.Find("unexpected_message") != nil || res.Find("close") == nil {
				t.Fatalf("a message over the limit was not refused:\n%s", res.Describe())
			}
			if tc.transports == "websocket" {
				if r := s.anyClosed(t, 5*time.Second); r != engineio.ReasonTransportError {
					t.Fatalf("server close reason %q, want %q", r, engineio.ReasonTransportError)
				}
			}
		})
	}
}

func TestInteropServerClose(t *testing.T) {
	for _, tc := range transportCases {
		t.Run("ok, "+tc.name, func(t *testing.T) {
			s := newEchoServer(t, engineio.Options{})
			res := nodetest.Run(t, 30*time.Second, "eio-client.mjs",
				"URL="+s.HTTP.URL, "SCENARIO=server-close", "TRANSPORTS="+tc.transports, "UPGRADE=false")
			c := res.Find("close")
			if c == nil || c.Str("reason") != "transport close" {
				t.Fatalf("client did not see the server's close:\n%s", res.Describe())
			}
			if r := s.anyClosed(t, 5*time.Second); r != engineio.ReasonForcedClose {
				t.Fatalf("server close reason %q, want %q", r, engineio.ReasonForcedClose)
			}
		})
	}
}

func TestInteropClientClose(t *testing.T) {
	for _, tc := range transportCases {
		t.Run("ok, "+tc.name, func(t *testing.T) {
			s := newEchoServer(t, engineio.Options{})
			res := nodetest.Run(t, 30*time.Second, "eio-client.mjs",
				"URL="+s.HTTP.URL, "SCENARIO=client-close", "TRANSPORTS="+tc.transports)
			id := res.Find("open").Str("id")
			if reason, _ := s.waitClosed(t, id, 5*time.Second); reason != engineio.ReasonTransportClose {
				t.Fatalf("server close reason %q, want %q", reason, engineio.ReasonTransportClose)
			}
		})
	}
}

func TestInteropPingTimeout(t *testing.T) {
	const interval, timeout = 300 * time.Millisecond, 200 * time.Millisecond
	for _, tc := range transportCases[:2] {
		t.Run("ok, "+tc.name, func(t *testing.T) {
			s := newEchoServer(t, engineio.Options{PingInterval: interval, PingTimeout: timeout})
			res := nodetest.Run(t, 30*time.Second, "eio-client.mjs",
				"URL="+s.HTTP.URL, "SCENARIO=no-pong", "TRANSPORTS="+tc.transports)
			id := res.Find("open").Str("id")
			reason, lifetime := s.waitClosed(t, id, 5*time.Second)
			if reason != engineio.ReasonPingTimeout {
				t.Fatalf("server close reason %q, want %q\n%s", reason, engineio.ReasonPingTimeout, res.Describe())
			}
			// The session must be dropped within one interval plus one timeout (plus
			// scheduling slack), and not before the first ping was due.
			if lifetime < interval || lifetime > interval+timeout+time.Second {
				t.Fatalf("dropped after %v, want about %v", lifetime, interval+timeout)
			}
			if len(res.All("ping")) == 0 || res.Find("close") == nil {
				t.Fatalf("client saw no ping or no close:\n%s", res.Describe())
			}
		})
	}
}
