package socketio_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio"
)

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestEventFloodSlowHandler floods a handler that takes 50 ms per event with 1 KiB events.
// With the bounded inbox the server stops reading the connection, and its heap stays within
// floodHeapBound of where it started, whatever the client sends.
func TestEventFloodSlowHandler(t *testing.T) {
	const (
		events         = 150_000
		floodHeapBound = 48 << 20
	)
	stop := make(chan struct{})
	var handled atomic.Int64
	io := socketio.NewServer(socketio.Options{})
	io.OnConnection(func(s *socketio.Socket) {
		s.On("ev", func(json.RawMessage) {
			handled.Add(1)
			select {
			case <-stop:
			case <-time.After(50 * time.Millisecond):
			}
		})
	})
	srv := startServer(t, io)
	defer close(stop)
	base := liveHeap()

	c := dialRaw(t, srv)
	c.send("40")
	c.read()
	frame := []byte(`42["ev","` + strings.Repeat("x", 1024) + `"]`)
	var sent atomic.Int64
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for range events {
			_ = c.ws.SetWriteDeadline(time.Now().Add(30 * time.Second))
			if err := c.ws.WriteMessage(websocket.TextMessage, frame); err != nil {
				return
			}
			sent.Add(1)
		}
	}()
	// Wait until the client is done or stalled by the server's backpressure.
	last, still := int64(-1), 0
	for still < 4 {
		select {
		case <-writerDone:
			still = 4
			continue
		case <-time.After(500 * time.Millisecond):
		}
		if n := sent.Load(); n == last {
			still++
		} else {
			last, still = n, 0
		}
	}
	growth := int64(liveHeap()) - int64(base)
	t.Logf("sent %d of %d events, %d handled, heap growth %d KiB", sent.Load(), events, handled.Load(), growth>>10)
	if growth > floodHeapBound {
		t.Fatalf("heap grew by %d MiB under an event flood (bound %d MiB)", growth>>20, floodHeapBound>>20)
	}
	if sent.Load() == events {
		t.Fatal("the server read the whole flood: no backpressure")
	}
	c.ws.Close()
	<-writerDone
}

// TestInboxTimeout: a client whose events wait for a stuck handler longer than InboxTimeout is
// disconnected with ReasonInboxTimeout, on both transports.
func TestInboxTimeout(t *testing.T) {
	for _, transport := range []string{"websocket", "polling"} {
		t.Run("nok, "+transport, func(t *testing.T) {
			stop := make(chan struct{})
			reasons := make(chan socketio.DisconnectReason, 1)
			io := socketio.NewServer(socketio.Options{MaxInboxPackets: 2, InboxTimeout: 300 * time.Millisecond})
			io.OnConnection(func(s *socketio.Socket) {
				s.On("ev", func() { <-stop })
				s.OnDisconnect(func(r socketio.DisconnectReason) { reasons <- r })
			})
			srv := startServer(t, io)
			release := sync.OnceFunc(func() { close(stop) })
			defer release()
			frames := strings.Repeat(`42["ev"]`+"\x1e", 5) + `42["ev"]`
			if transport == "websocket" {
				c := dialRaw(t, srv)
				c.send("40")
				c.read()
				c.send(strings.Split(frames, "\x1e")...)
				c.closed()
			} else {
				sid := pollHandshake(t, srv.URL)
				post(t, srv.URL, sid, "40")
				poll(t, srv.URL, sid)
				res, err := http.Post(srv.URL+"/socket.io/?EIO=4&transport=polling&sid="+sid, "text/plain", strings.NewReader(frames))
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
			}
			release() // the disconnect hooks run after the events before them
			select {
			case r := <-reasons:
				if r != socketio.ReasonInboxTimeout {
					t.Fatalf("reason %q", r)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("not disconnected")
			}
		})
	}
}

// TestPanickingPacketMiddleware: a packet middleware that panics disconnects its socket with
// ReasonHandlerPanic and reports the panic with its stack; the process and the other sockets
// go on.
func TestPanickingPacketMiddleware(t *testing.T) {
	errs := make(chan error, 4)
	reasons := make(chan socketio.DisconnectReason, 4)
	io := socketio.NewServer(socketio.Options{})
	io.OnError(func(err error) { errs <- err })
	io.OnConnection(func(s *socketio.Socket) {
		s.Use(func(event string, _ socketio.Args) error {
			if event == "boom" {
				panic("middleware bug")
			}
			return nil
		})
		s.On("echo", func(v string, ack socketio.Ack) { _ = ack(v) })
		s.OnDisconnect(func(r socketio.DisconnectReason) { reasons <- r })
	})
	srv := startServer(t, io)
	a, b := dialRaw(t, srv), dialRaw(t, srv)
	a.send("40")
	a.read()
	b.send("40")
	b.read()
	a.send(`42["boom"]`)
	if m := a.read(); m != "41" {
		t.Fatalf("the panicking socket got %q, want a DISCONNECT", m)
	}
	select {
	case err := <-errs:
		var pe *socketio.PanicError
		if !errors.As(err, &pe) || pe.Where != "packet middleware" || !strings.Contains(string(pe.Stack), "hardening_test.go") {
			t.Fatalf("error %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("panic not reported")
	}
	select {
	case r := <-reasons:
		if r != socketio.ReasonHandlerPanic {
			t.Fatalf("reason %q", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the socket was not disconnected")
	}
	b.send(`421["echo","still here"]`)
	if m := b.read(); m != `431["still here"]` {
		t.Fatalf("the other socket got %q", m)
	}
	if n := len(io.Sockets()); n != 1 {
		t.Fatalf("%d sockets connected, want 1", n)
	}
}

// TestApplicationCodePanics makes every kind of application code panic in turn.
func TestApplicationCodePanics(t *testing.T) {
	cases := []struct {
		name    string
		where   string
		setup   func(io *socketio.Server)
		frames  []string
		dropped bool // the socket is disconnected by the panic
	}{
		{"nok, connection hook", "connection hook", func(io *socketio.Server) {
			io.OnConnection(func(*socketio.Socket) { panic("x") })
		}, nil, true},
		{"nok, event handler", `handler of "ev"`, func(io *socketio.Server) {
			io.OnConnection(func(s *socketio.Socket) { s.On("ev", func() { panic("x") }) })
		}, []string{`42["ev"]`}, true},
		{"nok, typed event handler", `handler of "ev"`, func(io *socketio.Server) {
			io.OnConnection(func(s *socketio.Socket) { s.On("ev", func(int, string) { panic(errors.New("x")) }) })
		}, []string{`42["ev",1,"a"]`}, true},
		{"nok, OnAny listener", "OnAny listener", func(io *socketio.Server) {
			io.OnConnection(func(s *socketio.Socket) { s.OnAny(func(string, socketio.Args) { panic("x") }) })
		}, []string{`42["ev"]`}, true},
		{"nok, OnAnyOutgoing listener", "OnAnyOutgoing listener", func(io *socketio.Server) {
			io.OnConnection(func(s *socketio.Socket) {
				s.OnAnyOutgoing(func(string, []any) { panic("x") })
				s.On("ev", func() { _ = s.Emit("out") })
			})
		}, []string{`42["ev"]`}, true},
		{"nok, namespace middleware", "namespace middleware", func(io *socketio.Server) {
			io.Use(func(*socketio.Socket) error { panic("x") })
		}, nil, false},
		{"nok, namespace matcher", "namespace matcher", func(io *socketio.Server) {
			io.OfFunc(func(string, json.RawMessage) bool { panic("x") })
		}, []string{"40/dyn,"}, false},
		{"nok, disconnect hook", "disconnect hook", func(io *socketio.Server) {
			io.OnConnection(func(s *socketio.Socket) {
				s.OnDisconnect(func(socketio.DisconnectReason) { panic("x") })
			})
		}, []string{"41"}, false},
		{"nok, disconnecting hook", "disconnecting hook", func(io *socketio.Server) {
			io.OnConnection(func(s *socketio.Socket) {
				s.OnDisconnecting(func(socketio.DisconnectReason) { panic("x") })
			})
		}, []string{"41"}, false},
		{"nok, socket error hook", "OnError hook", func(io *socketio.Server) {
			io.OnConnection(func(s *socketio.Socket) {
				s.OnError(func(error) { panic("x") })
				s.On("ev", func(int) {})
			})
		}, []string{`42["ev","not a number"]`}, false},
		{"nok, room hook", "join-room hook", func(io *socketio.Server) {
			io.Of("/").OnRoomEvents(roomJoinPanics())
			io.OnConnection(func(s *socketio.Socket) { s.On("join", func() { s.Join("r") }) })
		}, []string{`42["join"]`}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := make(chan error, 8)
			io := socketio.NewServer(socketio.Options{})
			io.OnError(func(err error) { errs <- err })
			tc.setup(io)
			srv := startServer(t, io)
			c := dialRaw(t, srv)
			c.send("40")
			first := c.read()
			c.send(tc.frames...)
			select {
			case err := <-errs:
				var pe *socketio.PanicError
				if !errors.As(err, &pe) || pe.Where != tc.where || len(pe.Stack) == 0 {
					t.Fatalf("error %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("panic not reported (first frame %q)", first)
			}
			if tc.dropped {
				waitUntil(t, "the socket to leave", 10*time.Second, func() bool { return len(io.Sockets()) == 0 })
			}
			// The server still accepts connections.
			d := dialRaw(t, srv)
			d.send("40/nope,")
			if m := d.read(); !strings.HasPrefix(m, "44/nope,") {
				t.Fatalf("after the panic: %q", m)
			}
		})
	}
}

func roomJoinPanics() rooms.RoomEvents {
	return rooms.RoomEvents{Join: func(rooms.Room, rooms.SocketID) { panic("x") }}
}

// TestShutdownWaitsForHooks: Shutdown returns only after every disconnect hook has run.
func TestShutdownWaitsForHooks(t *testing.T) {
	for _, transport := range []string{"websocket", "polling"} {
		t.Run("ok, "+transport, func(t *testing.T) {
			var ran atomic.Int32
			io := socketio.NewServer(socketio.Options{})
			io.OnConnection(func(s *socketio.Socket) {
				s.OnDisconnect(func(socketio.DisconnectReason) {
					time.Sleep(300 * time.Millisecond)
					ran.Add(1)
				})
			})
			srv := startServer(t, io)
			const n = 3
			for range n {
				if transport == "websocket" {
					c := dialRaw(t, srv)
					c.send("40")
					c.read()
				} else {
					sid := pollHandshake(t, srv.URL)
					post(t, srv.URL, sid, "40")
					poll(t, srv.URL, sid)
					go func() { _ = pollNoFail(srv.URL, sid) }()
				}
			}
			waitUntil(t, "the sockets", 10*time.Second, func() bool { return len(io.Sockets()) == n })
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := io.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			if got := ran.Load(); got != n {
				t.Fatalf("Shutdown returned after %d of %d disconnect hooks", got, n)
			}
		})
	}
}

// TestNamespaceFlood: one connection joins and leaves dynamic namespaces without end; the
// children stay under the cap, and with cleanup the empty ones go.
func TestNamespaceFlood(t *testing.T) {
	t.Run("nok, cap", func(t *testing.T) {
		io := socketio.NewServer(socketio.Options{MaxChildNamespaces: 20})
		parent := io.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`))
		srv := startServer(t, io)
		c := dialRaw(t, srv)
		refused := 0
		for i := range 100 {
			nsp := "/dyn-" + strconv.Itoa(i)
			c.send("40" + nsp + ",")
			m := c.read()
			switch {
			case strings.HasPrefix(m, "40"+nsp+",{"):
				c.send("41" + nsp + ",")
			case m == "44"+nsp+`,{"message":"Too many namespaces"}`:
				refused++
			default:
				t.Fatalf("CONNECT %d answered %q", i, m)
			}
		}
		if n := len(parent.Children()); n != 20 || refused != 80 {
			t.Fatalf("%d children, %d refused", n, refused)
		}
	})
	t.Run("ok, cleanup of empty children", func(t *testing.T) {
		io := socketio.NewServer(socketio.Options{CleanupEmptyChildNamespaces: true, MaxChildNamespaces: 20})
		parent := io.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`))
		srv := startServer(t, io)
		c := dialRaw(t, srv)
		for i := range 200 {
			nsp := "/dyn-" + strconv.Itoa(i)
			c.send("40" + nsp + ",")
			if m := c.read(); !strings.HasPrefix(m, "40"+nsp+",{") {
				t.Fatalf("CONNECT %d answered %q", i, m)
			}
			c.send("41" + nsp + ",")
		}
		waitUntil(t, "the children to go", 10*time.Second, func() bool { return len(parent.Children()) == 0 })
		// A child with a socket stays.
		c.send("40/dyn-7,")
		c.read()
		time.Sleep(100 * time.Millisecond)
		if n := len(parent.Children()); n != 1 {
			t.Fatalf("%d children with one socket connected", n)
		}
	})
}
