// Command echo-chat is the reference application of echo-socketio: an Echo app that serves a
// single page and a Socket.IO endpoint side by side.
//
// Users sign in with a name (POST /api/login returns a JWT), the page connects with the
// official client loaded from /socket.io/socket.io.js, and the handshake carries the token.
// Users join channels, exchange messages acknowledged by the server, see who is typing and
// who is online, and send private messages. POST /api/notify, protected by the same JWT,
// pushes a notification to a user or a channel from an ordinary HTTP handler.
//
// With -ops, the server also serves its Prometheus metrics at /metrics and the official
// Socket.IO Admin UI at /admin-ui/, both behind -ops-user and -ops-password: the UI's login form
// takes the chat's URL, the "/admin" namespace and those credentials.
//
// Everything is kept in memory. With -redis, several instances share their rooms through a
// Redis server; they must then share the signing key too (-secret or JWT_SECRET).
//
// Usage:
//
//	go run ./examples/echo-chat [-addr :3000] [-redis 127.0.0.1:6379] [-secret KEY] [-token-ttl 15m] [-ops -ops-password PASSWORD]
package main

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"
	"github.com/redis/go-redis/v9"

	"github.com/echo-socketio/echo-socketio/middleware/sioecho"
	"github.com/echo-socketio/echo-socketio/rooms/redisadapter"
	"github.com/echo-socketio/echo-socketio/socketio"
)

//go:embed static
var static embed.FS

func main() {
	addr := flag.String("addr", envOr("ADDR", ":3000"), "address to listen on (env ADDR)")
	redisAddr := flag.String("redis", envOr("REDIS_ADDR", ""), "address of a Redis server shared by several instances (env REDIS_ADDR)")
	secret := flag.String("secret", envOr("JWT_SECRET", ""), "key that signs the tokens, random when empty (env JWT_SECRET)")
	// Tokens are short-lived: the page asks for a new one every time it connects, and a socket
	// whose token expires is disconnected, so it connects again with a new one.
	ttl := flag.Duration("token-ttl", 15*time.Minute, "lifetime of the tokens")
	ops := flag.Bool("ops", envOr("OPS", "") != "", "serve /metrics and the Admin UI at /admin-ui/ (env OPS)")
	opsUser := flag.String("ops-user", envOr("OPS_USER", "admin"), "user name for /metrics and the Admin UI (env OPS_USER)")
	opsPassword := flag.String("ops-password", envOr("OPS_PASSWORD", ""), "password for /metrics and the Admin UI (env OPS_PASSWORD)")
	flag.Parse()

	key := []byte(*secret)
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key) // crypto/rand.Read never fails
	}

	opts := socketio.Options{}
	if *redisAddr != "" {
		rdb := redis.NewClient(&redis.Options{Addr: *redisAddr})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err != nil {
			log.Fatalf("redis %s: %v", *redisAddr, err)
		}
		if *secret == "" {
			log.Print("warning: every instance needs the same -secret (or JWT_SECRET) for tokens to work across them")
		}
		opts.Adapter = redisadapter.New(rdb, redisadapter.Options{
			OnError: func(err error) { log.Printf("redis adapter: %v", err) },
		})
		log.Printf("sharing rooms through Redis at %s", *redisAddr)
	}

	e, sio := newApp(key, *ttl, opts)
	if *ops {
		stopOps, err := enableOps(e, sio, *opsUser, *opsPassword)
		if err != nil {
			log.Fatal(err)
		}
		defer stopOps()
		log.Print("serving /metrics and the Admin UI at /admin-ui/")
	}
	stopped, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// On SIGTERM, the sockets are disconnected first ("server shutting down"), then the HTTP
	// server stops.
	serving, stopServing := context.WithCancel(context.Background())
	defer stopServing()
	go func() {
		<-stopped.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = sio.Shutdown(shutdown)
		stopServing()
	}()
	log.Printf("echo-chat listening on %s", *addr)
	start := echo.StartConfig{Address: *addr, HideBanner: true, HidePort: true, GracefulTimeout: 5 * time.Second}
	if err := start.Start(serving, e); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// newApp returns the Echo application and its Socket.IO server, whose tokens are signed with
// key and valid for ttl.
func newApp(key []byte, ttl time.Duration, opts socketio.Options) (*echo.Echo, *socketio.Server) {
	sio := socketio.NewServer(opts)
	sio.Use(authenticate(key))
	newChat(sio).register()

	e := echo.New()
	e.Use(middleware.Recover())
	e.Use(sioecho.SocketIO(sio)) // /socket.io/: the endpoint and the client bundle
	site := echo.MustSubFS(static, "static")
	e.FileFS("/", "index.html", site)
	e.StaticFS("/static", site)
	e.POST("/api/login", login(key, ttl))
	e.POST("/api/notify", notify(sio), requireJWT(key))
	return e, sio
}

// envOr returns the environment variable key, or def when it is empty.
func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
