package sioecho_test

import (
	"log"

	"github.com/labstack/echo/v5"

	"github.com/echo-socketio/echo-socketio/middleware/sioecho"
	"github.com/echo-socketio/echo-socketio/socketio"
)

type ChatMessage struct {
	Room string `json:"room"`
	Text string `json:"text"`
}

func Example_readme() {
	sio := socketio.NewServer(socketio.Options{}) // zero value: the official defaults
	sio.OnConnection(func(s *socketio.Socket) {
		log.Printf("connected: %s", s.ID())
		s.On("join", func(room string) { s.Join(room) })
		s.On("chat", func(m ChatMessage, ack socketio.Ack) { // typed arguments, optional ack
			_ = s.To(m.Room).Emit("chat", m) // to the room, the sender excluded
			_ = ack("delivered")
		})
		s.On("disconnect", func(reason string) { log.Printf("disconnected: %s (%s)", s.ID(), reason) })
	})

	e := echo.New()
	e.Use(sioecho.SocketIO(sio)) // the one line: /socket.io/ next to your routes
	log.Fatal(e.Start(":3000"))
}
