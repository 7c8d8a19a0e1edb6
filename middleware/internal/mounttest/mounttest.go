// Package mounttest is the test harness the Echo adapters share: a Socket.IO server with the
// handlers the interop client calls, the run of test/interop/mw-client.mjs with the official
// client against an Echo application, the checks of its results, and the routing table. Each
// adapter's tests build the Echo application of their Echo version around it.
package mounttest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/engineio"
	"github.com/echo-socketio/echo-socketio/internal/nodetest"
	"github.com/echo-socketio/echo-socketio/middleware/internal/mount"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// IndexHTML is the page the application serves at its root.
const IndexHTML = "<!doctype html><title>chat</title><p>index page</p>"

// PingPad pads the JSON route's answer so that compressing middlewares compress it.
var PingPad = strings.Repeat("p", 2000)

// CtxKey is the key of the value the application's own middleware puts in the request's
// context, and User the value it sets on the Echo context under "user".
type CtxKey struct{}

// The values the application's own middleware sets, which the handshake must see.
const (
	User     = "ada"
	CtxValue = "from-request-context"
	UserKey  = "user"
)

// Transports are the transports every case runs over: polling only, websocket only, and
// polling upgraded to websocket.
var Transports = []string{"polling", "websocket", "polling,websocket"}

// SyncBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Case is one Echo application of the interop matrix, as far as it does not depend on Echo.
type Case struct {
	Name string
	// Group mounts the endpoint and the routes on e.Group(Group).
	Group string
	// Engine configures the Engine.IO server (ping interval, CORS).
	Engine engineio.Options
	// Fetch polls with fetch(), which asks for compressed responses.
	Fetch   bool
	Headers map[string]string
	// Hold keeps the connection open this long, across several long polls.
	Hold time.Duration
	// Pre: the endpoint runs before the app's middlewares, so it sees none of their values.
	Pre bool
	// Logged: the app logs its requests (the log must show the Socket.IO requests) and sets
	// a request ID (which must reach the sockets).
	Logged bool
}

// Base returns c; an adapter's case type embeds Case and so gets it too (RunMatrix).
func (c Case) Base() Case { return c }

// RunMatrix runs each case, in parallel, over each of transports: newApp builds the case's
// Echo application and returns its base URL, its server and what it logged; Run and Check do
// the rest.
func RunMatrix[C interface{ Base() Case }](t *testing.T, cases []C, transports []string, newApp func(*testing.T, C) (string, *socketio.Server, func() string)) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Base().Name, func(t *testing.T) {
			t.Parallel()
			for _, tr := range transports {
				t.Run(tr, func(t *testing.T) {
					base, sio, log := newApp(t, c)
					res := Run(t, c.Base(), base, sio, tr)
					Check(t, c.Base(), sio, res, tr, log)
				})
			}
		})
	}
}

// NewServer returns the Socket.IO server of case c, whose sockets answer "echo" with their
// argument and "whoami" with what they know of the handshake request. It is shut down when
// the test ends.
func NewServer(t *testing.T, c Case) *socketio.Server {
	t.Helper()
	eng := c.Engine
	if eng.PingInterval == 0 {
		// Short long polls, so that holding the connection crosses several of them.
		eng.PingInterval = 300 * time.Millisecond
		eng.PingTimeout = 2 * time.Second
	}
	sio := socketio.NewServer(socketio.Options{Path: c.Group + "/socket.io/", Engine: eng})
	sio.OnConnection(func(s *socketio.Socket) {
		s.On("echo", func(v string, ack socketio.Ack) { _ = ack(v) })
		s.On("whoami", func(ack socketio.Ack) {
			snap, ok := mount.FromSocket(s)
			user, _ := snap.Get(UserKey)
			ctxVal, _ := s.Request().Context().Value(CtxKey{}).(string)
			var realIP, reqID string
			if ok {
				realIP, reqID = snap.RealIP, snap.RequestID
			}
			_ = ack(map[string]any{"snapshot": ok, "user": user, "ctx": ctxVal, "realIP": realIP, "requestID": reqID})
		})
	})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = sio.Shutdown(ctx)
	})
	return sio
}

// Serve serves h on a loopback port until the test ends, and returns its base URL.
func Serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// Run runs the official client against the application at base over transports: it loads
// the page, the JSON route and the client bundle, connects, exchanges events, and holds the
// connection for c.Hold.
func Run(t *testing.T, c Case, base string, sio *socketio.Server, transports string) *nodetest.Result {
	t.Helper()
	headers, _ := json.Marshal(c.Headers)
	fetch := "0"
	if c.Fetch {
		fetch = "1"
	}
	return nodetest.Run(t, 30*time.Second, "mw-client.mjs",
		"BASE="+base,
		"SIO_PATH="+sio.Path(),
		"APP="+c.Group+"/,"+c.Group+"/api/ping",
		"TRANSPORTS="+transports,
		"FETCH="+fetch,
		"HEADERS="+string(headers),
		"HOLD_MS="+strconv.Itoa(int(c.Hold/time.Millisecond)),
	)
}

// Check checks the results of Run. log returns what the application logged (Case.Logged).
func Check(t *testing.T, c Case, sio *socketio.Server, res *nodetest.Result, transports string, log func() string) {
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
	// The bundle decoded once by the client is JavaScript: compressed twice, it would start
	// with gzip's magic bytes.
	if b := res.Find("bundle"); b == nil || b["status"] != 200.0 || !strings.Contains(b.Str("type"), "javascript") || b["len"].(float64) < 10000 || !strings.Contains(b.Str("head"), "Socket.IO") {
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
	wantUser, wantCtx := any(User), any(CtxValue)
	if c.Pre {
		wantUser, wantCtx = nil, ""
	}
	if w["snapshot"] != true || w["user"] != wantUser || w["ctx"] != wantCtx || w["realIP"] != "127.0.0.1" {
		fail("handshake context: %v", w)
	}
	if c.Logged {
		if id, _ := w["requestID"].(string); len(id) < 16 {
			fail("request ID %q", id)
		}
		if l := log(); !strings.Contains(l, sio.Path()+"?EIO=4") {
			t.Errorf("the logger did not see the Socket.IO requests:\n%s", l)
		}
	}
	if d := res.Find("disconnect"); d != nil && d.Str("reason") != "io client disconnect" {
		fail("unexpected disconnect: %v", d)
	}
}

// Routing is one request of the routing table: where it must go and what it must get.
type Routing struct {
	Name, Method, Target string
	Status               int
	Body                 string
	// App: the application's handler answers, not the Socket.IO server.
	App bool
}

// RoutingCases are the requests an application with a catch-all route GET /* and a route
// POST /form sends, with the endpoint at the default path.
var RoutingCases = []Routing{
	{"ok, a page goes to the app", http.MethodGet, "/index.html", 200, "app", true},
	{"ok, a POST goes to the app", http.MethodPost, "/form", 200, "app", true},
	{"ok, a path that starts alike goes to the app", http.MethodGet, "/socket.iox/", 200, "app", true},
	{"ok, the endpoint answers itself", http.MethodGet, "/socket.io/", 400, "Transport unknown", false},
	{"ok, without its final slash", http.MethodGet, "/socket.io", 400, "Transport unknown", false},
	{"ok, the handshake", http.MethodGet, "/socket.io/?EIO=4&transport=polling", 200, `"sid"`, false},
	{"ok, the client bundle", http.MethodGet, "/socket.io/socket.io.js", 200, "Socket.IO", false},
	{"ok, an unknown session", http.MethodPost, "/socket.io/?EIO=4&transport=polling&sid=nope", 400, "Session ID unknown", false},
	// The adapter's Skipper lets requests with skip=1 through to the app.
	{"ok, the Skipper lets a request through", http.MethodGet, "/socket.io/?skip=1", 200, "app", true},
}

// CheckRouting sends the RoutingCases to h. appSaw returns, and clears, the paths the
// application's handlers saw.
func CheckRouting(t *testing.T, h http.Handler, appSaw func() []string) {
	t.Helper()
	for _, c := range RoutingCases {
		t.Run(c.Name, func(t *testing.T) {
			appSaw()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(c.Method, c.Target, nil))
			saw := appSaw()
			if rec.Code != c.Status || !strings.Contains(rec.Body.String(), c.Body) || (len(saw) > 0) != c.App {
				t.Fatalf("%d %q, app saw %v", rec.Code, rec.Body.String()[:min(80, rec.Body.Len())], saw)
			}
		})
	}
}

// SkipSocketIOCases maps request targets to whether SkipSocketIO of a server at
// "/app/socket.io" skips them.
var SkipSocketIOCases = map[string]bool{
	"/app/socket.io/?EIO=4": true, "/app/socket.io": true, "/app/socket.io/socket.io.js": true,
	"/socket.io/": false, "/app/": false, "/app/socket.iox": false,
}

// ShortShutdown returns a server at path that is shut down with a short wait when the test
// ends: the routing tests leave sessions whose clients never poll.
func ShortShutdown(t *testing.T, path string) *socketio.Server {
	t.Helper()
	sio := socketio.NewServer(socketio.Options{Path: path})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		_ = sio.Shutdown(ctx)
	})
	return sio
}

// ConfigErrors are an adapter's sentinel errors.
type ConfigErrors struct{ NoServer, PathMismatch, BadPath error }

// CheckConfig checks an adapter's configuration errors. toMiddleware returns the error of
// Config{Server: server, Path: path}.ToMiddleware() and whether it returned a middleware;
// withConfig calls SocketIOWithConfig with the same Config, which must panic on an error.
func CheckConfig(t *testing.T, toMiddleware func(server *socketio.Server, path string) (bool, error), withConfig func(server *socketio.Server, path string), errs ConfigErrors) {
	t.Helper()
	sio := ShortShutdown(t, "/rt/")
	cases := []struct {
		name   string
		server *socketio.Server
		path   string
		want   error
	}{
		{"nok, no server", nil, "", errs.NoServer},
		{"nok, path differs", sio, "/socket.io/", errs.PathMismatch},
		{"nok, relative path", sio, "rt/", errs.BadPath},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok, err := toMiddleware(c.server, c.path)
			if !errors.Is(err, c.want) || ok {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			defer func() {
				if recover() == nil {
					t.Fatal("SocketIOWithConfig did not panic")
				}
			}()
			withConfig(c.server, c.path)
		})
	}
	for _, p := range []string{"", "/rt/", "/rt"} {
		if _, err := toMiddleware(sio, p); err != nil {
			t.Errorf("path %q: %v", p, err)
		}
	}
}
