package redistest

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// The checks of this file run against a cluster of either adapter: the classic one (node)
// and the sharded one (snode). The clusters are three nodes a, b and c with the sockets that
// cluster and shardedCluster connect.

// Peer is a node of a test cluster, of either adapter.
type Peer struct {
	NS      *RecNS
	Adapter rooms.Adapter
}

// SyncPeers broadcasts a marker from `from` to every node and waits until all have it, so
// that every earlier broadcast of `from` on the same channel has been delivered everywhere.
func SyncPeers(t *testing.T, from rooms.Adapter, nodes []Peer, marker string) {
	t.Helper()
	if err := from.Broadcast(Event(t, marker), rooms.Selection{}); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		n.NS.WaitFor(t, marker, 5*time.Second, func() bool {
			return slices.ContainsFunc(n.NS.Deliveries(), func(d Delivery) bool { return d.Event == marker })
		})
	}
}

// CheckBroadcastDeliveries checks that each node delivered p, broadcast by `from` to sel,
// once to the sockets of want (none when nil), markers aside, and then forgets the
// deliveries of all.
func CheckBroadcastDeliveries(t *testing.T, from Peer, nodes []Peer, p *parser.Packet, sel rooms.Selection, want [3][]rooms.SocketID) {
	t.Helper()
	for j, n := range nodes {
		got := slices.DeleteFunc(n.NS.Deliveries(), func(d Delivery) bool { return strings.HasPrefix(d.Event, "marker") })
		if want[j] == nil {
			if len(got) != 0 {
				t.Fatalf("node %s got\n%s", n.NS.Node, FmtDeliveries(got))
			}
			continue
		}
		if len(got) != 1 {
			t.Fatalf("node %s: want one delivery, got %d\n%s", n.NS.Node, len(got), FmtDeliveries(got))
		}
		d := got[0]
		if !slices.Equal(d.IDs, want[j]) {
			t.Errorf("node %s: sockets %v, want %v", n.NS.Node, d.IDs, want[j])
		}
		if d.Data != string(p.Data) {
			t.Errorf("node %s: data %s, want %s", n.NS.Node, d.Data, p.Data)
		}
		if len(d.Attachments) != len(p.Attachments) {
			t.Fatalf("node %s: %d attachments, want %d", n.NS.Node, len(d.Attachments), len(p.Attachments))
		}
		for k := range d.Attachments {
			if !bytes.Equal(d.Attachments[k], p.Attachments[k]) {
				t.Errorf("node %s: attachment %d is %v, want %v", n.NS.Node, k, d.Attachments[k], p.Attachments[k])
			}
		}
		if n.NS != from.NS && (d.Flags.Volatile != sel.Flags.Volatile || d.Flags.Compress != sel.Flags.Compress) {
			t.Errorf("node %s: flags %+v, want %+v", n.NS.Node, d.Flags, sel.Flags)
		}
	}
	for _, n := range nodes {
		n.NS.Mu.Lock()
		n.NS.delivered = nil
		n.NS.Mu.Unlock()
	}
}

// FetchSocketsCases are selections of FetchSockets from node c and the sockets they find.
var FetchSocketsCases = []struct {
	Name string
	Sel  rooms.Selection
	Want []rooms.SocketID
}{
	{"ok, all", rooms.Selection{}, IDs("a1", "a2", "b1", "b2", "c1", "c2")},
	{"ok, room", rooms.Selection{Rooms: []rooms.Room{"room1"}}, IDs("a1", "b1", "b2")},
	{"ok, except", rooms.Selection{Rooms: []rooms.Room{"room1", "room2"}, Except: []rooms.Room{"b2"}}, IDs("a1", "b1", "c1")},
	{"ok, local", rooms.Selection{Flags: rooms.Flags{Local: true}}, IDs("c1", "c2")},
}

// CheckRemoteSocket checks that the description of socket b2 of node b crosses intact to
// node c.
func CheckRemoteSocket(t *testing.T, ctx context.Context, c rooms.Adapter) {
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

// CheckBroadcastWithAck broadcasts with acknowledgements from node b to all sockets but c2,
// and checks the count, the acknowledgements, and that the remote nodes numbered the packet.
func CheckBroadcastWithAck(t *testing.T, nodes []Peer) {
	t.Helper()
	b := nodes[1]
	var mu sync.Mutex
	var acks []string
	counted := make(chan int, 1)
	p := Event(t, "question", "q?")
	p.ID, p.HasID = 7, true
	err := b.Adapter.BroadcastWithAck(p, rooms.Selection{Except: []rooms.Room{"c2"}, Flags: rooms.Flags{Timeout: time.Second}},
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
	b.NS.WaitFor(t, "acks", 5*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(acks) == 5 })
	mu.Lock()
	slices.Sort(acks)
	got := slices.Clone(acks)
	mu.Unlock()
	if want := []string{"ack a1", "ack a2", "ack b1", "ack b2", "ack c1"}; !slices.Equal(got, want) {
		t.Fatalf("acks %v, want %v", got, want)
	}
	// Remote nodes numbered the packet themselves.
	for _, n := range []Peer{nodes[0], nodes[2]} {
		if ds := n.NS.Deliveries(); len(ds) != 1 || !ds[0].HasID {
			t.Fatalf("node %s: %s", n.NS.Node, FmtDeliveries(ds))
		}
	}
}

// CheckServerSideEmit emits server-side events from node a, without and with
// acknowledgements, and checks what b and c receive and answer.
func CheckServerSideEmit(t *testing.T, ctx context.Context, nodes []Peer) {
	t.Helper()
	a := nodes[0]
	res, err := a.Adapter.ServerSideEmit(ctx, "ping", append(RawArgs(t, `{"n":1}`, `"two"`), parser.BinaryArg([]byte{0, 1, 0xff})), false)
	if err != nil || res != nil {
		t.Fatalf("ServerSideEmit = %v, %v", res, err)
	}
	for _, n := range nodes[1:] {
		n.NS.WaitFor(t, "ping", 5*time.Second, func() bool { return len(n.NS.SSECalls()) == 1 })
		if call := n.NS.SSECalls()[0]; call.Event != "ping" || len(call.Args) != 3 || call.Args[0].String() != `{"n":1}` ||
			!bytes.Equal(call.Args[2].Bytes(), []byte{0, 1, 0xff}) || call.Ack {
			t.Fatalf("node %s got %+v", n.NS.Node, call)
		}
	}
	res, err = a.Adapter.ServerSideEmit(ctx, "ping2", nil, true)
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
	if calls := a.NS.SSECalls(); len(calls) != 0 {
		t.Fatalf("the sender got its own event: %+v", calls)
	}
}

// CheckRemoteJoinLeaveDisconnect has node a put the sockets of room2 in room "joined", take
// c1 out of it, and disconnect the sockets of room1, checking each step. afterJoin, when not
// nil, runs once b2 and c1 are in "joined".
func CheckRemoteJoinLeaveDisconnect(t *testing.T, ctx context.Context, nodes []Peer, afterJoin func()) {
	t.Helper()
	a, b, c := nodes[0], nodes[1], nodes[2]
	if err := a.Adapter.AddSockets(ctx, rooms.Selection{Rooms: []rooms.Room{"room2"}}, "joined"); err != nil {
		t.Fatal(err)
	}
	c.NS.WaitFor(t, "join", 5*time.Second, func() bool { return len(c.Adapter.Sockets("joined")) == 1 })
	b.NS.WaitFor(t, "join", 5*time.Second, func() bool { return len(b.Adapter.Sockets("joined")) == 1 })
	got, err := a.Adapter.FetchSockets(ctx, rooms.Selection{Rooms: []rooms.Room{"joined"}})
	if err != nil || !slices.Equal(SocketIDs(got), IDs("b2", "c1")) {
		t.Fatalf("after join: %v, %v", SocketIDs(got), err)
	}
	if afterJoin != nil {
		afterJoin()
	}
	if err := a.Adapter.DelSockets(ctx, rooms.Selection{Rooms: []rooms.Room{"c1"}}, "joined"); err != nil {
		t.Fatal(err)
	}
	c.NS.WaitFor(t, "leave", 5*time.Second, func() bool { return len(c.Adapter.Sockets("joined")) == 0 })
	if err := a.Adapter.DisconnectSockets(ctx, rooms.Selection{Rooms: []rooms.Room{"room1"}}, true); err != nil {
		t.Fatal(err)
	}
	b.NS.WaitFor(t, "disconnect", 5*time.Second, func() bool { return len(b.NS.disconnects()) == 2 })
	if d := a.NS.disconnects(); !slices.Equal(d, []rooms.SocketID{"a1"}) {
		t.Fatalf("local disconnects %v", d)
	}
	got, err = c.Adapter.FetchSockets(ctx, rooms.Selection{})
	if err != nil || !slices.Equal(SocketIDs(got), IDs("a2", "c1", "c2")) {
		t.Fatalf("after disconnect: %v, %v", SocketIDs(got), err)
	}
}

// WaitServerCount waits until ServerCount of a is 3, as after a restart of Redis, until
// deadline.
func WaitServerCount(t *testing.T, a rooms.Adapter, deadline time.Time) {
	t.Helper()
	for {
		n, err := a.ServerCount(CtxT(t, 2*time.Second))
		if err == nil && n == 3 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ServerCount = %d, %v", n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// CheckRedisRestart restarts redis-server under the nodes a, b and c and checks that
// broadcasts from a reach b and c again, that the servers count each other again, and that
// c reported the lost connection.
func CheckRedisRestart(t *testing.T, srv *Server, nodes []Peer, aErrs, cErrs *ErrLog) {
	t.Helper()
	a, b, c := nodes[0], nodes[1], nodes[2]
	srv.Restart()
	// Broadcasts sent before the others are back are lost: keep sending until one arrives,
	// to a room of b and c.
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; ; i++ {
		_ = a.Adapter.Broadcast(Event(t, "after", i), rooms.Selection{Rooms: []rooms.Room{"room2"}})
		if slices.ContainsFunc(c.NS.Deliveries(), func(d Delivery) bool { return d.Event == "after" }) &&
			slices.ContainsFunc(b.NS.Deliveries(), func(d Delivery) bool { return d.Event == "after" }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no broadcast got through after the restart; errors: %v", aErrs.List())
		}
		time.Sleep(50 * time.Millisecond)
	}
	WaitServerCount(t, a.Adapter, deadline)
	got, err := a.Adapter.FetchSockets(CtxT(t, 5*time.Second), rooms.Selection{})
	if err != nil || len(got) != 6 {
		t.Fatalf("FetchSockets after restart: %v, %v", SocketIDs(got), err)
	}
	if len(cErrs.List()) == 0 {
		t.Error("the lost connection was not reported")
	}
}
