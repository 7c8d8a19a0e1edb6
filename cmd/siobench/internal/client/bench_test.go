package client_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/client"
	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/procstat"
	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/wire"
)

// BenchmarkFanIn measures how the client reads one message on each of 500
// connections, as in a broadcast to a room: per op, the server writes one
// frame to every connection and the op ends when all arrived. The server's
// writes cost the same in every variant; ns/op and allocs/op divided by 500
// compare the readers, and so does cpu-ns/delivery, the process's CPU time
// per message: gorilla/websocket with a goroutine per connection,
// the raw reader with a goroutine per connection, and the raw reader on one
// Poller.
//
//	go test -run '^$' -bench FanIn -benchmem ./cmd/siobench/internal/client/
func BenchmarkFanIn(b *testing.B) {
	const conns = 500
	for _, v := range []string{"gorilla", "raw", "poller"} {
		b.Run(v, func(b *testing.B) {
			var mu sync.Mutex
			var server []net.Conn
			ready := make(chan struct{}, conns)
			release := make(chan struct{})
			var up websocket.Upgrader
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ws, err := up.Upgrade(w, r, nil)
				if err != nil {
					return
				}
				defer ws.Close()
				ws.WriteMessage(websocket.TextMessage, []byte(`0{"sid":"x","pingInterval":60000,"pingTimeout":60000}`))
				ws.ReadMessage()
				ws.WriteMessage(websocket.TextMessage, []byte(`40{"sid":"s"}`))
				mu.Lock()
				server = append(server, ws.NetConn())
				mu.Unlock()
				ready <- struct{}{}
				<-release
			}))
			defer srv.Close()
			defer close(release)
			var got atomic.Int64
			round := make(chan struct{}, 1)
			cfg := client.Config{URL: srv.URL, Timeout: 10 * time.Second, OnPacket: func(p wire.Packet) {
				if got.Add(1) == conns {
					round <- struct{}{}
				}
			}}
			if v == "gorilla" {
				cfg.Dialer = &websocket.Dialer{ReadBufferSize: 1024, WriteBufferSize: 1024}
			}
			if v == "poller" {
				p, err := client.NewPoller()
				if err != nil {
					b.Fatal(err)
				}
				defer p.Close()
				cfg.Poller = p
			}
			cs := make([]*client.Conn, conns)
			for i := range cs {
				c, err := client.Dial(context.Background(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				cs[i] = c
				<-ready
			}
			msg := frame(0x1, true, []byte(`42["bcast","b0.1.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]`))
			b.ReportAllocs()
			cpu0 := procstat.SelfCPU()
			b.ResetTimer()
			for b.Loop() {
				got.Store(0)
				for _, nc := range server {
					nc.Write(msg)
				}
				select {
				case <-round:
				case <-time.After(10 * time.Second):
					b.Fatalf("%d of %d messages arrived", got.Load(), conns)
				}
			}
			b.StopTimer()
			// CPU time rather than wall time: the machine may be shared.
			b.ReportMetric(float64((procstat.SelfCPU()-cpu0).Nanoseconds())/float64(b.N)/conns, "cpu-ns/delivery")
		})
	}
}
