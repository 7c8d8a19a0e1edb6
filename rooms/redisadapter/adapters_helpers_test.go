package redisadapter_test

import (
	"context"
	"errors"
	"github.com/echo-socketio/echo-socketio/rooms"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/internal/redistest"
	"github.com/echo-socketio/echo-socketio/rooms/redisadapter"
)

// node is one server of a test cluster.
type node struct {
	ns      *redistest.RecNS
	adapter *redisadapter.Adapter
	errs    *redistest.ErrLog
}

// newNode starts a server of the cluster on srv, with its own Redis client.
func newNode(t testing.TB, srv *redistest.Server, name string, opts redisadapter.Options) *node {
	t.Helper()
	return newNodeNS(t, srv, "/", name, opts)
}

func newNodeNS(t testing.TB, srv *redistest.Server, nsp, name string, opts redisadapter.Options) *node {
	t.Helper()
	ns := redistest.NewRecNS(nsp, name)
	errs := &redistest.ErrLog{}
	if opts.OnError == nil {
		opts.OnError = errs.Add
	}
	a := redisadapter.New(srv.Client(t), opts)(ns).(*redisadapter.Adapter)
	ns.Mu.Lock()
	ns.Adapter = a
	ns.Mu.Unlock()
	t.Cleanup(func() { _ = a.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Ready(ctx); err != nil {
		t.Fatalf("node %s: %v", name, err)
	}
	return &node{ns: ns, adapter: a, errs: errs}
}

func newSioNode(t *testing.T, srv *redistest.Server, name string, opts redisadapter.Options) *redistest.SioNode {
	t.Helper()
	errs := &redistest.ErrLog{}
	opts.OnError = errs.Add
	return redistest.NewSioNodeWith(t, name, errs, redisadapter.New(srv.Client(t), opts))
}

// newShardedSioNode starts a Go Socket.IO server with the sharded adapter.
func newShardedSioNode(t *testing.T, srv *redistest.Server, name string, opts redisadapter.ShardedOptions) *redistest.SioNode {
	t.Helper()
	errs := &redistest.ErrLog{}
	opts.OnError = errs.Add
	return redistest.NewSioNodeWith(t, name, errs, redisadapter.NewSharded(srv.Client(t), opts))
}

func peers(nodes []*node) []redistest.Peer {
	out := make([]redistest.Peer, len(nodes))
	for i, n := range nodes {
		out[i] = redistest.Peer{NS: n.ns, Adapter: n.adapter}
	}
	return out
}

func shardedPeers(nodes []*snode) []redistest.Peer {
	out := make([]redistest.Peer, len(nodes))
	for i, n := range nodes {
		out[i] = redistest.Peer{NS: n.ns, Adapter: n.adapter}
	}
	return out
}

// checkFetchSocketsTimeout checks that FetchSockets of a fails after about 300 ms, the
// RequestsTimeout of the test, while a server that never answers listens.
func checkFetchSocketsTimeout(t *testing.T, a rooms.Adapter) {
	t.Helper()
	start := time.Now()
	got, err := a.FetchSockets(redistest.CtxT(t, 10*time.Second), rooms.Selection{})
	took := time.Since(start)
	if !errors.Is(err, redisadapter.ErrTimeout) || got != nil {
		t.Fatalf("FetchSockets = %v, %v; want nil and ErrTimeout", got, err)
	}
	if took < 300*time.Millisecond || took > 2*time.Second {
		t.Fatalf("failed after %v, want about 300ms", took)
	}
	t.Logf("error: %v", err)
}
