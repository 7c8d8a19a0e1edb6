package engineio_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/engineio"
)

// TestUpgradeWithPostInFlight completes an upgrade while a polling POST is still delivering
// its packets: the application must see the packets of both transports one at a time, those
// of the POST first, each transport's in order.
func TestUpgradeWithPostInFlight(t *testing.T) {
	const nPost, nWS = 200, 50
	var (
		inFlight  atomic.Int32
		overlaps  atomic.Int32
		mu        sync.Mutex
		got       []string
		firstPost = make(chan struct{})
		once      sync.Once
	)
	srv := engineio.NewServer(engineio.Options{})
	srv.OnConnection(func(c *engineio.Conn) {
		c.OnMessage(func(data []byte, _ bool) {
			if inFlight.Add(1) > 1 {
				overlaps.Add(1)
			}
			once.Do(func() { close(firstPost) })
			if strings.HasPrefix(string(data), "p") {
				time.Sleep(2 * time.Millisecond) // a slow handler keeps the POST delivering
			}
			mu.Lock()
			got = append(got, string(data))
			mu.Unlock()
			inFlight.Add(-1)
		})
	})
	s := &countServer{Server: srv, HTTP: httptest.NewServer(srv), reasons: make(chan engineio.CloseReason, 16)}
	t.Cleanup(func() {
		s.HTTP.CloseClientConnections()
		ctx, cancel := contextWithTimeout(time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		s.HTTP.Close()
	})
	sid := s.handshake(t)

	var body strings.Builder
	for i := range nPost {
		if i > 0 {
			body.WriteByte('\x1e')
		}
		body.WriteString("4p" + strconv.Itoa(i))
	}
	postDone := make(chan response, 1)
	go func() {
		postDone <- do(t, "POST", s.url("EIO=4&transport=polling&sid="+sid), "text/plain", body.String())
	}()
	select {
	case <-firstPost:
	case <-time.After(10 * time.Second):
		t.Fatal("the POST was not delivered")
	}

	ws, _, err := websocket.DefaultDialer.Dial(wsURL(s, "EIO=4&transport=websocket&sid="+sid), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, m, err := ws.ReadMessage(); err != nil || string(m) != "3probe" {
		t.Fatalf("probe answer %q, %v", m, err)
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("5"))
	for i := range nWS {
		if err := ws.WriteMessage(websocket.TextMessage, []byte("4w"+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case r := <-postDone:
		if r.status != 200 {
			t.Fatalf("POST answered %d %q", r.status, r.body)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("POST not answered")
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == nPost+nWS {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages delivered", n, nPost+nWS)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := overlaps.Load(); n > 0 {
		t.Fatalf("the message handler ran on two goroutines at once %d times", n)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, m := range got {
		want := "p" + strconv.Itoa(i)
		if i >= nPost {
			want = "w" + strconv.Itoa(i-nPost)
		}
		if m != want {
			t.Fatalf("message %d is %q, want %q (order %v)", i, m, want, got)
		}
	}
}

// TestApplicationPanics makes each piece of application code the engine runs panic: the
// panic reaches the error hook with its stack, the session closes, the server goes on.
func TestApplicationPanics(t *testing.T) {
	cases := []struct {
		name  string
		setup func(s *engineio.Server, opts *engineio.Options)
		where string
	}{
		{"nok, OnConnection panics", func(s *engineio.Server, _ *engineio.Options) {
			s.OnConnection(func(*engineio.Conn) { panic("boom") })
		}, "OnConnection"},
		{"nok, OnMessage panics", func(s *engineio.Server, _ *engineio.Options) {
			s.OnConnection(func(c *engineio.Conn) {
				c.OnMessage(func([]byte, bool) { panic(errors.New("boom")) })
			})
		}, "OnMessage"},
		{"nok, OnClose panics", func(s *engineio.Server, _ *engineio.Options) {
			s.OnConnection(func(c *engineio.Conn) {
				c.OnMessage(func([]byte, bool) { c.Close() })
				c.OnClose(func(engineio.CloseReason) { panic("boom") })
			})
		}, "OnClose"},
	}
	for _, tc := range cases {
		for _, transport := range []string{"polling", "websocket"} {
			t.Run(tc.name+", "+transport, func(t *testing.T) {
				srv := engineio.NewServer(engineio.Options{})
				errs := make(chan error, 4)
				srv.OnError(func(err error) { errs <- err })
				tc.setup(srv, nil)
				hs := newHTTPServer(t, srv)
				s := &countServer{Server: srv, HTTP: hs}
				t.Cleanup(func() {
					ctx, cancel := contextWithTimeout(300 * time.Millisecond)
					defer cancel()
					_ = srv.Shutdown(ctx)
				})
				if transport == "websocket" {
					ws, _, err := websocket.DefaultDialer.Dial(wsURL(s, "EIO=4&transport=websocket"), nil)
					if err != nil {
						t.Fatal(err)
					}
					defer ws.Close()
					_ = ws.WriteMessage(websocket.TextMessage, []byte("4hello"))
				} else {
					r := do(t, "GET", s.url("EIO=4&transport=polling"), "", "")
					if r.status == 200 && strings.HasPrefix(r.body, "0{") {
						sid := r.body[strings.Index(r.body, `"sid":"`)+7:][:20]
						do(t, "POST", s.url("EIO=4&transport=polling&sid="+sid), "text/plain", "4hello")
						go func() {
							defer func() { _ = recover() }()
							res, err := http.Get(s.url("EIO=4&transport=polling&sid=" + sid))
							if err == nil {
								res.Body.Close()
							}
						}()
					}
				}
				select {
				case err := <-errs:
					var pe *engineio.PanicError
					if !errors.As(err, &pe) || pe.Where != tc.where || !strings.Contains(string(pe.Stack), "goroutine") {
						t.Fatalf("error %v", err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("the panic was not reported")
				}
				waitFor(t, func() bool { return srv.Count() == 0 })
			})
		}
	}
}

func TestAllowRequestPanics(t *testing.T) {
	errs := make(chan error, 1)
	s := newCountServer(t, engineio.Options{AllowRequest: func(*http.Request) error { panic("boom") }})
	s.OnError(func(err error) { errs <- err })
	wantError(t, do(t, "GET", s.url("EIO=4&transport=polling"), "", ""), 403, 4, "Forbidden")
	var pe *engineio.PanicError
	if err := <-errs; !errors.As(err, &pe) || pe.Where != "AllowRequest" {
		t.Fatalf("error %v", err)
	}
}
