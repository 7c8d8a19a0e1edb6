// Command echo-chat is the reference application of echo-socketio: an Echo app that serves a
// page and a real-time endpoint side by side.
//
// This first version mounts the Engine.IO transport at /engine.io/ and echoes every message
// back; the chat itself is built on the Socket.IO layer.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/echo-socketio/echo-socketio/engineio"
)

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>echo-socketio</title></head>
<body><h1>echo-socketio</h1><p>The Engine.IO endpoint is mounted at <code>/engine.io/</code>.</p></body></html>
`

func main() {
	addr := flag.String("addr", envOr("ADDR", ":3000"), "address to listen on (env ADDR)")
	flag.Parse()

	eio := engineio.NewServer(engineio.Options{})
	eio.OnConnection(func(c *engineio.Conn) {
		log.Printf("A client has connected: %s", c.ID())
		c.OnMessage(func(data []byte, binary bool) { _ = c.Send(data, binary) })
		c.OnClose(func(reason engineio.CloseReason) {
			log.Printf("A client has disconnected: %s (%s)", c.ID(), reason)
		})
	})

	e := echo.New()
	e.HideBanner = true
	e.GET("/", func(c echo.Context) error { return c.HTML(http.StatusOK, page) })
	e.Any("/engine.io/", echo.WrapHandler(eio))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = eio.Shutdown(shutdown)
		_ = e.Shutdown(shutdown)
	}()
	log.Printf("listening on %s", *addr)
	if err := e.Start(*addr); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
