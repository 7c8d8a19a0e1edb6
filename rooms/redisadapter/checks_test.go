package redisadapter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/rooms/redisadapter"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// The checks of this file run against a cluster of either adapter: the classic one (node)
// and the sharded one (snode). The clusters are three nodes a, b and c with the sockets that
// cluster and shardedCluster connect.

// peer is a node of a test cluster, of either adapter.
type peer struct {
	ns      *recNS
	adapter rooms.Adapter
}

func peers(nodes []*node) []peer {
	out := make([]peer, len(nodes))
	for i, n := range nodes {
		out[i] = peer{ns: n.ns, adapter: n.adapter}
	}
	return out
}

func shardedPeers(nodes []*snode) []peer {
	out := make([]peer, len(nodes))
	for i, n := range nodes {
		out[i] = peer{ns: n.ns, adapter: n.adapter}
	}
	return out
}

// syncPeers broadcasts a marker from `from` to every node and waits until all have it, so
// that every earlier broadcast of `from` on the same channel has been delivered everywhere.
func syncPeers(t *testing.T, from rooms.Adapter, nodes []peer, marker string) {
	t.Helper()
	if err := from.Broadcast(event(t, marker), rooms.Selection{}); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		n.ns.waitFor(t, marker, 5*time.Second, func() bool {
			return slices.ContainsFunc(n.ns.deliveries(), func(d delivery) bool { return d.Event == marker })
		})
	}
}

// checkBroadcastDeliveries checks that each node delivered p, broadcast by `from` to sel,
// once to the sockets of want (none when nil), markers aside, and then forgets the
// deliveries of all.
func checkBroadcastDeliveries(t *testing.T, from peer, nodes []peer, p *parser.Packet, sel rooms.Selection, want [3][]rooms.SocketID) {
	t.Helper()
	for j, n := range nodes {
		got := slices.DeleteFunc(n.ns.deliveries(), func(d delivery) bool { return strings.HasPrefix(d.Event, "marker") })
		if want[j] == nil {
			if len(got) != 0 {
				t.Fatalf("node %s got\n%s", n.ns.node, fmtDeliveries(got))
			}
			continue
		}
		if len(got) != 1 {
			t.Fatalf("node %s: want one delivery, got %d\n%s", n.ns.node, len(got), fmtDeliveries(got))
		}
		d := got[0]
		if !slices.Equal(d.IDs, want[j]) {
			t.Errorf("node %s: sockets %v, want %v", n.ns.node, d.IDs, want[j])
		}
		if d.Data != string(p.Data) {
			t.Errorf("node %s: data %s, want %s", n.ns.node, d.Data, p.Data)
		}
		if len(d.Attachments) != len(p.Attachments) {
			t.Fatalf("node %s: %d attachments, want %d", n.ns.node, len(d.Attachments), len(p.Attachments))
		}
		for k := range d.Attachments {
			if !bytes.Equal(d.Attachments[k], p.Attachments[k]) {
				t.Errorf("node %s: attachment %d is %v, want %v", n.ns.node, k, d.Attachments[k], p.Attachments[k])
			}
		}
		if n.ns != from.ns && (d.Flags.Volatile != sel.Flags.Volatile || d.Flags.Compress != sel.Flags.Compress) {
			t.Errorf("node %s: flags %+v, want %+v", n.ns.node, d.Flags, sel.Flags)
		}
	}
	for _, n := range nodes {
		n.ns.mu.Lock()
		n.ns.delivered = nil
		n.ns.mu.Unlock()
	}
}

// fetchSocketsCases are selections of FetchSockets from node c and the sockets they find.
var fetchSocketsCases = []struct {
	name string
	sel  rooms.Selection
	want []rooms.SocketID
}{
	{"ok, all", rooms.Selection{}, ids("a1", "a2", "b1", "b2", "c1", "c2")},
	{"ok, room", rooms.Selection{Rooms: []rooms.Room{"room1"}}, ids("a1", "b1", "b2")},
	{"ok, except", rooms.Selection{Rooms: []rooms.Room{"room1", "room2"}, Except: []rooms.Room{"b2"}}, ids("a1", "b1", "c1")},
	{"ok, local", rooms.Selection{Flags: rooms.Flags{Local: true}}, ids("c1", "c2")},
}

// checkRemoteSocket checks that the description of socket b2 of node b crosses intact to
// node c.
func checkRemoteSocket(t *testing.T, ctx context.Context, c rooms.Adapter) {
	t.Helper()
	got, err := c.FetchSockets(ctx, rooms.Selection{Rooms: []rooms.Room{"b2"}})
	if err != nil || len(got) != 1 {
		t.Fatalf("got %v, %v", got, err)
	}
	s := got[0]
	slices.Sort(s.Rooms)
	if !slices.Equal(s.Rooms, []rooms.Room{"b2", "room1", "room2"}) || string(s.Data) != `{"node":"b"}` ||
		s.Handshake == nil || s.Handshake.Headers.Get("x-node") != "b" || s.Handshake.Issued != 1700000000000 ||
		string(s.Handshake.Auth) != `{"token":"t"}` || s.Handshake.Query["EIO"][0] != "4" {
		j, _ := json.Marshal(s)
		t.Fatalf("remote socket: %s", j)
	}
}

// checkFetchSocketsTimeout checks that FetchSockets of a fails after about 300 ms, the
// RequestsTimeout of the test, while a server that never answers listens.
func checkFetchSocketsTimeout(t *testing.T, a rooms.Adapter) {
	t.Helper()
	start := time.Now()
	got, err := a.FetchSockets(ctxT(t, 10*time.Second), rooms.Selection{})
	took := time.Since(start)
	if !errors.Is(err, redisadapter.ErrTimeout) || got != nil {
		t.Fatalf("FetchSockets = %v, %v; want nil and ErrTimeout", got, err)
	}
	if took < 300*time.Millisecond || took > 2*time.Second {
		t.Fatalf("failed after %v, want about 300ms", took)
	}
	t.Logf("error: %v", err)
}

// checkBroadcastWithAck broadcasts with acknowledgements from node b to all sockets but c2,
// and checks the count, the acknowledgements, and that the remote nodes numbered the packet.
func checkBroadcastWithAck(t *testing.T, nodes []peer) {
	t.Helper()
	b := nodes[1]
	var mu sync.Mutex
	var acks []string
	counted := make(chan int, 1)
	p := event(t, "question", "q?")
	p.ID, p.HasID = 7, true
	err := b.adapter.BroadcastWithAck(p, rooms.Selection{Except: []rooms.Room{"c2"}, Flags: rooms.Flags{Timeout: time.Second}},
		func(n int) { counted <- n },
		func(id rooms.SocketID, args parser.Args) {
			var s string
			if len(args) != 1 || args[0].Decode(&s) != nil {
				t.Errorf("ack %q with %s", id, args)
			}
			mu.Lock()
			acks = append(acks, s)
			mu.Unlock()
		})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-counted:
		if n != 5 {
			t.Fatalf("count = %d, want 5", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("count not called")
	}
	b.ns.waitFor(t, "acks", 5*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(acks) == 5 })
	mu.Lock()
	slices.Sort(acks)
	got := slices.Clone(acks)
	mu.Unlock()
	if want := []string{"ack a1", "ack a2", "ack b1", "ack b2", "ack c1"}; !slices.Equal(got, want) {
		t.Fatalf("acks %v, want %v", got, want)
	}
	// Remote nodes numbered the packet themselves.
	for _, n := range []peer{nodes[0], nodes[2]} {
		if ds := n.ns.deliveries(); len(ds) != 1 || !ds[0].HasID {
			t.Fatalf("node %s: %s", n.ns.node, fmtDeliveries(ds))
		}
	}
}

// checkServerSideEmit emits server-side events from node a, without and with
// acknowledgements, and checks what b and c receive and answer.
func checkServerSideEmit(t *testing.T, ctx context.Context, nodes []peer) {
	t.Helper()
	a := nodes[0]
	res, err := a.adapter.ServerSideEmit(ctx, "ping", append(rawArgs(t, `{"n":1}`, `"two"`), parser.BinaryArg([]byte{0, 1, 0xff})), false)
	if err != nil || res != nil {
		t.Fatalf("ServerSideEmit = %v, %v", res, err)
	}
	for _, n := range nodes[1:] {
		n.ns.waitFor(t, "ping", 5*time.Second, func() bool { return len(n.ns.sseCalls()) == 1 })
		if call := n.ns.sseCalls()[0]; call.Event != "ping" || len(call.Args) != 3 || call.Args[0].String() != `{"n":1}` ||
			!bytes.Equal(call.Args[2].Bytes(), []byte{0, 1, 0xff}) || call.Ack {
			t.Fatalf("node %s got %+v", n.ns.node, call)
		}
	}
	res, err = a.adapter.ServerSideEmit(ctx, "ping2", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res {
		var s string
		if len(r) != 1 || r[0].Decode(&s) != nil {
			t.Fatalf("answer %s", r)
		}
		got = append(got, s)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"pong from b", "pong from c"}) {
		t.Fatalf("answers %v", got)
	}
	if calls := a.ns.sseCalls(); len(calls) != 0 {
		t.Fatalf("the sender got its own event: %+v", calls)
	}
}

// checkRemoteJoinLeaveDisconnect has node a put the sockets of room2 in room "joined", take
// c1 out of it, and disconnect the sockets of room1, checking each step. afterJoin, when not
// nil, runs once b2 and c1 are in "joined".
func checkRemoteJoinLeaveDisconnect(t *testing.T, ctx context.Context, nodes []peer, afterJoin func()) {
	t.Helper()
	a, b, c := nodes[0], nodes[1], nodes[2]
	if err := a.adapter.AddSockets(ctx, rooms.Selection{Rooms: []rooms.Room{"room2"}}, "joined"); err != nil {
		t.Fatal(err)
	}
	c.ns.waitFor(t, "join", 5*time.Second, func() bool { return len(c.adapter.Sockets("joined")) == 1 })
	b.ns.waitFor(t, "join", 5*time.Second, func() bool { return len(b.adapter.Sockets("joined")) == 1 })
	got, err := a.adapter.FetchSockets(ctx, rooms.Selection{Rooms: []rooms.Room{"joined"}})
	if err != nil || !slices.Equal(socketIDs(got), ids("b2", "c1")) {
		t.Fatalf("after join: %v, %v", socketIDs(got), err)
	}
	if afterJoin != nil {
		afterJoin()
	}
	if err := a.adapter.DelSockets(ctx, rooms.Selection{Rooms: []rooms.Room{"c1"}}, "joined"); err != nil {
		t.Fatal(err)
	}
	c.ns.waitFor(t, "leave", 5*time.Second, func() bool { return len(c.adapter.Sockets("joined")) == 0 })
	if err := a.adapter.DisconnectSockets(ctx, rooms.Selection{Rooms: []rooms.Room{"room1"}}, true); err != nil {
		t.Fatal(err)
	}
	b.ns.waitFor(t, "disconnect", 5*time.Second, func() bool { return len(b.ns.disconnects()) == 2 })
	if d := a.ns.disconnects(); !slices.Equal(d, []rooms.SocketID{"a1"}) {
		t.Fatalf("local disconnects %v", d)
	}
	got, err = c.adapter.FetchSockets(ctx, rooms.Selection{})
	if err != nil || !slices.Equal(socketIDs(got), ids("a2", "c1", "c2")) {
		t.Fatalf("after disconnect: %v, %v", socketIDs(got), err)
	}
}

// waitServerCount waits until ServerCount of a is 3, as after a restart of Redis, until
// deadline.
func waitServerCount(t *testing.T, a rooms.Adapter, deadline time.Time) {
	t.Helper()
	for {
		n, err := a.ServerCount(ctxT(t, 2*time.Second))
		if err == nil && n == 3 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ServerCount = %d, %v", n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkRedisRestart restarts redis-server under the nodes a, b and c and checks that
// broadcasts from a reach b and c again, that the servers count each other again, and that
// c reported the lost connection.
func checkRedisRestart(t *testing.T, srv *redisServer, nodes []peer, aErrs, cErrs *errLog) {
	t.Helper()
	a, b, c := nodes[0], nodes[1], nodes[2]
	srv.restart()
	// Broadcasts sent before the others are back are lost: keep sending until one arrives,
	// to a room of b and c.
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; ; i++ {
		_ = a.adapter.Broadcast(event(t, "after", i), rooms.Selection{Rooms: []rooms.Room{"room2"}})
		if slices.ContainsFunc(c.ns.deliveries(), func(d delivery) bool { return d.Event == "after" }) &&
			slices.ContainsFunc(b.ns.deliveries(), func(d delivery) bool { return d.Event == "after" }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no broadcast got through after the restart; errors: %v", aErrs.list())
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitServerCount(t, a.adapter, deadline)
	got, err := a.adapter.FetchSockets(ctxT(t, 5*time.Second), rooms.Selection{})
	if err != nil || len(got) != 6 {
		t.Fatalf("FetchSockets after restart: %v, %v", socketIDs(got), err)
	}
	if len(cErrs.list()) == 0 {
		t.Error("the lost connection was not reported")
	}
}
