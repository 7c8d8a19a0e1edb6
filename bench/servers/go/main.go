// Command go is the benchmark server on this library's public API. It
// implements the benchmark contract of bench/README.md on namespace "/":
//
//	echo  (...args, ack)        -> ack(...args)
//	join  (room, ack)           -> socket.Join(room); ack()
//	bcast (room, payload, ack)  -> sio.To(room).Emit("bcast", payload); ack()
//
// It listens on 127.0.0.1:$PORT (default 3001), path /socket.io/, with the
// default options, and prints "listening <port>" once ready. $MOUNT chooses
// how the server is mounted and what runs beside it, one row of the
// benchmark report each:
//
//	(empty), "http"  plain net/http, so that the library alone is measured (row "go")
//	"echo"           an Echo v5 application with Recover and the project's
//	                 middleware (sioecho.SocketIO) in front of its routes, the
//	                 way applications run it (row "go-echo")
//	"metrics"        plain net/http with the Prometheus observer of package
//	                 metrics on, its /metrics endpoint beside (row "go-metrics")
//
// With PPROF set to an address (such as 127.0.0.1:6060) it also serves
// net/http/pprof there, on a separate listener. SIGINT and SIGTERM shut it
// down.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"

	"github.com/echo-socketio/echo-socketio/internal/benchcontract"
	"github.com/echo-socketio/echo-socketio/metrics"
	"github.com/echo-socketio/echo-socketio/middleware/sioecho"
	"github.com/echo-socketio/echo-socketio/socketio"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	port := os.Getenv("PORT")
	if port == "" {
		port = "3001"
	}
	if err := run(ctx, os.Getenv("MOUNT"), "127.0.0.1:"+port, os.Getenv("PPROF"), func(addr net.Addr) {
		fmt.Printf("listening %d\n", addr.(*net.TCPAddr).Port)
	}); err != nil {
		log.Fatal(err)
	}
}

// newServer returns a Socket.IO server that implements the benchmark
// contract.
func newServer() *socketio.Server {
	sio := socketio.NewServer(socketio.Options{})
	sio.OnConnection(func(s *socketio.Socket) { benchcontract.Handle(sio, s) })
	return sio
}

// Mounts, the values of $MOUNT.
const (
	mountHTTP    = "http"
	mountEcho    = "echo"
	mountMetrics = "metrics"
)

// handler returns the HTTP handler that serves sio the way mount says.
func handler(sio *socketio.Server, mount string) (http.Handler, error) {
	switch mount {
	case "", mountHTTP:
		mux := http.NewServeMux()
		mux.Handle(sio.Path(), sio)
		return mux, nil
	case mountEcho:
		e := echo.New()
		e.Use(middleware.Recover())
		e.Use(sioecho.SocketIO(sio))
		e.GET("/", func(c *echo.Context) error { return c.String(http.StatusOK, "ok") })
		return e, nil
	case mountMetrics:
		m, err := metrics.New(sio, metrics.Options{})
		if err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle(sio.Path(), sio)
		mux.Handle("/metrics", m.Handler())
		return mux, nil
	default:
		return nil, fmt.Errorf("unknown MOUNT %q (want %q, %q or %q)", mount, mountHTTP, mountEcho, mountMetrics)
	}
}

// run serves the benchmark server, mounted as mount says, on addr until ctx
// ends, calling ready with the bound address once it accepts connections. A
// non-empty pprofAddr also serves the profiling endpoints there.
func run(ctx context.Context, mount, addr, pprofAddr string, ready func(net.Addr)) error {
	sio := newServer()
	h, err := handler(sio, mount)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()

	var psrv *http.Server
	if pprofAddr != "" {
		pmux := http.NewServeMux()
		pmux.HandleFunc("/debug/pprof/", pprof.Index)
		pmux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		pmux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		pmux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		pmux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		pln, err := net.Listen("tcp", pprofAddr)
		if err != nil {
			_ = srv.Close()
			return fmt.Errorf("pprof listener: %w", err)
		}
		psrv = &http.Server{Handler: pmux, ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- psrv.Serve(pln) }()
		log.Printf("pprof on http://%s/debug/pprof/", pln.Addr())
	}
	ready(ln.Addr())

	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = sio.Shutdown(sctx)
	if psrv != nil {
		_ = psrv.Close()
	}
	// The websocket connections are hijacked, so Shutdown does not wait for them.
	return srv.Shutdown(sctx)
}
