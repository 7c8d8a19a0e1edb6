package sioecho4_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/echo-socketio/echo-socketio/engineio"
	"github.com/echo-socketio/echo-socketio/middleware/internal/mounttest"
	"github.com/echo-socketio/echo-socketio/middleware/sioecho4"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// appCase is one Echo v4 application of the interop matrix.
type appCase struct {
	mounttest.Case
	// before registers Echo middlewares before the endpoint (with e.Use).
	before func(e *echo.Echo, sio *socketio.Server, log *mounttest.SyncBuffer)
	// mount mounts the endpoint; default e.Use (or g.Use) with ContextKeys "user".
	mount func(e *echo.Echo, mw echo.MiddlewareFunc)
}

// newApp returns an Echo v4 application with a page, a JSON route and the Socket.IO endpoint,
// and what it logged.
func newApp(t *testing.T, c appCase) (string, *socketio.Server, func() string) {
	t.Helper()
	sio := mounttest.NewServer(t, c.Case)
	log := &mounttest.SyncBuffer{}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	if c.before != nil {
		c.before(e, sio, log)
	}
	// An earlier middleware of the app's: a value on the echo.Context and one in the request's
	// context, both of which the handshake must see.
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(ec echo.Context) error {
			ec.Set(mounttest.UserKey, mounttest.User)
			ec.SetRequest(ec.Request().WithContext(context.WithValue(ec.Request().Context(), mounttest.CtxKey{}, mounttest.CtxValue)))
			return next(ec)
		}
	})
	mw, err := sioecho4.Config{Server: sio, ContextKeys: []string{mounttest.UserKey}}.ToMiddleware()
	if err != nil {
		t.Fatal(err)
	}
	var routes interface {
		GET(string, echo.HandlerFunc, ...echo.MiddlewareFunc) *echo.Route
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
	routes.GET("/", func(ec echo.Context) error { return ec.HTML(http.StatusOK, mounttest.IndexHTML) })
	routes.GET("/api/ping", func(ec echo.Context) error {
		return ec.JSON(http.StatusOK, map[string]any{"pong": true, "pad": mounttest.PingPad})
	})
	return mounttest.Serve(t, e), sio, log.String
}

// TestInteropEchoApp runs the official client against Echo v4 applications: at the root, on
// groups, and behind each of Echo's middlewares that docs/echo.md lists. Each application is
// run over polling alone (long polls and compressed polling responses through the v4
// response) and over polling upgraded to websocket (the hijack through it); the Echo v5
// adapter, which shares the code that does not depend on Echo, also runs websocket alone.
func TestInteropEchoApp(t *testing.T) {
	cases := []appCase{
		{Case: mounttest.Case{Name: "ok, root"}},
		{Case: mounttest.Case{Name: "ok, group", Group: "/app"}},
		{Case: mounttest.Case{Name: "ok, custom path on a group", Group: "/v1/rt"}},
		{Case: mounttest.Case{Name: "ok, Logger Recover RequestID", Logged: true, Hold: 700 * time.Millisecond},
			before: func(e *echo.Echo, _ *socketio.Server, log *mounttest.SyncBuffer) {
				//lint:ignore SA1019 apps still use the deprecated Logger; the endpoint must work behind it
				e.Use(echomw.LoggerWithConfig(echomw.LoggerConfig{Output: log}))
				e.Use(echomw.Recover())
				e.Use(echomw.RequestID())
			}},
		{Case: mounttest.Case{Name: "ok, CORS", Engine: engineio.Options{CORS: engineio.CORSOptions{Origins: []string{"http://app.example"}}},
			Fetch: true, Headers: map[string]string{"Origin": "http://app.example"}},
			before: func(e *echo.Echo, _ *socketio.Server, _ *mounttest.SyncBuffer) {
				e.Use(echomw.CORSWithConfig(echomw.CORSConfig{AllowOrigins: []string{"http://app.example"}}))
			}},
		{Case: mounttest.Case{Name: "ok, Gzip", Fetch: true, Hold: 700 * time.Millisecond},
			before: func(e *echo.Echo, _ *socketio.Server, _ *mounttest.SyncBuffer) { e.Use(echomw.Gzip()) }},
		{Case: mounttest.Case{Name: "ok, BodyLimit"},
			before: func(e *echo.Echo, _ *socketio.Server, _ *mounttest.SyncBuffer) { e.Use(echomw.BodyLimit("2M")) }},
		{Case: mounttest.Case{Name: "ok, ContextTimeout with SkipSocketIO", Hold: 700 * time.Millisecond},
			before: func(e *echo.Echo, sio *socketio.Server, _ *mounttest.SyncBuffer) {
				e.Use(echomw.ContextTimeoutWithConfig(echomw.ContextTimeoutConfig{
					Skipper: sioecho4.SkipSocketIO(sio), Timeout: 100 * time.Millisecond}))
			}},
		{Case: mounttest.Case{Name: "ok, endpoint before Timeout", Hold: 700 * time.Millisecond},
			mount: func(e *echo.Echo, mw echo.MiddlewareFunc) {
				e.Use(mw)
				//lint:ignore SA1019 apps still use the deprecated Timeout; the endpoint must work beside it
				e.Use(echomw.TimeoutWithConfig(echomw.TimeoutConfig{Timeout: 100 * time.Millisecond}))
			}},
		{Case: mounttest.Case{Name: "ok, e.Pre", Pre: true},
			mount: func(e *echo.Echo, mw echo.MiddlewareFunc) { e.Pre(mw) }},
		{Case: mounttest.Case{Name: "ok, after RemoveTrailingSlash"},
			before: func(e *echo.Echo, _ *socketio.Server, _ *mounttest.SyncBuffer) { e.Pre(echomw.RemoveTrailingSlash()) }},
	}
	mounttest.RunMatrix(t, cases, []string{"polling", "polling,websocket"}, newApp)
}
