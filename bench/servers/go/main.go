// Command go is the benchmark server on this library's public API. It
// implements the benchmark contract of bench/README.md on namespace "/":
//
//	echo  (...args, ack)        -> ack(...args)
//	join  (room, ack)           -> socket.Join(room); ack()
//	bcast (room, payload, ack)  -> sio.To(room).Emit("bcast", payload); ack()
//
// It listens on 127.0.0.1:$PORT (default 3001), path /socket.io/, with the
// default options, on plain net/http so that the library alone is measured,
// and prints "listening <port>" once ready. With PPROF set to an address
// (such as 127.0.0.1:6060) it also serves net/http/pprof there, on a
// separate listener. SIGINT and SIGTERM shut it down.
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

	"github.com/echo-socketio/echo-socketio/internal/benchcontract"
	"github.com/echo-socketio/echo-socketio/socketio"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	port := os.Getenv("PORT")
	if port == "" {
		port = "3001"
	}
	if err := run(ctx, "127.0.0.1:"+port, os.Getenv("PPROF"), func(addr net.Addr) {
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

// run serves the benchmark server on addr until ctx ends, calling ready with
// the bound address once it accepts connections. A non-empty pprofAddr also
// serves the profiling endpoints there.
func run(ctx context.Context, addr, pprofAddr string, ready func(net.Addr)) error {
	sio := newServer()
	mux := http.NewServeMux()
	mux.Handle(sio.Path(), sio)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
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
