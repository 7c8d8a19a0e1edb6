package socketio_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/socketio"
)

// reader is a websocket Socket.IO client that connects to "/" and counts the events it gets.
type reader struct {
	ws     *websocket.Conn
	id     string
	events atomic.Int64
	done   chan struct{}
}

func dialReader(t testing.TB, srv *httptest.Server) *reader {
	t.Helper()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	ws, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &reader{ws: ws, done: make(chan struct{})}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := ws.ReadMessage(); err != nil { // open
		t.Fatal(err)
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("40"))
	_, m, err := ws.ReadMessage()
	if err != nil || !strings.HasPrefix(string(m), `40{"sid":"`) {
		t.Fatalf("connect: %q %v", m, err)
	}
	r.id = strings.TrimSuffix(strings.TrimPrefix(string(m), `40{"sid":"`), `"}`)
	_ = ws.SetReadDeadline(time.Time{})
	go func() {
		defer close(r.done)
		for {
			_, m, err := ws.ReadMessage()
			if err != nil {
				return
			}
			switch {
			case string(m) == "2":
				_ = ws.WriteMessage(websocket.TextMessage, []byte("3"))
			case strings.HasPrefix(string(m), "42"), strings.HasPrefix(string(m), "45"):
				r.events.Add(1)
			}
		}
	}()
	return r
}

func (r *reader) close() {
	r.ws.Close()
	<-r.done
}

func waitUntil(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func startServer(t testing.TB, io *socketio.Server) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(io)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = io.Shutdown(ctx)
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv
}

func TestBroadcastEncodedOnce(t *testing.T) {
	io := socketio.NewServer(socketio.Options{})
	io.OnConnection(func(s *socketio.Socket) { s.Join("room") })
	srv := startServer(t, io)
	const clients, broadcasts = 200, 10
	readers := make([]*reader, clients)
	for i := range readers {
		readers[i] = dialReader(t, srv)
	}
	defer func() {
		for _, r := range readers {
			r.close()
		}
	}()
	// A client sees its CONNECT answer before the connection hook runs: wait for the joins.
	waitUntil(t, "every socket in the room", 30*time.Second, func() bool {
		return len(io.Of("/").Adapter().Sockets("room")) == clients
	})
	before := socketio.BroadcastEncodes(io)
	for i := range broadcasts {
		if err := io.To("room").Emit("msg", i, []byte{1, 2}); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "every delivery", 30*time.Second, func() bool {
		for _, r := range readers {
			if r.events.Load() < broadcasts {
				return false
			}
		}
		return true
	})
	if n := socketio.BroadcastEncodes(io) - before; n != broadcasts {
		t.Fatalf("%d encodes for %d broadcasts to %d sockets", n, broadcasts, clients)
	}
}

func TestSlowConsumer(t *testing.T) {
	// One client of a room of 1,000 stops reading (a polling client that no longer polls):
	// broadcasts keep reaching the others, and the slow client is dropped when its bounded
	// queue is full.
	opts := socketio.Options{}
	opts.Engine.MaxQueuedPackets = 100
	io := socketio.NewServer(opts)
	reasons := make(chan socketio.DisconnectReason, 1)
	var slowID atomic.Value
	io.OnConnection(func(s *socketio.Socket) {
		s.Join("room")
		s.OnDisconnect(func(r socketio.DisconnectReason) {
			if id, _ := slowID.Load().(string); id == s.ID() {
				reasons <- r
			}
		})
	})
	srv := startServer(t, io)
	const readersN, broadcasts = 999, 300
	readers := make([]*reader, readersN)
	for i := range readers {
		readers[i] = dialReader(t, srv)
	}
	defer func() {
		for _, r := range readers {
			r.close()
		}
	}()
	// The slow client: a polling session that connects, then never polls again.
	sid := pollHandshake(t, srv.URL)
	post(t, srv.URL, sid, "40")
	body := poll(t, srv.URL, sid)
	if !strings.HasPrefix(body, `40{"sid":"`) {
		t.Fatalf("slow client connect: %q", body)
	}
	slowID.Store(strings.TrimSuffix(strings.TrimPrefix(body, `40{"sid":"`), `"}`))
	// A client sees its CONNECT answer before the connection hook runs: wait for the joins.
	waitUntil(t, "every socket in the room", 30*time.Second, func() bool {
		return len(io.Of("/").Adapter().Sockets("room")) == readersN+1
	})

	for i := range broadcasts {
		if err := io.To("room").Emit("msg", i); err != nil {
			t.Fatal(err)
		}
		if (i+1)%50 == 0 {
			// Pace the broadcasts as the readers read, so that on a loaded machine none of
			// them falls a whole queue behind: only the client that stopped reading must.
			waitUntil(t, "the readers to catch up", 30*time.Second, func() bool {
				for _, r := range readers {
					if r.events.Load() < int64(i+1) {
						return false
					}
				}
				return true
			})
		}
	}
	select {
	case r := <-reasons:
		if r != socketio.ReasonTransportError {
			t.Fatalf("slow client disconnected with %q", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the slow client was not dropped")
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		short, minimum, maximum := 0, int64(broadcasts), int64(0)
		for _, r := range readers {
			n := r.events.Load()
			if n != broadcasts {
				short++
			}
			minimum, maximum = min(minimum, n), max(maximum, n)
		}
		if short == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d readers short of %d deliveries (min %d, max %d)", short, broadcasts, minimum, maximum)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func pollHandshake(t testing.TB, base string) string {
	t.Helper()
	res, err := http.Get(base + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b := readAll(t, res)
	const prefix = `0{"sid":"`
	s := string(b)
	if !strings.HasPrefix(s, prefix) {
		t.Fatalf("handshake %q", s)
	}
	return s[len(prefix) : len(prefix)+20]
}

func post(t testing.TB, base, sid, body string) {
	t.Helper()
	res, err := http.Post(base+"/socket.io/?EIO=4&transport=polling&sid="+sid, "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
}

func poll(t testing.TB, base, sid string) string {
	t.Helper()
	res, err := http.Get(base + "/socket.io/?EIO=4&transport=polling&sid=" + sid)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	return string(readAll(t, res))
}

func TestConcurrentRoomsAndBroadcasts(t *testing.T) {
	// Many goroutines join, leave, disconnect and broadcast at once: the race detector must
	// stay quiet, membership must come out exact, and nothing may deadlock.
	io := socketio.NewServer(socketio.Options{})
	srv := startServer(t, io)
	const clients = 300
	readers := make([]*reader, clients)
	for i := range readers {
		readers[i] = dialReader(t, srv)
	}
	waitUntil(t, "every socket", 10*time.Second, func() bool { return len(io.Sockets()) == clients })
	stop := make(chan struct{})
	var bg sync.WaitGroup
	for b := range 4 {
		bg.Add(1)
		go func() {
			defer bg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_ = io.To("a", "c").Except("x").Emit("msg", b, i)
				_, _ = io.In("a").FetchSockets(context.Background())
			}
		}()
	}
	var wg sync.WaitGroup
	for i, r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := io.Of("/").Socket(r.id)
			if s == nil {
				t.Errorf("socket %s not found", r.id)
				return
			}
			for j := range 20 {
				s.Join("a", "b", "c", fmt.Sprintf("r%d", j))
				s.Leave("b")
				s.Leave(fmt.Sprintf("r%d", j))
			}
			if i%3 == 0 {
				s.Disconnect(i%2 == 0)
			}
		}()
	}
	wg.Wait()
	close(stop)
	bg.Wait()
	for i, r := range readers {
		s := io.Of("/").Socket(r.id)
		if i%3 == 0 {
			waitUntil(t, "disconnect of "+r.id, 5*time.Second, func() bool {
				return io.Of("/").Socket(r.id) == nil && io.Of("/").Adapter().SocketRooms(socketio.RoomID(r.id)) == nil
			})
			continue
		}
		if s == nil {
			t.Fatalf("socket %d lost", i)
		}
		rooms := sorted(s.Rooms()...)
		if want := sorted("a", "c", r.id); jsonOf(rooms) != jsonOf(want) {
			t.Fatalf("socket %d rooms %v, want %v", i, rooms, want)
		}
	}
	for _, r := range readers {
		r.close()
	}
}
