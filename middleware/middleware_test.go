package middleware_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/echo-socketio/echo-socketio/middleware"
	"github.com/echo-socketio/echo-socketio/middleware/internal/mounttest"
)

// TestForwarder: code written against package middleware still builds and mounts the endpoint.
func TestForwarder(t *testing.T) {
	sio := mounttest.ShortShutdown(t, "")
	e := echo.New()
	e.Use(middleware.SocketIOWithConfig(middleware.Config{Server: sio, Skipper: middleware.DefaultConfig.Skipper}))
	e.GET("/*", func(c echo.Context) error { return c.String(http.StatusOK, "app") })
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/socket.io/?EIO=4&transport=polling", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"sid"`) {
		t.Fatalf("handshake: %d %q", rec.Code, rec.Body.String())
	}
	if _, err := (middleware.Config{}).ToMiddleware(); !errors.Is(err, middleware.ErrNoServer) {
		t.Fatalf("got %v", err)
	}
	if skip := middleware.SkipSocketIO(sio); !skip(e.NewContext(httptest.NewRequest(http.MethodGet, "/socket.io/", nil), rec)) {
		t.Fatal("SkipSocketIO")
	}
	_ = middleware.SocketIO(sio)
	if _, ok := middleware.FromSocket(nil); ok {
		t.Fatal("snapshot of a nil socket")
	}
}
