package redisadapter_test

import (
	"github.com/echo-socketio/echo-socketio/internal/redistest"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/rooms/redisadapter"
	"github.com/redis/go-redis/v9"
)

// startRedisCluster starts a Redis Cluster of three masters on free loopback ports, in the
// test's temporary directory, and stops it when the test ends.
func startRedisCluster(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skip("redis-cli is not installed")
	}
	dir := t.TempDir()
	var addrs []string
	for i := range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes-"+strconv.Itoa(i)+".conf",
			"--save", "", "--appendonly", "no", "--dir", dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		addrs = append(addrs, "127.0.0.1:"+strconv.Itoa(port))
	}
	for _, addr := range addrs {
		waitPing(t, addr)
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer func() { _ = c.Close() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := c.ClusterInfo(redistest.CtxT(t, time.Second)).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Redis cluster is not ready: %v %s", err, info)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return addrs
}

func waitPing(t *testing.T, addr string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer func() { _ = c.Close() }()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(redistest.CtxT(t, time.Second)).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("redis-server %s did not start", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestShardedRedisCluster runs two sharded adapters on a Redis Cluster of three shards: the
// channels of the namespace, of the answers and of the rooms live on different shards.
func TestShardedRedisCluster(t *testing.T) {
	addrs := startRedisCluster(t)
	newClusterNode := func(name string) *snode {
		ns := redistest.NewRecNS("/", name)
		errs := &redistest.ErrLog{}
		rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
		t.Cleanup(func() { _ = rdb.Close() })
		a := redisadapter.NewSharded(rdb, redisadapter.ShardedOptions{OnError: errs.Add, RequestsTimeout: 2 * time.Second})(ns).(*redisadapter.ShardedAdapter)
		ns.Mu.Lock()
		ns.Adapter = a
		ns.Mu.Unlock()
		t.Cleanup(func() { _ = a.Close() })
		if err := a.Ready(redistest.CtxT(t, 5*time.Second)); err != nil {
			t.Fatalf("node %s: %v; errors %v", name, err, errs.List())
		}
		return &snode{ns: ns, adapter: a, errs: errs}
	}
	a, b := newClusterNode("a"), newClusterNode("b")
	roomNames := []rooms.Room{"r1", "r2", "r3", "r4", "r5", "r6"}
	a.ns.Connect("a1", roomNames...)
	b.ns.Connect("b1", roomNames...)
	if n, err := a.adapter.ServerCount(redistest.CtxT(t, 5*time.Second)); err != nil || n != 2 {
		t.Fatalf("ServerCount = %d, %v", n, err)
	}
	got, err := a.adapter.FetchSockets(redistest.CtxT(t, 5*time.Second), rooms.Selection{})
	if err != nil || !slices.Equal(redistest.SocketIDs(got), redistest.IDs("a1", "b1")) {
		t.Fatalf("FetchSockets = %v, %v", redistest.SocketIDs(got), err)
	}
	// Each room's channel: keep sending until the subscription has reached its shard.
	for _, r := range roomNames {
		ev := "to-" + string(r)
		deadline := time.Now().Add(5 * time.Second)
		for !slices.ContainsFunc(b.ns.Deliveries(), func(d redistest.Delivery) bool { return d.Event == ev }) {
			if time.Now().After(deadline) {
				t.Fatalf("no broadcast to %s arrived; errors %v %v", r, a.errs.List(), b.errs.List())
			}
			_ = a.adapter.Broadcast(redistest.Event(t, ev), rooms.Selection{Rooms: []rooms.Room{r}})
			time.Sleep(20 * time.Millisecond)
		}
	}
	for _, n := range []*snode{a, b} {
		if errs := n.errs.List(); len(errs) > 0 {
			t.Errorf("node %s reported %v", n.ns.Node, errs)
		}
	}
}
