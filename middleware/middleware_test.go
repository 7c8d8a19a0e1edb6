package middleware_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/echo-socketio/echo-socketio/middleware"
	"github.com/echo-socketio/echo-socketio/socketio"
)

func newServer(t *testing.T, opts socketio.Options) *socketio.Server {
	t.Helper()
	io := socketio.NewServer(opts)
	t.Cleanup(func() {
		// A handshake of TestRouting leaves a session whose client never polls: do not wait
		// long for it.
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		_ = io.Shutdown(ctx)
	})
	return io
}

func TestConfigErrors(t *testing.T) {
	io := newServer(t, socketio.Options{Path: "/rt/"})
	cases := []struct {
		name   string
		config middleware.Config
		want   error
	}{
		{"nok, no server", middleware.Config{}, middleware.ErrNoServer},
		{"nok, path differs", middleware.Config{Server: io, Path: "/socket.io/"}, middleware.ErrPathMismatch},
		{"nok, relative path", middleware.Config{Server: io, Path: "rt/"}, middleware.ErrBadPath},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mw, err := c.config.ToMiddleware()
			if !errors.Is(err, c.want) || mw != nil {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			defer func() {
				if recover() == nil {
					t.Fatal("SocketIOWithConfig did not panic")
				}
			}()
			middleware.SocketIOWithConfig(c.config)
		})
	}
	for _, p := range []string{"", "/rt/", "/rt"} {
		if _, err := (middleware.Config{Server: io, Path: p}).ToMiddleware(); err != nil {
			t.Errorf("path %q: %v", p, err)
		}
	}
}

func TestRouting(t *testing.T) {
	io := newServer(t, socketio.Options{})
	e := echo.New()
	skipped := false
	e.Use(middleware.SocketIOWithConfig(middleware.Config{Server: io, Skipper: func(c echo.Context) bool {
		return skipped && c.QueryParam("skip") == "1"
	}}))
	var appSaw []string
	app := func(c echo.Context) error {
		appSaw = append(appSaw, c.Request().URL.Path)
		return c.String(http.StatusOK, "app")
	}
	e.GET("/*", app) // a catch-all route must not take Socket.IO requests
	e.POST("/form", app)

	serve := func(method, target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
		return rec
	}
	cases := []struct {
		name, method, target string
		status               int
		body                 string
		app                  bool
	}{
		{"ok, a page goes to the app", http.MethodGet, "/index.html", 200, "app", true},
		{"ok, a POST goes to the app", http.MethodPost, "/form", 200, "app", true},
		{"ok, a path that starts alike goes to the app", http.MethodGet, "/socket.iox/", 200, "app", true},
		{"ok, the endpoint answers itself", http.MethodGet, "/socket.io/", 400, "Transport unknown", false},
		{"ok, without its final slash", http.MethodGet, "/socket.io", 400, "Transport unknown", false},
		{"ok, the handshake", http.MethodGet, "/socket.io/?EIO=4&transport=polling", 200, `"sid"`, false},
		{"ok, the client bundle", http.MethodGet, "/socket.io/socket.io.js", 200, "Socket.IO", false},
		{"ok, an unknown session", http.MethodPost, "/socket.io/?EIO=4&transport=polling&sid=nope", 400, "Session ID unknown", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			appSaw = nil
			rec := serve(c.method, c.target)
			if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.body) || (len(appSaw) > 0) != c.app {
				t.Fatalf("%d %q, app saw %v", rec.Code, rec.Body.String()[:min(80, rec.Body.Len())], appSaw)
			}
		})
	}
	skipped = true
	appSaw = nil
	if rec := serve(http.MethodGet, "/socket.io/?skip=1"); rec.Body.String() != "app" || len(appSaw) != 1 {
		t.Fatalf("Skipper: %d %q", rec.Code, rec.Body.String())
	}
}

func TestSkipSocketIO(t *testing.T) {
	io := newServer(t, socketio.Options{Path: "/app/socket.io"})
	skip := middleware.SkipSocketIO(io)
	e := echo.New()
	for target, want := range map[string]bool{
		"/app/socket.io/?EIO=4": true, "/app/socket.io": true, "/app/socket.io/socket.io.js": true,
		"/socket.io/": false, "/app/": false, "/app/socket.iox": false,
	} {
		c := e.NewContext(httptest.NewRequest(http.MethodGet, target, nil), httptest.NewRecorder())
		if got := skip(c); got != want {
			t.Errorf("%s: %v, want %v", target, got, want)
		}
	}
}

func TestSnapshotOutsideTheMiddleware(t *testing.T) {
	if _, ok := middleware.FromContext(context.Background()); ok {
		t.Fatal("snapshot in an empty context")
	}
	if _, ok := middleware.FromSocket(nil); ok {
		t.Fatal("snapshot of a nil socket")
	}
	var s *middleware.Snapshot
	if _, ok := s.Get("user"); ok {
		t.Fatal("value of a nil snapshot")
	}
}
