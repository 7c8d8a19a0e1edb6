package diff_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/echo-socketio/echo-socketio/engineio"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// The Go side of the differential test: the application of test/diff/server.mjs, on the three
// endpoints it has there.

// newFixture returns the handler of the three endpoints and a function that shuts them down.
func newFixture() (http.Handler, func(context.Context)) {
	mux := http.NewServeMux()
	servers := []*socketio.Server{
		socketio.NewServer(socketio.Options{Path: "/socket.io/"}),
		socketio.NewServer(socketio.Options{Path: "/fast/", Engine: engineio.Options{
			PingInterval: 400 * time.Millisecond, PingTimeout: 300 * time.Millisecond,
			UpgradeTimeout: 500 * time.Millisecond,
		}}),
		socketio.NewServer(socketio.Options{Path: "/recovery/",
			ConnectionStateRecovery: &socketio.Recovery{MaxDisconnectionDuration: time.Minute}}),
	}
	for _, io := range servers {
		newApp(io)
		mux.Handle(io.Path(), io)
	}
	return mux, func(ctx context.Context) {
		for _, io := range servers {
			_ = io.Shutdown(ctx)
		}
	}
}

// app is the state of one endpoint's application.
type app struct {
	io      *socketio.Server
	mu      sync.Mutex
	byName  map[string]*socketio.Socket          // kept after they disconnect
	reasons map[string]socketio.DisconnectReason // the last disconnection's, by the auth's tag
}

func newApp(io *socketio.Server) {
	a := &app{io: io, byName: map[string]*socketio.Socket{}, reasons: map[string]socketio.DisconnectReason{}}
	io.Use(func(s *socketio.Socket) error {
		var auth struct {
			Token string `json:"token"`
		}
		_ = s.Auth(&auth)
		switch auth.Token {
		case "bad":
			return &socketio.ConnectError{Message: "unauthorized", Data: map[string]int{"code": 401}}
		case "plain":
			return errors.New("nope")
		}
		return nil
	})
	io.OnConnection(a.events)
	io.Of("/admin").OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("nsp", "/admin")
		a.events(s)
	})
	io.Of("/guarded").Use(func(*socketio.Socket) error { return errors.New("go away") })
	io.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`)).OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("nsp", s.Namespace().Name())
		a.events(s)
	})
}

func (a *app) events(s *socketio.Socket) {
	var auth struct {
		Welcome bool `json:"welcome"`
	}
	_ = s.Auth(&auth)
	if auth.Welcome {
		_ = s.Emit("welcome", "hello")
	}
	s.On("echo", func(args socketio.Args) { _ = s.Emit("echo", args.Any()...) })
	s.On("echo-ack", func(args socketio.Args, ack socketio.Ack) { _ = ack(args.Any()...) })
	s.On("join", func(room string, ack socketio.Ack) { s.Join(room); _ = ack(true) })
	s.On("leave", func(room string, ack socketio.Ack) { s.Leave(room); _ = ack(true) })
	s.On("to", func(args socketio.Args) {
		var room string
		if len(args) > 0 {
			_ = args[0].Decode(&room)
			args = args[1:]
		}
		_ = s.To(room).Emit("relay", args.Any()...)
	})
	s.On("all", func(args socketio.Args) { _ = s.Namespace().Emit("all", args.Any()...) })
	s.On("others", func(args socketio.Args) { _ = s.Broadcast().Emit("others", args.Any()...) })
	s.On("ask", func(args socketio.Args) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			reply, err := s.EmitWithAck(ctx, "question", args.Any()...)
			if err != nil {
				_ = s.Emit("answer-error", err.Error())
				return
			}
			_ = s.Emit("answer", reply.Any()...)
		}()
	})
	s.On("burst", func(n int) {
		for i := range n {
			_ = s.Emit("n", i)
		}
	})
	s.On("bin", func() {
		_ = s.Emit("bin", []byte{1, 2, 3}, struct {
			Nested []byte `json:"nested"`
			List   []any  `json:"list"`
		}{[]byte{4}, []any{[]byte{}, "x"}})
	})
	s.On("volatile", func() { _ = s.EmitVolatile("v", 1) })
	s.On("whoami", func(ack socketio.Ack) { _ = ack(s.ID(), s.Namespace().Name(), otherRooms(s)) })
	s.On("bye", func(closeConn bool) { s.Disconnect(closeConn) })
	s.On("close-conn", func() { s.Conn().Close() })
	s.On("register", func(name string, ack socketio.Ack) {
		a.mu.Lock()
		a.byName[name] = s
		a.mu.Unlock()
		_ = ack(true)
	})
	s.On("emit-kinds", func(name, room string, ack socketio.Ack) {
		a.mu.Lock()
		t := a.byName[name]
		a.mu.Unlock()
		_ = t.Emit("direct", "msg:direct")
		_ = t.Emit("direct", 1, "msg:direct-2")
		_ = a.io.To(room).Emit("room", "msg:room")
		_ = a.io.Emit("everyone", "msg:everyone")
		_ = a.io.Except(s.ID()).Emit("except", "msg:except")
		_ = a.io.Volatile().To(room).Emit("volatile", "msg:volatile")
		_ = s.Broadcast().Emit("broadcast", "msg:broadcast")
		_ = a.io.To(room).Emit("room-bin", []byte{9, 8}, "msg:bin")
		_ = ack(true)
	})
	s.OnDisconnect(func(reason socketio.DisconnectReason) {
		var auth struct {
			Tag string `json:"tag"`
		}
		if _ = s.Auth(&auth); auth.Tag != "" {
			a.mu.Lock()
			a.reasons[auth.Tag] = reason
			a.mu.Unlock()
		}
	})
	s.On("last-reason", func(tag string, ack socketio.Ack) {
		a.mu.Lock()
		r, ok := a.reasons[tag]
		delete(a.reasons, tag)
		a.mu.Unlock()
		if !ok {
			_ = ack(nil)
			return
		}
		_ = ack(string(r))
	})
}

// otherRooms returns the socket's rooms but its own, sorted.
func otherRooms(s *socketio.Socket) []string {
	out := []string{}
	for _, r := range s.Rooms() {
		if r != s.ID() {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out
}
