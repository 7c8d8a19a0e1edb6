package sioecho_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/labstack/echo/v5"
	echomw "github.com/labstack/echo/v5/middleware"

	"github.com/echo-socketio/echo-socketio/engineio"
	"github.com/echo-socketio/echo-socketio/middleware/internal/mounttest"
	"github.com/echo-socketio/echo-socketio/middleware/sioecho"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// appCase is one Echo v5 application of the interop matrix.
type appCase struct {
	mounttest.Case
	// before registers Echo middlewares before the endpoint (with e.Use).
	before func(e *echo.Echo, sio *socketio.Server)
	// mount mounts the endpoint; default e.Use (or g.Use) with ContextKeys "user".
	mount func(e *echo.Echo, mw echo.MiddlewareFunc)
}

// newApp returns an Echo v5 application with a page, a JSON route and the Socket.IO endpoint,
// and what it logged.
func newApp(t *testing.T, c appCase) (string, *socketio.Server, func() string) {
	t.Helper()
	sio := mounttest.NewServer(t, c.Case)
	log := &mounttest.SyncBuffer{}
	e := echo.New()
	e.Logger = slog.New(slog.NewTextHandler(log, nil))
	if c.before != nil {
		c.before(e, sio)
	}
	// An earlier middleware of the app's: a value on the *echo.Context and one in the
	// request's context, both of which the handshake must see.
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(ec *echo.Context) error {
			ec.Set(mounttest.UserKey, mounttest.User)
			ec.SetRequest(ec.Request().WithContext(context.WithValue(ec.Request().Context(), mounttest.CtxKey{}, mounttest.CtxValue)))
			return next(ec)
		}
	})
	mw, err := sioecho.Config{Server: sio, ContextKeys: []string{mounttest.UserKey}}.ToMiddleware()
	if err != nil {
		t.Fatal(err)
	}
	var routes interface {
		GET(string, echo.HandlerFunc, ...echo.MiddlewareFunc) echo.RouteInfo
	} = e
	if c.Group != "" {
		g := e.Group(c.Group)
		routes = g
		if c.mount == nil {
			g.Use(mw)
		}
	} else if c.mount == nil {
		e.Use(mw)
	}
	if c.mount != nil {
		c.mount(e, mw)
	}
	routes.GET("/", func(ec *echo.Context) error { return ec.HTML(http.StatusOK, mounttest.IndexHTML) })
	routes.GET("/api/ping", func(ec *echo.Context) error {
		return ec.JSON(http.StatusOK, map[string]any{"pong": true, "pad": mounttest.PingPad})
	})
	return mounttest.Serve(t, e), sio, log.String
}

// TestInteropEchoApp runs the official client over polling, websocket and upgrade against
// Echo v5 applications: at the root, on groups, and behind each of Echo's middlewares that
// docs/echo.md lists.
func TestInteropEchoApp(t *testing.T) {
	cases := []appCase{
		{Case: mounttest.Case{Name: "ok, root"}},
		{Case: mounttest.Case{Name: "ok, group", Group: "/app"}},
		{Case: mounttest.Case{Name: "ok, custom path on a group", Group: "/v1/rt"}},
		{Case: mounttest.Case{Name: "ok, held over several long polls", Hold: 1200 * time.Millisecond}},
		{Case: mounttest.Case{Name: "ok, RequestLogger Recover RequestID", Logged: true, Hold: 700 * time.Millisecond},
			before: func(e *echo.Echo, _ *socketio.Server) {
				e.Use(echomw.RequestLogger())
				e.Use(echomw.Recover())
				e.Use(echomw.RequestID())
			}},
		{Case: mounttest.Case{Name: "ok, CORS", Engine: engineio.Options{CORS: engineio.CORSOptions{Origins: []string{"http://app.example"}}},
			Fetch: true, Headers: map[string]string{"Origin": "http://app.example"}},
			before: func(e *echo.Echo, _ *socketio.Server) { e.Use(echomw.CORS("http://app.example")) }},
		{Case: mounttest.Case{Name: "ok, Gzip", Fetch: true, Hold: 700 * time.Millisecond},
			before: func(e *echo.Echo, _ *socketio.Server) { e.Use(echomw.Gzip()) }},
		{Case: mounttest.Case{Name: "ok, BodyLimit"},
			before: func(e *echo.Echo, _ *socketio.Server) { e.Use(echomw.BodyLimit(2 << 20)) }},
		{Case: mounttest.Case{Name: "ok, ContextTimeout with SkipSocketIO", Hold: 700 * time.Millisecond},
			before: func(e *echo.Echo, sio *socketio.Server) {
				e.Use(echomw.ContextTimeoutWithConfig(echomw.ContextTimeoutConfig{
					Skipper: sioecho.SkipSocketIO(sio), Timeout: 100 * time.Millisecond}))
			}},
		{Case: mounttest.Case{Name: "ok, endpoint before ContextTimeout", Hold: 700 * time.Millisecond},
			mount: func(e *echo.Echo, mw echo.MiddlewareFunc) {
				e.Use(mw)
				e.Use(echomw.ContextTimeout(100 * time.Millisecond))
			}},
		{Case: mounttest.Case{Name: "ok, e.Pre", Pre: true},
			mount: func(e *echo.Echo, mw echo.MiddlewareFunc) { e.Pre(mw) }},
		{Case: mounttest.Case{Name: "ok, after RemoveTrailingSlash"},
			before: func(e *echo.Echo, _ *socketio.Server) { e.Pre(echomw.RemoveTrailingSlash()) }},
	}
	mounttest.RunMatrix(t, cases, mounttest.Transports, newApp)
}
