package middleware_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/echo-socketio/echo-socketio/engineio"
	"github.com/echo-socketio/echo-socketio/internal/nodetest"
	"github.com/echo-socketio/echo-socketio/middleware"
	"github.com/echo-socketio/echo-socketio/socketio"
)

const indexHTML = "<!doctype html><title>chat</title><p>index page</p>"

type ctxKey struct{}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// app is an Echo application with a page, a JSON route and the Socket.IO endpoint.
type app struct {
	e    *echo.Echo
	io   *socketio.Server
	http *httptest.Server
	log  *syncBuffer
}

type appCase struct {
	name string
	// group mounts the endpoint and the routes on e.Group(group).
	group string
	// engine configures the Engine.IO server (ping interval, CORS).
	engine engineio.Options
	// before registers Echo middlewares before the endpoint (with e.Use).
	before func(a *app)
	// mount mounts the endpoint; default e.Use (or g.Use) with ContextKeys "user".
	mount func(a *app, mw echo.MiddlewareFunc)
	// fetch polls with fetch(), which asks for compressed responses.
	fetch   bool
	headers map[string]string
	hold    time.Duration
	// pre: the endpoint runs before the app's middlewares, so it sees none of their values.
	pre bool
}

func newApp(t *testing.T, c appCase) *app {
	t.Helper()
	eng := c.engine
	if eng.PingInterval == 0 {
		// Short long polls, so that holding the connection crosses several of them.
		eng.PingInterval = 300 * time.Millisecond
		eng.PingTimeout = 2 * time.Second
	}
	a := &app{e: echo.New(), log: &syncBuffer{}}
	a.e.HideBanner, a.e.HidePort = true, true
	a.io = socketio.NewServer(socketio.Options{Path: c.group + "/socket.io/", Engine: eng})
	a.io.OnConnection(func(s *socketio.Socket) {
		s.On("echo", func(v string, ack socketio.Ack) { _ = ack(v) })
		s.On("whoami", func(ack socketio.Ack) {
			snap, ok := middleware.FromSocket(s)
			user, _ := snap.Get("user")
			ctxVal, _ := s.Request().Context().Value(ctxKey{}).(string)
			var realIP, reqID string
			if ok {
				realIP, reqID = snap.RealIP, snap.RequestID
			}
			_ = ack(map[string]any{"snapshot": ok, "user": user, "ctx": ctxVal, "realIP": realIP, "requestID": reqID})
		})
	})
	if c.before != nil {
		c.before(a)
	}
	// An earlier middleware of the app's: a value on the echo.Context and one in the request's
	// context, both of which the handshake must see.
	a.e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(ec echo.Context) error {
			ec.Set("user", "ada")
			ec.SetRequest(ec.Request().WithContext(context.WithValue(ec.Request().Context(), ctxKey{}, "from-request-context")))
			return next(ec)
		}
	})
	mw, err := middleware.Config{Server: a.io, ContextKeys: []string{"user"}}.ToMiddleware()
	if err != nil {
		t.Fatal(err)
	}
	var routes interface {
		GET(string, echo.HandlerFunc, ...echo.MiddlewareFunc) *echo.Route
	} = a.e
	if c.group != "" {
		g := a.e.Group(c.group)
		routes = g
		if c.mount == nil {
			g.Use(mw)
		}
	} else if c.mount == nil {
		a.e.Use(mw)
	}
	if c.mount != nil {
		c.mount(a, mw)
	}
	routes.GET("/", func(ec echo.Context) error { return ec.HTML(http.StatusOK, indexHTML) })
	routes.GET("/api/ping", func(ec echo.Context) error {
		return ec.JSON(http.StatusOK, map[string]any{"pong": true, "pad": strings.Repeat("p", 2000)})
	})
	a.http = httptest.NewServer(a.e)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.io.Shutdown(ctx)
		a.http.Close()
	})
	return a
}

func (a *app) run(t *testing.T, c appCase, transports string) *nodetest.Result {
	t.Helper()
	headers, _ := json.Marshal(c.headers)
	fetch := "0"
	if c.fetch {
		fetch = "1"
	}
	home := c.group + "/"
	return nodetest.Run(t, 30*time.Second, "mw-client.mjs",
		"BASE="+a.http.URL,
		"SIO_PATH="+a.io.Path(),
		"APP="+home+","+c.group+"/api/ping",
		"TRANSPORTS="+transports,
		"FETCH="+fetch,
		"HEADERS="+string(headers),
		"HOLD_MS="+itoa(int(c.hold/time.Millisecond)),
	)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestInteropEchoApp(t *testing.T) {
	cases := []appCase{
		{name: "ok, root"},
		{name: "ok, group", group: "/app"},
		{name: "ok, custom path on a group", group: "/v1/rt"},
		{name: "ok, held over several long polls", hold: 1200 * time.Millisecond},
		{name: "ok, Logger Recover RequestID", before: func(a *app) {
			//lint:ignore SA1019 apps still use the deprecated Logger; the endpoint must work behind it
			a.e.Use(echomw.LoggerWithConfig(echomw.LoggerConfig{Output: a.log}))
			a.e.Use(echomw.Recover())
			a.e.Use(echomw.RequestID())
		}, hold: 700 * time.Millisecond},
		{name: "ok, CORS", engine: engineio.Options{CORS: engineio.CORSOptions{Origins: []string{"http://app.example"}}},
			before: func(a *app) {
				a.e.Use(echomw.CORSWithConfig(echomw.CORSConfig{AllowOrigins: []string{"http://app.example"}}))
			}, fetch: true, headers: map[string]string{"Origin": "http://app.example"}},
		{name: "ok, Gzip", before: func(a *app) { a.e.Use(echomw.Gzip()) }, fetch: true, hold: 700 * time.Millisecond},
		{name: "ok, BodyLimit", before: func(a *app) { a.e.Use(echomw.BodyLimit("2M")) }},
		{name: "ok, ContextTimeout with SkipSocketIO", before: func(a *app) {
			a.e.Use(echomw.ContextTimeoutWithConfig(echomw.ContextTimeoutConfig{
				Skipper: middleware.SkipSocketIO(a.io), Timeout: 100 * time.Millisecond}))
		}, hold: 700 * time.Millisecond},
		{name: "ok, endpoint before Timeout", mount: func(a *app, mw echo.MiddlewareFunc) {
			a.e.Use(mw)
			//lint:ignore SA1019 apps still use the deprecated Timeout; the endpoint must work beside it
			a.e.Use(echomw.TimeoutWithConfig(echomw.TimeoutConfig{Timeout: 100 * time.Millisecond}))
		}, hold: 700 * time.Millisecond},
		{name: "ok, e.Pre", pre: true, mount: func(a *app, mw echo.MiddlewareFunc) { a.e.Pre(mw) }},
		{name: "ok, after RemoveTrailingSlash", before: func(a *app) { a.e.Pre(echomw.RemoveTrailingSlash()) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, tr := range []string{"polling", "websocket", "polling,websocket"} {
				t.Run(tr, func(t *testing.T) {
					a := newApp(t, c)
					res := a.run(t, c, tr)
					checkApp(t, c, a, res, tr)
				})
			}
		})
	}
}

func checkApp(t *testing.T, c appCase, a *app, res *nodetest.Result, transports string) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf(format+"\nevents:\n%s\nstderr:\n%s", append(args, res.Describe(), res.Stderr)...)
	}
	apps := res.All("app")
	if len(apps) != 2 {
		fail("want 2 app requests, got %d", len(apps))
		return
	}
	if apps[0]["status"] != 200.0 || !strings.Contains(apps[0].Str("head"), "<!doctype html>") {
		fail("index page: %v", apps[0])
	}
	if apps[1]["status"] != 200.0 || !strings.HasPrefix(apps[1].Str("head"), `{"pad":`) {
		fail("JSON route: %v", apps[1])
	}
	if b := res.Find("bundle"); b == nil || b["status"] != 200.0 || !strings.Contains(b.Str("type"), "javascript") || b["len"].(float64) < 10000 {
		fail("client bundle: %v", b)
	}
	// The bare endpoint is answered by Engine.IO (a protocol error), never by the app's 404.
	if b := res.Find("bare"); b == nil || b["status"] != 400.0 || !strings.Contains(b.Str("head"), "Transport unknown") {
		fail("bare endpoint: %v", b)
	}
	if e := res.Find("connect_error"); e != nil {
		fail("connect_error: %v", e)
		return
	}
	conn := res.Find("connected")
	if conn == nil {
		fail("not connected")
		return
	}
	if echoEv := res.Find("echo"); echoEv == nil || echoEv["small"] != true || echoEv["big"] != true {
		fail("echo: %v", echoEv)
	}
	who := res.Find("whoami")
	if who == nil || who["connected"] != true || who["id"] != conn["id"] {
		fail("whoami: %v", who)
		return
	}
	want := "polling"
	if strings.Contains(transports, "websocket") {
		want = "websocket"
	}
	if who.Str("transport") != want {
		fail("transport %q, want %q", who.Str("transport"), want)
	}
	w, _ := who["who"].(map[string]any)
	wantUser, wantCtx := any("ada"), any("from-request-context")
	if c.pre {
		wantUser, wantCtx = nil, ""
	}
	if w["snapshot"] != true || w["user"] != wantUser || w["ctx"] != wantCtx || w["realIP"] != "127.0.0.1" {
		fail("handshake context: %v", w)
	}
	if c.name == "ok, Logger Recover RequestID" {
		if id, _ := w["requestID"].(string); len(id) < 16 {
			fail("request ID %q", id)
		}
		if log := a.log.String(); !strings.Contains(log, a.io.Path()+"?EIO=4") {
			t.Errorf("the logger did not see the Socket.IO requests:\n%s", log)
		}
	}
	if d := res.Find("disconnect"); d != nil && d.Str("reason") != "io client disconnect" {
		fail("unexpected disconnect: %v", d)
	}
}
