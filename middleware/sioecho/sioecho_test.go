package sioecho_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v5"

	"github.com/echo-socketio/echo-socketio/middleware/internal/mounttest"
	"github.com/echo-socketio/echo-socketio/middleware/sioecho"
	"github.com/echo-socketio/echo-socketio/socketio"
)

func TestConfigErrors(t *testing.T) {
	mounttest.CheckConfig(t, func(server *socketio.Server, path string) (bool, error) {
		mw, err := sioecho.Config{Server: server, Path: path}.ToMiddleware()
		return mw != nil, err
	}, func(server *socketio.Server, path string) {
		sioecho.SocketIOWithConfig(sioecho.Config{Server: server, Path: path})
	}, mounttest.ConfigErrors{NoServer: sioecho.ErrNoServer, PathMismatch: sioecho.ErrPathMismatch, BadPath: sioecho.ErrBadPath})
}

func TestRouting(t *testing.T) {
	sio := mounttest.ShortShutdown(t, "")
	e := echo.New()
	e.Use(sioecho.SocketIOWithConfig(sioecho.Config{Server: sio, Skipper: func(c *echo.Context) bool {
		return c.QueryParam("skip") == "1"
	}}))
	var saw []string
	app := func(c *echo.Context) error {
		saw = append(saw, c.Request().URL.Path)
		return c.String(http.StatusOK, "app")
	}
	e.GET("/*", app) // a catch-all route must not take Socket.IO requests
	e.POST("/form", app)
	mounttest.CheckRouting(t, e, func() []string { s := saw; saw = nil; return s })
}

func TestSkipSocketIO(t *testing.T) {
	sio := mounttest.ShortShutdown(t, "/app/socket.io")
	skip := sioecho.SkipSocketIO(sio)
	e := echo.New()
	for target, want := range mounttest.SkipSocketIOCases {
		c := e.NewContext(httptest.NewRequest(http.MethodGet, target, nil), httptest.NewRecorder())
		if got := skip(c); got != want {
			t.Errorf("%s: %v, want %v", target, got, want)
		}
	}
}

func TestSnapshotOutsideTheMiddleware(t *testing.T) {
	if _, ok := sioecho.FromContext(context.Background()); ok {
		t.Fatal("snapshot in an empty context")
	}
	if _, ok := sioecho.FromSocket(nil); ok {
		t.Fatal("snapshot of a nil socket")
	}
	var s *sioecho.Snapshot
	if _, ok := s.Get("user"); ok {
		t.Fatal("value of a nil snapshot")
	}
}
