package client_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/client"
	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/testfake"
	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/wire"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestEchoRoundTrip(t *testing.T) {
	srv := testfake.Start(30*time.Millisecond, testfake.Faults{})
	defer srv.Close()
	poller, err := client.NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer poller.Close()
	for _, tr := range []string{client.WebSocket, "websocket with a poller", "websocket with gorilla", client.Polling} {
		t.Run("ok, "+tr, func(t *testing.T) {
			got := make(chan wire.Packet, 1)
			hc := &http.Client{Transport: &http.Transport{}}
			defer hc.CloseIdleConnections()
			cfg := client.Config{
				URL: srv.URL, Transport: tr, HTTPClient: hc, Timeout: 2 * time.Second,
				OnPacket: func(p wire.Packet) { p.Data = bytes.Clone(p.Data); got <- p },
			}
			switch tr {
			case "websocket with a poller":
				cfg.Transport, cfg.Poller = client.WebSocket, poller
			case "websocket with gorilla":
				cfg.Transport, cfg.Dialer = client.WebSocket, &websocket.Dialer{}
			}
			c, err := client.Dial(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.EngineSID() == "" || c.Open().PingInterval != 30 {
				t.Errorf("open packet not kept: %+v", c.Open())
			}
			if err := c.Send(wire.AppendEvent(nil, 7, "echo", "hi")); err != nil {
				t.Fatal(err)
			}
			select {
			case p := <-got:
				if p.Type != wire.SIOAck || p.ID != 7 || string(p.Data) != `["hi"]` {
					t.Errorf("got %+v %s", p, p.Data)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("no ack")
			}
			time.Sleep(100 * time.Millisecond) // a few pings
			if c.Err() != nil {
				t.Errorf("connection ended: %v", c.Err())
			}
			c.Close()
			c.Close()
			if !errors.Is(c.Err(), client.ErrClosed) {
				t.Errorf("Err after Close = %v", c.Err())
			}
			if err := c.Send([]byte("2[\"x\"]")); err == nil {
				t.Errorf("Send after Close succeeded")
			}
		})
	}
	if srv.Pongs.Load() == 0 {
		t.Errorf("pings were not answered")
	}
}

// refusing is a server that opens the Engine.IO session and refuses the
// namespace connection.
func refusing(t *testing.T) *httptest.Server {
	var up websocket.Upgrader
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		ws.WriteMessage(websocket.TextMessage, []byte(`0{"sid":"x","pingInterval":1000,"pingTimeout":1000}`))
		if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != "40" {
			t.Errorf("expected 40, got %q, %v", msg, err)
			return
		}
		ws.WriteMessage(websocket.TextMessage, []byte(`44{"message":"not allowed"}`))
		ws.ReadMessage()
	}))
}

func TestDialErrors(t *testing.T) {
	ref := refusing(t)
	defer ref.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	tests := []struct {
		name string
		cfg  client.Config
		want string
	}{
		{"nok, connect error", client.Config{URL: ref.URL}, "refused"},
		{"nok, nothing listening", client.Config{URL: closedURL}, "handshake"},
		{"nok, nothing listening polling", client.Config{URL: closedURL, Transport: client.Polling}, "handshake"},
		{"nok, bad scheme", client.Config{URL: "ftp://127.0.0.1:1"}, "scheme"},
		{"nok, bad transport", client.Config{URL: "http://127.0.0.1:1", Transport: "smoke"}, "transport"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Timeout = time.Second
			c, err := client.Dial(context.Background(), tt.cfg)
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestDialTimeout(t *testing.T) {
	// A server that upgrades and then says nothing.
	var up websocket.Upgrader
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		<-release
	}))
	defer srv.Close()
	defer close(release)
	start := time.Now()
	_, err := client.Dial(context.Background(), client.Config{URL: srv.URL, Timeout: 200 * time.Millisecond})
	if err == nil {
		t.Fatal("Dial succeeded")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Dial took %v despite a 200ms timeout", d)
	}
}
