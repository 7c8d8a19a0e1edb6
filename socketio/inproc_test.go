package socketio_test

// Socket behaviour tested through the in-process client of package socketiotest: no network,
// no Node. The interop tests with the official clients are in interop_test.go.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio"
	"github.com/echo-socketio/echo-socketio/socketio/socketiotest"
)

const inprocWait = 10 * time.Second

func inprocServer(t *testing.T, opts socketio.Options) *socketio.Server {
	t.Helper()
	srv := socketio.NewServer(opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), inprocWait)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return srv
}

func inprocCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), inprocWait)
	t.Cleanup(cancel)
	return ctx
}

func inprocConnect(t *testing.T, srv *socketio.Server, nsp string, auth any) *socketiotest.Socket {
	t.Helper()
	c, err := socketiotest.Connect(inprocCtx(t), srv, nsp, auth)
	if err != nil {
		t.Fatalf("connect %s: %v", nsp, err)
	}
	t.Cleanup(c.Close)
	return c
}

func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(inprocWait):
		t.Fatalf("nothing received within %v", inprocWait)
		panic("unreachable")
	}
}

func expect(t *testing.T, c *socketiotest.Socket, event string) *socketiotest.Event {
	t.Helper()
	e, err := c.Expect(inprocCtx(t), event)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// onConnect registers fn as the main namespace's connection hook and returns a channel of the
// connected server sockets.
func onConnect(srv *socketio.Server, fn func(*socketio.Socket)) <-chan *socketio.Socket {
	ch := make(chan *socketio.Socket, 16)
	srv.OnConnection(func(s *socketio.Socket) {
		if fn != nil {
			fn(s)
		}
		ch <- s
	})
	return ch
}

func TestInProcConnectID(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	socks := onConnect(srv, nil)
	c := inprocConnect(t, srv, "/", nil)
	s := recv(t, socks)
	if c.ID() == "" || c.ID() != s.ID() {
		t.Fatalf("client ID %q, server ID %q", c.ID(), s.ID())
	}
	if c.Namespace() != "/" || s.Namespace().Name() != "/" {
		t.Fatalf("namespaces %q %q", c.Namespace(), s.Namespace().Name())
	}
}

func TestInProcTypedHandler(t *testing.T) {
	type msg struct {
		Room string `json:"room"`
		Text string `json:"text"`
	}
	srv := inprocServer(t, socketio.Options{})
	got := make(chan msg, 1)
	onConnect(srv, func(s *socketio.Socket) { s.On("chat", func(m msg, n int) { m.Text += fmt.Sprint(n); got <- m }) })
	c := inprocConnect(t, srv, "/", nil)
	if err := c.Emit("chat", msg{Room: "r", Text: "hi"}, 7); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, got); m != (msg{Room: "r", Text: "hi7"}) {
		t.Fatalf("got %+v", m)
	}
}

func TestInProcClientAck(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	onConnect(srv, func(s *socketio.Socket) {
		s.On("sum", func(a, b int, ack socketio.Ack) error { return ack(a+b, "ok") })
	})
	c := inprocConnect(t, srv, "/", nil)
	r, err := c.EmitWithAck(inprocCtx(t), "sum", 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	var sum int
	var ok string
	if err := r.Decode(&sum, &ok); err != nil || sum != 5 || ok != "ok" {
		t.Fatalf("reply %v: %d %q %v", r, sum, ok, err)
	}
}

func TestInProcServerEmit(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	onConnect(srv, func(s *socketio.Socket) { _ = s.Emit("welcome", "hello", 42, map[string]bool{"x": true}) })
	c := inprocConnect(t, srv, "/", nil)
	e := expect(t, c, "welcome")
	var s string
	var n int
	var m map[string]bool
	if err := e.Decode(&s, &n, &m); err != nil || s != "hello" || n != 42 || !m["x"] {
		t.Fatalf("args %v: %v", e.Args, err)
	}
	if e.Ack != nil {
		t.Fatal("an event without acknowledgement has an Ack")
	}
}

func TestInProcServerEmitWithAck(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	replies := make(chan socketio.Reply, 1)
	errs := make(chan error, 1)
	onConnect(srv, func(s *socketio.Socket) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), inprocWait)
			defer cancel()
			r, err := s.EmitWithAck(ctx, "question", "name?")
			errs <- err
			replies <- r
		}()
	})
	c := inprocConnect(t, srv, "/", nil)
	e := expect(t, c, "question")
	if e.Ack == nil {
		t.Fatal("no Ack on an event the server wants answered")
	}
	if err := e.Ack("gopher"); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, errs); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := recv(t, replies).Decode(&name); err != nil || name != "gopher" {
		t.Fatalf("reply %q %v", name, err)
	}
}

func TestInProcBinaryToServer(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	got := make(chan []byte, 1)
	onConnect(srv, func(s *socketio.Socket) { s.On("upload", func(b []byte) { got <- b }) })
	c := inprocConnect(t, srv, "/", nil)
	want := []byte{0, 1, 2, 255}
	if err := c.Emit("upload", want); err != nil {
		t.Fatal(err)
	}
	if b := recv(t, got); !bytes.Equal(b, want) {
		t.Fatalf("got %v", b)
	}
}

func TestInProcBinaryToClient(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	onConnect(srv, func(s *socketio.Socket) {
		_ = s.Emit("file", []byte("raw"), map[string]any{"name": "a", "data": []byte{9}})
	})
	c := inprocConnect(t, srv, "/", nil)
	e := expect(t, c, "file")
	if len(e.Args) != 2 || !e.Args[0].IsBinary() || string(e.Args[0].Bytes()) != "raw" {
		t.Fatalf("first argument %v is not the binary %q", e.Args, "raw")
	}
	if e.Args[1].IsBinary() || !e.Args[1].HasBinary() {
		t.Fatalf("second argument %v should be an object holding binary", e.Args[1])
	}
	var v any
	if err := e.Args[1].Decode(&v); err != nil {
		t.Fatal(err)
	}
	if b, ok := v.(map[string]any)["data"].([]byte); !ok || !bytes.Equal(b, []byte{9}) {
		t.Fatalf("nested value %#v is not binary", v)
	}
}

func TestInProcBinaryAcks(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	serverGot := make(chan socketio.Reply, 1)
	onConnect(srv, func(s *socketio.Socket) {
		s.On("echo", func(args socketio.Args, ack socketio.Ack) error { return ack(args.Any()...) })
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), inprocWait)
			defer cancel()
			r, _ := s.EmitWithAck(ctx, "give")
			serverGot <- r
		}()
	})
	c := inprocConnect(t, srv, "/", nil)
	r, err := c.EmitWithAck(inprocCtx(t), "echo", []byte{1, 2}, "s")
	if err != nil {
		t.Fatal(err)
	}
	if len(r) != 2 || !r[0].IsBinary() || !bytes.Equal(r[0].Bytes(), []byte{1, 2}) || r[1].IsBinary() {
		t.Fatalf("relayed reply %v", r)
	}
	e := expect(t, c, "give")
	if err := e.Ack([]byte("back")); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, serverGot); len(got) != 1 || !got[0].IsBinary() || string(got[0].Bytes()) != "back" {
		t.Fatalf("server got %v", got)
	}
}

func TestInProcNamespaces(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	srv.Of("/admin").OnConnection(func(s *socketio.Socket) { _ = s.Emit("where", s.Namespace().Name()) })
	onConnect(srv, func(s *socketio.Socket) { _ = s.Emit("where", s.Namespace().Name()) })
	cl, err := socketiotest.Dial(inprocCtx(t), srv, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	main, err := cl.Connect(inprocCtx(t), "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := cl.Connect(inprocCtx(t), "/admin", nil)
	if err != nil {
		t.Fatal(err)
	}
	for c, want := range map[*socketiotest.Socket]string{main: "/", admin: "/admin"} {
		var got string
		if err := expect(t, c, "where").Decode(&got); err != nil || got != want {
			t.Fatalf("socket of %s got %q %v", want, got, err)
		}
	}
	if main.ID() == admin.ID() {
		t.Fatal("two namespaces, one socket ID")
	}
}

func TestInProcUnknownNamespace(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	cl, err := socketiotest.Dial(inprocCtx(t), srv, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	_, err = cl.Connect(inprocCtx(t), "/nope", nil)
	var ce *socketiotest.ConnectError
	if !errors.As(err, &ce) || ce.Message != "Invalid namespace" {
		t.Fatalf("got %v", err)
	}
}

func TestInProcMiddlewareRefusal(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	srv.Use(func(s *socketio.Socket) error {
		var a struct{ Token string }
		if err := s.Auth(&a); err != nil || a.Token != "secret" {
			return &socketio.ConnectError{Message: "not authorized", Data: map[string]string{"code": "E_AUTH"}}
		}
		return nil
	})
	_, err := socketiotest.Connect(inprocCtx(t), srv, "/", map[string]string{"token": "wrong"})
	var ce *socketiotest.ConnectError
	if !errors.As(err, &ce) || ce.Message != "not authorized" || string(ce.Data) != `{"code":"E_AUTH"}` {
		t.Fatalf("got %v (%+v)", err, ce)
	}
	inprocConnect(t, srv, "/", map[string]string{"token": "secret"})
}

func TestInProcHandshake(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	socks := onConnect(srv, nil)
	cl, err := socketiotest.Dial(inprocCtx(t), srv, &socketiotest.Options{
		Header:     http.Header{"X-Team": {"blue"}},
		Query:      url.Values{"room": {"lobby"}},
		RemoteAddr: "198.51.100.7:5555",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	if _, err := cl.Connect(inprocCtx(t), "/", map[string]int{"n": 1}); err != nil {
		t.Fatal(err)
	}
	h := recv(t, socks).Handshake()
	if got := http.Header(h.Headers).Get("X-Team"); got != "blue" {
		t.Fatalf("header %q", got)
	}
	if got := url.Values(h.Query).Get("room"); got != "lobby" {
		t.Fatalf("query %q", got)
	}
	if h.Address != "198.51.100.7" || string(h.Auth) != `{"n":1}` {
		t.Fatalf("address %q, auth %s", h.Address, h.Auth)
	}
}

// TestInProcHandshakeBuiltOnDemand: the handshake record, built at the first call of
// Handshake, has the time the socket connected, is the same record for concurrent callers,
// and is built as well once the socket disconnected.
func TestInProcHandshakeBuiltOnDemand(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	socks := onConnect(srv, nil)
	cl, err := socketiotest.Dial(inprocCtx(t), srv, &socketiotest.Options{
		Header: http.Header{"X-Team": {"blue"}},
		Query:  url.Values{"room": {"lobby"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	before := time.Now().UnixMilli()
	if _, err := cl.Connect(inprocCtx(t), "/", nil); err != nil {
		t.Fatal(err)
	}
	after := time.Now().UnixMilli()
	s := recv(t, socks)
	var m map[string]any
	if err := s.Auth(&m); err != nil || len(m) != 0 {
		t.Fatalf("auth without a payload: %v, %v", m, err)
	}
	cl.Close()
	select {
	case <-s.Done():
	case <-inprocCtx(t).Done():
		t.Fatal("the socket did not disconnect")
	}
	got := make([]*socketio.Handshake, 8)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() { got[i] = s.Handshake() })
	}
	wg.Wait()
	h := got[0]
	for _, g := range got {
		if g != h {
			t.Fatal("concurrent calls got different records")
		}
	}
	if h.Issued < before || h.Issued > after {
		t.Fatalf("issued %d, the socket connected between %d and %d", h.Issued, before, after)
	}
	if want := time.UnixMilli(h.Issued).Format("Mon Jan 02 2006 15:04:05 GMT-0700 (MST)"); h.Time != want {
		t.Fatalf("time %q, want %q", h.Time, want)
	}
	if h.XDomain || h.Secure || string(h.Auth) != "{}" || url.Values(h.Query).Get("room") != "lobby" ||
		http.Header(h.Headers).Get("X-Team") != "blue" ||
		!strings.Contains(h.URL, "room=lobby") || !strings.Contains(h.URL, "EIO=4") {
		t.Fatalf("handshake %+v", h)
	}
	if s.Handshake() != h {
		t.Fatal("a later call built another record")
	}
}

func TestInProcRooms(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	onConnect(srv, func(s *socketio.Socket) {
		s.On("join", func(room string, ack socketio.Ack) { s.Join(room); _ = ack() })
		s.On("say", func(room, text string) { _ = s.To(room).Emit("said", text) })
	})
	a := inprocConnect(t, srv, "/", nil)
	b := inprocConnect(t, srv, "/", nil)
	out := inprocConnect(t, srv, "/", nil)
	for _, c := range []*socketiotest.Socket{a, b} {
		if _, err := c.EmitWithAck(inprocCtx(t), "join", "r1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Emit("say", "r1", "hi"); err != nil {
		t.Fatal(err)
	}
	expect(t, b, "said")
	// The sender is excluded and the outsider gets nothing: a later direct emit is the
	// first thing each of them receives.
	for _, c := range []*socketiotest.Socket{a, out} {
		if err := srv.Of("/").To(c.ID()).Emit("direct"); err != nil {
			t.Fatal(err)
		}
		expect(t, c, "direct")
	}
}

func TestInProcLeave(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	socks := onConnect(srv, func(s *socketio.Socket) { s.Join("a", "b") })
	inprocConnect(t, srv, "/", nil)
	s := recv(t, socks)
	s.Leave("a")
	if got := s.Rooms(); !slices.Contains(got, "b") || slices.Contains(got, "a") || !slices.Contains(got, s.ID()) {
		t.Fatalf("rooms %v", got)
	}
}

func TestInProcServerDisconnect(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	reasons := make(chan socketio.DisconnectReason, 1)
	socks := onConnect(srv, func(s *socketio.Socket) { s.OnDisconnect(func(r socketio.DisconnectReason) { reasons <- r }) })
	c := inprocConnect(t, srv, "/", nil)
	recv(t, socks).Disconnect(false)
	<-c.Done()
	if c.DisconnectReason() != "io server disconnect" {
		t.Fatalf("client reason %q", c.DisconnectReason())
	}
	if r := recv(t, reasons); r != socketio.ReasonServerNamespaceDisconnect {
		t.Fatalf("server reason %q", r)
	}
	if err := c.Emit("x"); !errors.Is(err, socketiotest.ErrClosed) {
		t.Fatalf("emit after disconnect: %v", err)
	}
}

func TestInProcClientNamespaceDisconnect(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	reasons := make(chan socketio.DisconnectReason, 1)
	onConnect(srv, func(s *socketio.Socket) { s.OnDisconnect(func(r socketio.DisconnectReason) { reasons <- r }) })
	c := inprocConnect(t, srv, "/", nil)
	c.Close()
	if r := recv(t, reasons); r != socketio.ReasonClientNamespaceDisconnect {
		t.Fatalf("reason %q", r)
	}
	if c.DisconnectReason() != "io client disconnect" {
		t.Fatalf("client reason %q", c.DisconnectReason())
	}
}

func TestInProcTransportClose(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	reasons := make(chan socketio.DisconnectReason, 2)
	onConnect(srv, func(s *socketio.Socket) { s.OnDisconnect(func(r socketio.DisconnectReason) { reasons <- r }) })
	srv.Of("/b").OnConnection(func(s *socketio.Socket) { s.OnDisconnect(func(r socketio.DisconnectReason) { reasons <- r }) })
	cl, err := socketiotest.Dial(inprocCtx(t), srv, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, nsp := range []string{"/", "/b"} {
		if _, err := cl.Connect(inprocCtx(t), nsp, nil); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()
	for range 2 {
		if r := recv(t, reasons); r != socketio.ReasonTransportClose {
			t.Fatalf("reason %q", r)
		}
	}
}

func TestInProcEventOrder(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	const n = 200
	got := make(chan int, n)
	onConnect(srv, func(s *socketio.Socket) {
		s.On("n", func(i int) { got <- i })
		for i := range n {
			_ = s.Emit("m", i)
		}
	})
	c := inprocConnect(t, srv, "/", nil)
	for i := range n {
		if err := c.Emit("n", i); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if v := recv(t, got); v != i {
			t.Fatalf("server got %d at position %d", v, i)
		}
		var v int
		if err := expect(t, c, "m").Decode(&v); err != nil || v != i {
			t.Fatalf("client got %d at position %d (%v)", v, i, err)
		}
	}
}

func TestInProcArgumentError(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	errs := make(chan error, 1)
	onConnect(srv, func(s *socketio.Socket) {
		s.OnError(func(err error) { errs <- err })
		s.On("age", func(int) { t.Error("handler ran with an argument of the wrong type") })
	})
	c := inprocConnect(t, srv, "/", nil)
	if err := c.Emit("age", "not a number"); err != nil {
		t.Fatal(err)
	}
	var ae *socketio.ArgumentError
	if err := recv(t, errs); !errors.As(err, &ae) || ae.Event != "age" || ae.Index != 0 {
		t.Fatalf("got %v", err)
	}
}

func TestInProcHandlerError(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	errs := make(chan error, 1)
	boom := errors.New("boom")
	onConnect(srv, func(s *socketio.Socket) {
		s.OnError(func(err error) { errs <- err })
		s.On("fail", func() error { return boom })
	})
	c := inprocConnect(t, srv, "/", nil)
	_ = c.Emit("fail")
	if err := recv(t, errs); !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
}

func TestInProcOnAnyAndPacketMiddleware(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	seen := make(chan string, 4)
	handled := make(chan string, 4)
	onConnect(srv, func(s *socketio.Socket) {
		s.Use(func(event string, _ socketio.Args) error {
			if event == "blocked" {
				return errors.New("blocked")
			}
			return nil
		})
		s.OnAny(func(event string, _ socketio.Args) { seen <- event })
		s.On("ok", func() { handled <- "ok" })
		s.On("blocked", func() { handled <- "blocked" })
	})
	c := inprocConnect(t, srv, "/", nil)
	_ = c.Emit("blocked")
	_ = c.Emit("ok")
	if e := recv(t, seen); e != "ok" {
		t.Fatalf("OnAny saw %q first", e)
	}
	if h := recv(t, handled); h != "ok" {
		t.Fatalf("handled %q", h)
	}
}

func TestInProcReservedEmit(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	errs := make(chan error, 1)
	onConnect(srv, func(s *socketio.Socket) { errs <- s.Emit("disconnect") })
	c := inprocConnect(t, srv, "/", nil)
	if err := recv(t, errs); !errors.Is(err, socketio.ErrReservedEvent) {
		t.Fatalf("server emit of a reserved name: %v", err)
	}
	for _, name := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		if err := srv.Emit(name); !errors.Is(err, socketio.ErrReservedEvent) {
			t.Fatalf("broadcast of %q: %v", name, err)
		}
		if err := c.Emit(name); err == nil {
			t.Fatalf("the client emitted %q", name)
		}
	}
}

func TestInProcHandlerPanic(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	srv.OnError(func(error) {}) // the panic reaches the socket's hook; no log
	reasons := make(chan socketio.DisconnectReason, 1)
	errs := make(chan error, 1)
	onConnect(srv, func(s *socketio.Socket) {
		s.OnError(func(err error) { errs <- err })
		s.OnDisconnect(func(r socketio.DisconnectReason) { reasons <- r })
		s.On("bad", func() { panic("oops") })
	})
	other := inprocConnect(t, srv, "/", nil)
	c := inprocConnect(t, srv, "/", nil)
	_ = c.Emit("bad")
	var pe *socketio.PanicError
	if err := recv(t, errs); !errors.As(err, &pe) {
		t.Fatalf("error %v", err)
	}
	if r := recv(t, reasons); r != socketio.ReasonHandlerPanic {
		t.Fatalf("reason %q", r)
	}
	<-c.Done()
	if other.DisconnectReason() != "" {
		t.Fatalf("another socket was disconnected: %q", other.DisconnectReason())
	}
}

func TestInProcServerBroadcast(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	cs := []*socketiotest.Socket{inprocConnect(t, srv, "/", nil), inprocConnect(t, srv, "/", nil)}
	if err := srv.Emit("news", "all"); err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		expect(t, c, "news")
	}
}

func TestInProcBroadcastWithAcks(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	cs := []*socketiotest.Socket{inprocConnect(t, srv, "/", nil), inprocConnect(t, srv, "/", nil)}
	type result struct {
		r   []socketio.Reply
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := srv.Timeout(inprocWait).EmitWithAck(context.Background(), "vote")
		done <- result{r, err}
	}()
	for i, c := range cs {
		if err := expect(t, c, "vote").Ack(i); err != nil {
			t.Fatal(err)
		}
	}
	res := recv(t, done)
	if res.err != nil || len(res.r) != 2 {
		t.Fatalf("%v %v", res.r, res.err)
	}
}

func TestInProcBroadcastAckTimeout(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	answering := inprocConnect(t, srv, "/", nil)
	silent := inprocConnect(t, srv, "/", nil)
	done := make(chan error, 1)
	replies := make(chan int, 1)
	go func() {
		r, err := srv.Timeout(300*time.Millisecond).EmitWithAck(context.Background(), "vote")
		replies <- len(r)
		done <- err
	}()
	_ = expect(t, answering, "vote").Ack("yes")
	expect(t, silent, "vote")
	var te *socketio.AckTimeoutError
	if err := recv(t, done); !errors.As(err, &te) || te.Missing != 1 || te.Expected != 2 {
		t.Fatalf("got %v", err)
	}
	if n := recv(t, replies); n != 1 {
		t.Fatalf("%d replies", n)
	}
}

func TestInProcFetchSockets(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	hooked := onConnect(srv, func(s *socketio.Socket) { s.Join("vip"); s.Set("name", "ann") })
	c := inprocConnect(t, srv, "/", nil)
	inprocConnect(t, srv, "/", nil)
	// The connection hook runs once the CONNECT answer is on its way: wait until both ran.
	recv(t, hooked)
	recv(t, hooked)
	all, err := srv.FetchSockets(inprocCtx(t))
	if err != nil || len(all) != 2 {
		t.Fatalf("%d sockets, %v", len(all), err)
	}
	vip, err := srv.In(c.ID()).FetchSockets(inprocCtx(t))
	if err != nil || len(vip) != 1 || vip[0].ID() != c.ID() || !slices.Contains(vip[0].Rooms(), "vip") {
		t.Fatalf("%v %v", vip, err)
	}
	if string(vip[0].Data()) != `{"name":"ann"}` {
		t.Fatalf("data %s", vip[0].Data())
	}
}

func TestInProcDynamicNamespace(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	srv.OfRegexp(regexp.MustCompile(`^/team-\d+$`)).OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("in", s.Namespace().Name())
	})
	c := inprocConnect(t, srv, "/team-7", nil)
	var name string
	if err := expect(t, c, "in").Decode(&name); err != nil || name != "/team-7" {
		t.Fatalf("%q %v", name, err)
	}
	cl, err := socketiotest.Dial(inprocCtx(t), srv, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var ce *socketiotest.ConnectError
	if _, err := cl.Connect(inprocCtx(t), "/team-x", nil); !errors.As(err, &ce) {
		t.Fatalf("a name the regexp refuses: %v", err)
	}
}

func TestInProcAckTwice(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	second := make(chan error, 1)
	onConnect(srv, func(s *socketio.Socket) {
		s.On("q", func(ack socketio.Ack) { _ = ack(1); second <- ack(2) })
	})
	c := inprocConnect(t, srv, "/", nil)
	r, err := c.EmitWithAck(inprocCtx(t), "q")
	if err != nil || len(r) != 1 || r[0].String() != "1" {
		t.Fatalf("%v %v", r, err)
	}
	if err := recv(t, second); !errors.Is(err, socketio.ErrAlreadyAcked) {
		t.Fatalf("second answer: %v", err)
	}
}

func TestInProcOff(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	got := make(chan string, 2)
	onConnect(srv, func(s *socketio.Socket) {
		s.On("a", func() { got <- "a"; s.Off("a") })
		s.On("b", func() { got <- "b" })
	})
	c := inprocConnect(t, srv, "/", nil)
	_ = c.Emit("a")
	_ = c.Emit("a")
	_ = c.Emit("b")
	if recv(t, got) != "a" || recv(t, got) != "b" {
		t.Fatal("Off did not remove the handler")
	}
}

func TestInProcOnAnyOutgoing(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	out := make(chan string, 1)
	onConnect(srv, func(s *socketio.Socket) {
		s.OnAnyOutgoing(func(event string, _ []any) { out <- event })
		_ = s.Emit("hello")
	})
	c := inprocConnect(t, srv, "/", nil)
	expect(t, c, "hello")
	if e := recv(t, out); e != "hello" {
		t.Fatalf("%q", e)
	}
}

func TestInProcShutdown(t *testing.T) {
	srv := socketio.NewServer(socketio.Options{})
	reasons := make(chan socketio.DisconnectReason, 1)
	onConnect(srv, func(s *socketio.Socket) { s.OnDisconnect(func(r socketio.DisconnectReason) { reasons <- r }) })
	c, err := socketiotest.Connect(inprocCtx(t), srv, "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := srv.Shutdown(inprocCtx(t)); err != nil {
		t.Fatal(err)
	}
	if r := recv(t, reasons); r != socketio.ReasonServerShuttingDown {
		t.Fatalf("reason %q", r)
	}
	<-c.Done()
}

func TestInProcConcurrentEmitters(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	const n = 8
	var mu sync.Mutex
	count := 0
	all := make(chan struct{})
	onConnect(srv, func(s *socketio.Socket) {
		s.On("hit", func(ack socketio.Ack) {
			mu.Lock()
			count++
			if count == n*10 {
				close(all)
			}
			mu.Unlock()
			_ = ack()
		})
	})
	c := inprocConnect(t, srv, "/", nil)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for range 10 {
				if _, err := c.EmitWithAck(inprocCtx(t), "hit"); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	recv(t, all)
}

func TestInProcAckAfterDisconnect(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	onConnect(srv, func(s *socketio.Socket) { s.On("quit", func(socketio.Ack) { s.Disconnect(false) }) })
	c := inprocConnect(t, srv, "/", nil)
	if _, err := c.EmitWithAck(inprocCtx(t), "quit"); !errors.Is(err, socketiotest.ErrClosed) {
		t.Fatalf("waiting answer of a disconnected socket: %v", err)
	}
}

func TestInProcOnReservedDisconnect(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	got := make(chan string, 3)
	onConnect(srv, func(s *socketio.Socket) {
		s.On("disconnecting", func(reason socketio.DisconnectReason) {
			if !slices.Contains(s.Rooms(), "r") {
				t.Error("the disconnecting hook ran after the socket left its rooms")
			}
			got <- "disconnecting " + string(reason)
		})
		s.On("disconnect", func(reason string) { got <- "disconnect " + reason })
		s.On("disconnect", func() { got <- "disconnect" })
		s.Join("r")
	})
	c := inprocConnect(t, srv, "/", nil)
	c.Close()
	for _, want := range []string{"disconnecting client namespace disconnect", "disconnect client namespace disconnect", "disconnect"} {
		if g := recv(t, got); g != want {
			t.Fatalf("got %q, want %q", g, want)
		}
	}
}

func TestInProcOnReservedRefused(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	panics := make(chan string, 8)
	try := func(f func()) {
		defer func() { panics <- fmt.Sprint(recover()) }()
		f()
	}
	onConnect(srv, func(s *socketio.Socket) {
		try(func() { s.On("connect", func() {}) })
		try(func() { s.On("connect_error", func() {}) })
		try(func() { s.On("newListener", func() {}) })
		try(func() { s.On("removeListener", func() {}) })
		try(func() { s.On("disconnect", func(int) {}) })
		try(func() {
			socketio.OnEvent(s, "disconnect", func(string, socketio.Ack) error { return nil })
		})
	})
	inprocConnect(t, srv, "/", nil)
	for _, want := range []string{"OnConnection", "Middleware", "no listener events", "no listener events", "func(socketio.DisconnectReason)", "reserved event name"} {
		if p := recv(t, panics); !regexp.MustCompile(regexp.QuoteMeta(want)).MatchString(p) || !regexp.MustCompile(`^socketio: On`).MatchString(p) {
			t.Fatalf("panic %q does not explain with %q", p, want)
		}
	}
}

func TestInProcOnEventGeneric(t *testing.T) {
	type order struct {
		Item string `json:"item"`
		Qty  int    `json:"qty"`
		Note []byte `json:"note"`
	}
	srv := inprocServer(t, socketio.Options{})
	errs := make(chan error, 1)
	onConnect(srv, func(s *socketio.Socket) {
		s.OnError(func(err error) { errs <- err })
		socketio.OnEvent(s, "order", func(o order, ack socketio.Ack) error {
			return ack(o.Item, o.Qty*2, o.Note)
		})
	})
	c := inprocConnect(t, srv, "/", nil)
	r, err := c.EmitWithAck(inprocCtx(t), "order", order{Item: "tea", Qty: 2, Note: []byte{7}})
	if err != nil {
		t.Fatal(err)
	}
	var item string
	var qty int
	if err := r.Decode(&item, &qty); err != nil || item != "tea" || qty != 4 || !r[2].IsBinary() {
		t.Fatalf("reply %v: %v", r, err)
	}
	if err := c.Emit("order", "not an object"); err != nil {
		t.Fatal(err)
	}
	var ae *socketio.ArgumentError
	if err := recv(t, errs); !errors.As(err, &ae) || ae.Event != "order" {
		t.Fatalf("got %v", err)
	}
	// Without an acknowledgement, ack is a no-op.
	if err := c.Emit("order", order{Item: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.EmitWithAck(inprocCtx(t), "order", order{Item: "y"}); err != nil {
		t.Fatal(err)
	}
}

func TestInProcServerFacade(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	reasons := make(chan socketio.DisconnectReason, 2)
	socks := onConnect(srv, func(s *socketio.Socket) { s.OnDisconnect(func(r socketio.DisconnectReason) { reasons <- r }) })
	ctx := inprocCtx(t)
	if err := srv.Ready(ctx); err != nil {
		t.Fatalf("the in-memory adapter is not ready: %v", err)
	}
	c := inprocConnect(t, srv, "/", nil)
	s := recv(t, socks)
	if err := srv.SocketsJoin(ctx, "a", "b"); err != nil {
		t.Fatal(err)
	}
	if err := srv.SocketsLeave(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if got := s.Rooms(); !slices.Contains(got, "b") || slices.Contains(got, "a") {
		t.Fatalf("rooms %v", got)
	}
	go func() {
		e, err := c.Expect(ctx, "q")
		if err == nil {
			err = e.Ack("a")
		}
		if err != nil {
			t.Error(err)
		}
	}()
	r, err := srv.Timeout(inprocWait).EmitWithAck(ctx, "q")
	if err != nil || len(r) != 1 {
		t.Fatalf("%v %v", r, err)
	}
	if err := srv.ServerSideEmit(ctx, "x"); !errors.Is(err, rooms.ErrNoCluster) {
		t.Fatalf("server-side emit without a cluster: %v", err)
	}
	if err := srv.DisconnectSockets(ctx, false); err != nil {
		t.Fatal(err)
	}
	if r := recv(t, reasons); r != socketio.ReasonServerNamespaceDisconnect {
		t.Fatalf("reason %q", r)
	}
	<-c.Done()
}

// TestInProcEngineConn checks that the Engine.IO session a socket exposes has no setters that
// would detach the socket's client from it, and that what it has works.
func TestInProcEngineConn(t *testing.T) {
	for _, m := range []string{"OnMessage", "OnClose", "Send", "SendPrepared"} {
		if _, ok := reflect.TypeFor[socketio.EngineConn]().MethodByName(m); ok {
			t.Errorf("Socket.Conn() exposes %s", m)
		}
	}
	srv := inprocServer(t, socketio.Options{})
	socks := onConnect(srv, nil)
	c := inprocConnect(t, srv, "/", nil)
	conn := recv(t, socks).Conn()
	if conn.ID() == "" || conn.ID() == c.ID() || conn.Transport() != "websocket" || conn.Protocol() != 4 {
		t.Fatalf("session %q (socket %q) on %q, protocol %d", conn.ID(), c.ID(), conn.Transport(), conn.Protocol())
	}
	conn.Abort()
	<-c.Done()
	<-conn.Done()
}
