package sioecho_test

import (
	"net/http"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"

	"github.com/echo-socketio/echo-socketio/middleware/sioecho"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// The one-line mount of the README, next to the app's routes.
func ExampleSocketIO() {
	sio := socketio.NewServer(socketio.Options{})
	sio.OnConnection(func(s *socketio.Socket) {
		s.On("chat", func(text string, ack socketio.Ack) {
			_ = s.Broadcast().Emit("chat", text)
			_ = ack("delivered")
		})
	})
	e := echo.New()
	e.Use(middleware.RequestLogger())
	e.Use(sioecho.SocketIO(sio)) // /socket.io/ next to the app's routes
	e.GET("/", func(c *echo.Context) error { return c.HTML(http.StatusOK, "<p>hello</p>") })
	_ = e // e.Start(":3000")
}
