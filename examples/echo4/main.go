// Command echo4 is the smallest Echo v4 application with a Socket.IO endpoint, for
// applications that have not moved to Echo v5 yet (Echo v4 gets security fixes until
// 2026-12-31). The Echo v5 applications are examples/echo-chat and examples/jwt.
//
//	go run ./examples/echo4 [-addr :3000]
//
// The page at / connects with the official client, loaded from /socket.io/socket.io.js, and
// sends "echo"; "whoami" answers with what the handshake request told the server.
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
	"github.com/labstack/echo/v4/middleware"

	"github.com/echo-socketio/echo-socketio/middleware/sioecho4"
	"github.com/echo-socketio/echo-socketio/socketio"
)

func main() {
	addr := flag.String("addr", ":3000", "address to listen on")
	flag.Parse()

	e, sio := newApp()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = sio.Shutdown(shutdown)
		_ = e.Shutdown(shutdown)
	}()
	if err := e.Start(*addr); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// newApp returns the Echo v4 application and its Socket.IO server.
func newApp() (*echo.Echo, *socketio.Server) {
	sio := socketio.NewServer(socketio.Options{})
	sio.OnConnection(func(s *socketio.Socket) {
		s.On("echo", func(text string, ack socketio.Ack) { _ = ack(text) })
		s.On("whoami", func(ack socketio.Ack) {
			snap, _ := sioecho4.FromSocket(s)
			_ = ack(map[string]string{"ip": snap.RealIP, "requestID": snap.RequestID})
		})
	})

	e := echo.New()
	e.HideBanner = true
	e.Use(middleware.Recover())
	e.Use(middleware.RequestID()) // the handshake's ID reaches the socket (whoami)
	e.Use(sioecho4.SocketIO(sio)) // /socket.io/: the endpoint and the client bundle
	e.GET("/", func(c echo.Context) error { return c.HTML(http.StatusOK, page) })
	e.GET("/api/time", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"now": time.Now().UTC()})
	})
	return e, sio
}

const page = `<!doctype html>
<meta charset="utf-8">
<title>Echo v4 and Socket.IO</title>
<pre id="log"></pre>
<script src="/socket.io/socket.io.js"></script>
<script>
const log = (...a) => { document.getElementById("log").textContent += a.join(" ") + "\n"; };
const socket = io();
socket.on("connect", async () => {
  log("connected over", socket.io.engine.transport.name);
  log("echo:", await socket.emitWithAck("echo", "hello"));
  log("whoami:", JSON.stringify(await socket.emitWithAck("whoami")));
});
</script>
`
