package socketio_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/socketio"
)

// BenchmarkBroadcast measures io.To(room).Emit to a room of real websocket
// sessions over loopback, from the call to the last delivery read by the
// clients. Up to 64 broadcasts are in flight at once, far below the send
// queue bound, so no receiver is dropped. ns/op is per broadcast; the
// ns/delivery metric divides it by the room size. The clients run in the
// same process, reading the frames from their connections without allocating, so
// allocs/op is the server's (the packet itself is encoded once).
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("room=%d", n), func(b *testing.B) { benchmarkBroadcast(b, n) })
	}
}

func benchmarkBroadcast(b *testing.B, n int) {
	srv := socketio.NewServer(socketio.Options{})
	srv.OnConnection(func(s *socketio.Socket) { s.Join("room") })
	hs := httptest.NewServer(srv)
	var delivered atomic.Int64
	progress := make(chan struct{}, 1)
	clients := make([]*benchClient, n)
	for i := range clients {
		clients[i] = dialBenchClient(b, hs.URL, &delivered, progress)
	}
	defer func() {
		for _, c := range clients {
			c.close()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	}()
	waitRoom(b, srv, "room", n, time.Now().Add(30*time.Second))
	payload := strings.Repeat("x", 64)
	wait := func(want int64) {
		deadline := time.After(30 * time.Second)
		for delivered.Load() < want {
			select {
			case <-progress:
			case <-deadline:
				b.Fatalf("%d of %d deliveries after 30s", delivered.Load(), want)
			}
		}
	}
	const window = 64
	b.ReportAllocs()
	cpu := cpuTime()
	b.ResetTimer()
	for i := range b.N {
		if i >= window {
			wait(int64(i-window+1) * int64(n))
		}
		if err := srv.To("room").Emit("bcast", payload); err != nil {
			b.Fatal(err)
		}
	}
	wait(int64(b.N) * int64(n))
	b.StopTimer()
	deliveries := float64(int64(b.N) * int64(n))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/deliveries, "ns/delivery")
	b.ReportMetric(float64(cpuTime()-cpu)/deliveries, "cpu-ns/delivery") // clients' reads included
}

// cpuTime returns the user and system CPU time of the process, in nanoseconds: on a shared
// machine it varies less than the wall-clock time.
func cpuTime() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// benchClient is a websocket Socket.IO client connected to "/" that counts
// the events it receives, answering the server's pings.
type benchClient struct {
	ws   *websocket.Conn
	done chan struct{}
}

func dialBenchClient(b *testing.B, base string, delivered *atomic.Int64, progress chan struct{}) *benchClient {
	b.Helper()
	return dialCountingClient(b, base, "42", delivered, progress)
}

// dialCountingClient connects a websocket Socket.IO client to "/" that counts the messages
// that start with prefix, answering the server's pings.
func dialCountingClient(b *testing.B, base, prefix string, counted *atomic.Int64, progress chan struct{}) *benchClient {
	b.Helper()
	url := "ws" + strings.TrimPrefix(base, "http") + "/socket.io/?EIO=4&transport=websocket"
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 4096, WriteBufferSize: 1024}
	ws, _, err := d.Dial(url, nil)
	if err != nil {
		b.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := ws.ReadMessage(); err != nil { // the Engine.IO open packet
		b.Fatal(err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
		b.Fatal(err)
	}
	if _, m, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(m), "40") {
		b.Fatalf("connect: %q %v", m, err)
	}
	_ = ws.SetReadDeadline(time.Time{})
	c := &benchClient{ws: ws, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		// The frames are read from the connection directly, parsed in place: gorilla's
		// NextReader allocates a reader per message, which would count as the server's. The
		// server sends nothing between its CONNECT answer and the first broadcast, so gorilla
		// holds no buffered bytes; it never fragments a message.
		nc := ws.NetConn()
		buf := make([]byte, 64<<10)
		have := 0
		for {
			n, err := nc.Read(buf[have:])
			if err != nil {
				return
			}
			have += n
			off := 0
			for {
				f := buf[off:have]
				if len(f) < 2 {
					break
				}
				size, head := int(f[1]&0x7f), 2
				switch size {
				case 126:
					if len(f) < 4 {
						break
					}
					size, head = int(binary.BigEndian.Uint16(f[2:])), 4
				case 127:
					if len(f) < 10 {
						break
					}
					size, head = int(binary.BigEndian.Uint64(f[2:])), 10
				}
				if size >= 126 && head == 2 || len(f) < head+size {
					break // the rest of the frame is still to come
				}
				p := f[head : head+size]
				switch {
				case f[0]&0x0f == websocket.CloseMessage:
					return
				case len(p) == 1 && p[0] == '2':
					_ = ws.WriteMessage(websocket.TextMessage, []byte("3"))
				case bytes.HasPrefix(p, []byte(prefix)):
					counted.Add(1)
					select {
					case progress <- struct{}{}:
					default:
					}
				}
				off += head + size
			}
			have = copy(buf, buf[off:have])
			if have == len(buf) {
				return // a frame larger than the buffer: not one of this benchmark's
			}
		}
	}()
	return c
}

func (c *benchClient) close() {
	_ = c.ws.Close()
	<-c.done
}

// BenchmarkBroadcastInProcess measures the server's own work for a broadcast to a room of
// 10,000 sockets: selecting the receivers, encoding the packet once and queueing it for each.
// The sockets are long-polling sessions that hold no connection while idle, so 10,000 of them fit
// in one process; nothing is written to a network during the loop (the clients poll afterwards,
// or never), so the figure excludes the write system calls measured by BenchmarkBroadcast.
func BenchmarkBroadcastInProcess(b *testing.B) {
	const n = 10000
	opts := socketio.Options{}
	opts.Engine.MaxQueuedPackets = 1 << 20 // every broadcast of the run stays queued
	opts.Engine.PingInterval = time.Hour   // no heartbeat during the run
	srv := socketio.NewServer(opts)
	srv.OnConnection(func(s *socketio.Socket) { s.Join("room") })
	hs := httptest.NewServer(srv)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_ = srv.Shutdown(ctx) // the sessions are closed at once when ctx ends
		hs.Close()
	}()
	for range n {
		sid := pollHandshake(b, hs.URL)
		post(b, hs.URL, sid, "40")
	}
	waitRoom(b, srv, "room", n, time.Now().Add(30*time.Second))
	payload := strings.Repeat("x", 64)
	before := socketio.BroadcastEncodes(srv)
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	mallocs := mem.Mallocs
	b.ReportAllocs()
	cpu := cpuTime()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := srv.To("room").Emit("bcast", payload, i); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/delivery")
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/n, "cpu-ns/delivery")
	runtime.ReadMemStats(&mem)
	b.ReportMetric(float64(mem.Mallocs-mallocs)/float64(b.N)/n, "allocs/delivery")
	if got := socketio.BroadcastEncodes(srv) - before; got != int64(b.N) {
		b.Fatalf("%d encodes for %d broadcasts", got, b.N)
	}
}
