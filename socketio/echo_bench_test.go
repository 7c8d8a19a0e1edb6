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

	"github.com/echo-socketio/echo-socketio/socketio"
)

// BenchmarkEchoAck measures an event with an acknowledgement over real websocket sessions on
// loopback, from the EVENT the client writes to the ACK it reads, with the handler of the
// benchmark contract (bench/README.md): echo answers with its arguments. Four clients keep up
// to four events each in flight, so the server's inbox sees both idle and busy sessions.
// ns/op is per acknowledgement; allocs/op is the server's: the clients write prepared frames
// and read without allocating.
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
		conns[i] = dialCountingClient(b, hs.URL, "43", &acked, progress)
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
	// The clients write prepared frames to the connection, masked with the key 0 (which
	// leaves the payload as it is): gorilla's writer allocates per message, which would count
	// as the server's. Nothing else writes to the connections during the run.
	frames := make([][]byte, clients*window)
	for i := range frames {
		msg := fmt.Sprintf(`42%d["echo",%s]`, i, strconv.Quote(payload))
		if len(msg) > 125 {
			b.Fatalf("message of %d bytes needs a longer frame header", len(msg))
		}
		frames[i] = append([]byte{0x81, 0x80 | byte(len(msg)), 0, 0, 0, 0}, msg...)
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
		if _, err := conns[i%clients].ws.NetConn().Write(frames[i%len(frames)]); err != nil {
			b.Fatal(err)
		}
	}
	wait(int64(b.N))
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/ack") // clients' share included
}
