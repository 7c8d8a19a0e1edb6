// Command clusternode is one Socket.IO server of a Redis cluster, for the cluster benchmark
// (bench/cluster) and the tests that kill a node (rooms/redisstreams). It implements the
// benchmark contract of bench/README.md on namespace "/":
//
//	echo  (...args, ack)        -> ack(...args)
//	join  (room, ack)           -> socket.Join(room); ack()
//	bcast (room, payload, ack)  -> sio.To(room).Emit("bcast", payload); ack()
//	ready (ack)                 -> ack(true)
//
// and a socket joins the rooms listed in its auth's "rooms" field on connection. It is
// configured by the environment:
//
//	PORT        the port on 127.0.0.1 (default 3001; 0 picks a free one)
//	REDIS_ADDR  the Redis server (default 127.0.0.1:6379)
//	ADAPTER     "redis" (the classic adapter, the default) or "streams"
//	RECOVERY    "1" turns on connection state recovery (streams adapter only)
//	NODE_ID     with PEERS, turns on Engine.IO forwarding (no sticky sessions)
//	PEERS       comma-separated id=url pairs of every node, this one included
//
// It prints "listening <port>" once ready; SIGINT and SIGTERM shut it down.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/echo-socketio/echo-socketio/engineio"
	"github.com/echo-socketio/echo-socketio/internal/benchcontract"
	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/rooms/redisadapter"
	"github.com/echo-socketio/echo-socketio/rooms/redisstreams"
	"github.com/echo-socketio/echo-socketio/socketio"
	"github.com/redis/go-redis/v9"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		log.Fatalf("clusternode: %v", err)
	}
}

// config is the node's configuration, read from the environment.
type config struct {
	port, redisAddr, adapter string
	recovery                 bool
	nodeID                   string
	peers                    map[string]string
}

func readConfig() (config, error) {
	c := config{
		port:      os.Getenv("PORT"),
		redisAddr: os.Getenv("REDIS_ADDR"),
		adapter:   os.Getenv("ADAPTER"),
		recovery:  os.Getenv("RECOVERY") == "1",
		nodeID:    os.Getenv("NODE_ID"),
	}
	if c.port == "" {
		c.port = "3001"
	}
	if c.redisAddr == "" {
		c.redisAddr = "127.0.0.1:6379"
	}
	if c.adapter == "" {
		c.adapter = "redis"
	}
	if c.adapter != "redis" && c.adapter != "streams" {
		return c, fmt.Errorf("unknown ADAPTER %q (want redis or streams)", c.adapter)
	}
	if c.recovery && c.adapter != "streams" {
		return c, errors.New("RECOVERY=1 needs ADAPTER=streams")
	}
	if p := os.Getenv("PEERS"); p != "" {
		c.peers = map[string]string{}
		for _, kv := range strings.Split(p, ",") {
			id, url, ok := strings.Cut(kv, "=")
			if !ok || id == "" || url == "" {
				return c, fmt.Errorf("bad PEERS entry %q (want id=url)", kv)
			}
			c.peers[id] = url
		}
	}
	if (c.nodeID == "") != (c.peers == nil) {
		return c, errors.New("NODE_ID and PEERS go together")
	}
	return c, nil
}

func onError(err error) { log.Printf("clusternode: adapter: %v", err) }

// newServer returns the Socket.IO server of the node.
func newServer(c config, rdb *redis.Client) *socketio.Server {
	opts := socketio.Options{}
	var adapter rooms.Factory
	if c.adapter == "streams" {
		adapter = redisstreams.New(rdb, redisstreams.Options{Recovery: c.recovery, OnError: onError})
		if c.recovery {
			opts.ConnectionStateRecovery = &socketio.Recovery{}
		}
	} else {
		adapter = redisadapter.New(rdb, redisadapter.Options{OnError: onError})
	}
	opts.Adapter = adapter
	if c.nodeID != "" {
		opts.Engine.Forwarding = &engineio.Forwarding{NodeID: c.nodeID, Peers: c.peers}
	}
	sio := socketio.NewServer(opts)
	sio.OnConnection(func(s *socketio.Socket) {
		var auth struct {
			Rooms []string `json:"rooms"`
		}
		if !s.Recovered() {
			_ = s.Auth(&auth)
			s.Join(auth.Rooms...)
		}
		s.On("ready", func(ack socketio.Ack) { _ = ack(true) })
		benchcontract.Handle(sio, s)
	})
	return sio
}

func run(ctx context.Context) error {
	c, err := readConfig()
	if err != nil {
		return err
	}
	rdb := redis.NewClient(&redis.Options{Addr: c.redisAddr})
	defer rdb.Close()
	sio := newServer(c, rdb)
	ln, err := net.Listen("tcp", "127.0.0.1:"+c.port)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle(sio.Path(), sio)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Printf("listening %d\n", ln.Addr().(*net.TCPAddr).Port)
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
	return srv.Shutdown(sctx)
}
