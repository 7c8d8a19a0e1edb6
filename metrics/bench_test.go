package metrics_test

import (
	"context"
	"io"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/metrics"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// BenchmarkBroadcastCPU measures the CPU time of the whole process (server and in-process
// websocket clients) per delivery of io.To(room).Emit to 100 sockets, without and with the
// metrics. cpu-ns/delivery is the figure to compare: the target is at most 5 % more
// with metrics on. allocs/delivery counts the process's allocations, the clients' included.
// Run it alone on a quiet machine:
//
//	go test -run '^$' -bench BroadcastCPU -benchtime 3000x -count 5 ./metrics
func BenchmarkBroadcastCPU(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "metrics=off"
		if on {
			name = "metrics=on"
		}
		b.Run(name, func(b *testing.B) { benchmarkBroadcastCPU(b, on) })
	}
}

func benchmarkBroadcastCPU(b *testing.B, withMetrics bool) {
	const n = 100
	srv := socketio.NewServer(socketio.Options{})
	if withMetrics {
		if _, err := metrics.New(srv, metrics.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	srv.OnConnection(func(s *socketio.Socket) { s.Join("room") })
	hs := httptest.NewServer(srv)
	var delivered atomic.Int64
	conns := make([]*websocket.Conn, n)
	done := make(chan struct{}, n)
	for i := range conns {
		conns[i] = dialCounting(b, hs.URL, &delivered, done)
	}
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
		for range conns {
			<-done
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	}()
	for deadline := time.Now().Add(30 * time.Second); len(srv.Sockets()) < n || roomSize(srv) < n; {
		if time.Now().After(deadline) {
			b.Fatal("the clients did not join in 30 s")
		}
		time.Sleep(time.Millisecond)
	}
	wait := func(want int64) {
		for deadline := time.Now().Add(60 * time.Second); delivered.Load() < want; {
			if time.Now().After(deadline) {
				b.Fatalf("%d of %d deliveries after 60 s", delivered.Load(), want)
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
	payload := strings.Repeat("x", 64)
	const window = 32
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	mallocs := mem.Mallocs
	before := cpuTime()
	b.ResetTimer()
	for i := range b.N {
		if i >= window {
			wait(int64(i-window+1) * n)
		}
		if err := srv.To("room").Emit("bcast", payload); err != nil {
			b.Fatal(err)
		}
	}
	wait(int64(b.N) * n)
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-before)/float64(int64(b.N)*n), "cpu-ns/delivery")
	runtime.ReadMemStats(&mem)
	b.ReportMetric(float64(mem.Mallocs-mallocs)/float64(int64(b.N)*n), "allocs/delivery")
}

// BenchmarkObserverPerDelivery measures what the metrics' observers add to one broadcast
// delivery, apart from the network: a broadcast to a room of 100 sockets reports
// BroadcastDelivered once (the socketio counts are per broadcast, not per receiver) and
// MessageSent once per receiver, from the receivers' writer goroutines, run here in
// parallel. The figures are cpu-ns/delivery (the process's CPU time, steadier than wall time
// on a shared machine) and allocs/delivery.
//
//	go test -run '^$' -bench ObserverPerDelivery -count 5 ./metrics
func BenchmarkObserverPerDelivery(b *testing.B) {
	const room = 100
	m, err := metrics.New(socketio.NewServer(socketio.Options{}), metrics.Options{})
	if err != nil {
		b.Fatal(err)
	}
	so, eo := m.Observers()
	broadcast := func() {
		so.BroadcastDelivered("/", room)
		for range room {
			eo.MessageSent(nil, 72)
		}
	}
	before := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			broadcast()
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-before)/float64(int64(b.N)*room), "cpu-ns/delivery")
	b.ReportMetric(testing.AllocsPerRun(100, broadcast)/room, "allocs/delivery")
	if m.MessagesSent() < uint64(b.N)*room {
		b.Fatalf("%d messages counted, want at least %d", m.MessagesSent(), b.N*room)
	}
}

func roomSize(srv *socketio.Server) int { return len(srv.Of("/").Adapter().Sockets("room")) }

// cpuTime returns the user and system CPU time of the process, in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// dialCounting connects a websocket Socket.IO client to "/" that counts the events it gets
// and answers pings; done gets a value when its reader stops.
func dialCounting(b *testing.B, base string, delivered *atomic.Int64, done chan<- struct{}) *websocket.Conn {
	b.Helper()
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	ws, _, err := d.Dial("ws"+strings.TrimPrefix(base, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
		b.Fatal(err)
	}
	go func() {
		defer func() { done <- struct{}{} }()
		var head [2]byte
		for {
			_, r, err := ws.NextReader()
			if err != nil {
				return
			}
			k, _ := io.ReadFull(r, head[:])
			if _, err := io.Copy(io.Discard, r); err != nil {
				return
			}
			switch {
			case k == 1 && head[0] == '2':
				_ = ws.WriteMessage(websocket.TextMessage, []byte("3"))
			case k == 2 && head == [2]byte{'4', '2'}:
				delivered.Add(1)
			}
		}
	}()
	return ws
}
