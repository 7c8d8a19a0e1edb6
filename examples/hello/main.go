// Command hello is the chat of the Socket.IO tutorial (socket.io/docs/v4/tutorial) in Go: a
// page, a log line when a user connects and when one disconnects, and one event, "chat
// message", sent back to everyone. Run it with go run ./examples/hello and open
// http://localhost:3000 in two windows.
package main

import (
	_ "embed"
	"log"
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/echo-socketio/echo-socketio/middleware/sioecho"
	"github.com/echo-socketio/echo-socketio/socketio"
)

//go:embed index.html
var page string

func newApp() (*echo.Echo, *socketio.Server) {
	sio := socketio.NewServer(socketio.Options{})
	sio.OnConnection(func(s *socketio.Socket) {
		log.Printf("a user connected: %s", s.ID())
		s.On("disconnect", func(reason string) { log.Printf("user disconnected: %s (%s)", s.ID(), reason) })
		s.On("chat message", func(msg string) { _ = sio.Emit("chat message", msg) })
	})
	e := echo.New()
	e.Use(sioecho.SocketIO(sio))
	e.GET("/", func(c *echo.Context) error { return c.HTML(http.StatusOK, page) })
	return e, sio
}

func main() {
	e, _ := newApp()
	log.Fatal(e.Start(":3000"))
}
