package socketio_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/socketio"
)

// BenchmarkEchoAck measures an event with an acknowledgement over real websocket sessions on
// loopback, from the EVENT the client writes to the ACK it reads, with the handler of the
// benchmark contract (bench/README.md): echo answers with its arguments. Four clients keep up
// to four events each in flight, so the server's inbox sees both idle and busy sessions.
// ns/op and allocs/op are per acknowledgement and include the clients' share, which is
// small: they write prepared frames and read without allocating.
func BenchmarkEchoAck(b *testing.B) {
	payload := strings.Repeat("x", 64)
	b.Run("handler=json", func(b *testing.B) {
		benchmarkEchoAck(b, payload, func(s *socketio.Socket) {
			s.On("echo", func(args []json.RawMessage, ack socketio.Ack) {
				out := make([]any, len(args))
				for i, a := range args {
					out[i] = a
				}
				_ = ack(out...)
			})
		})
	})
	b.Run("handler=args", func(b *testing.B) {
		benchmarkEchoAck(b, payload, func(s *socketio.Socket) {
			s.On("echo", func(args socketio.Args, ack socketio.Ack) { _ = ack(args.Any()...) })
		})
	})
}

func benchmarkEchoAck(b *testing.B, payload string, register func(*socketio.Socket)) {
	const clients, window = 4, 4
	opts := socketio.Options{}
	opts.Engine.PingInterval = time.Hour // the clients write only events during the run
	srv := socketio.NewServer(opts)
	srv.OnConnection(register)
	hs := httptest.NewServer(srv)
	var acked atomic.Int64
	progress := make(chan struct{}, 1)
	conns := make([]*benchClient, clients)
	for i := range conns {
		conns[i] = dialEchoClient(b, hs.URL, &acked, progress)
	}
	defer func() {
		for _, c := range conns {
			c.close()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	}()
	frames := make([][]byte, clients*window)
	for i := range frames {
		frames[i] = []byte(fmt.Sprintf(`42%d["echo",%s]`, i, strconv.Quote(payload)))
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	wait := func(want int64) { // allocates nothing, to leave allocs/op to the server
		if acked.Load() >= want {
			return
		}
		timer.Reset(30 * time.Second)
		for acked.Load() < want {
			select {
			case <-progress:
			case <-timer.C:
				b.Fatalf("%d of %d acknowledgements after 30s", acked.Load(), want)
			}
		}
	}
	b.ReportAllocs()
	cpu := cpuTime()
	b.ResetTimer()
	for i := range b.N {
		if i >= clients*window {
			wait(int64(i - clients*window + 1))
		}
		c := conns[i%clients]
		if err := c.ws.WriteMessage(websocket.TextMessage, frames[i%len(frames)]); err != nil {
			b.Fatal(err)
		}
	}
	wait(int64(b.N))
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/ack") // clients' share included
}

// dialEchoClient connects a websocket client to "/" that counts the acknowledgements it reads.
func dialEchoClient(b *testing.B, base string, acked *atomic.Int64, progress chan struct{}) *benchClient {
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
		var buf [512]byte
		for {
			_, r, err := ws.NextReader()
			if err != nil {
				return
			}
			n := 0
			for {
				k, err := r.Read(buf[n:])
				n += k
				if err != nil || n == len(buf) {
					break
				}
			}
			if n >= 2 && buf[0] == '4' && buf[1] == '3' {
				acked.Add(1)
				select {
				case progress <- struct{}{}:
				default:
				}
			}
		}
	}()
	return c
}
