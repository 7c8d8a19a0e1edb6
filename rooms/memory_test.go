package rooms_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
)

// nsp records what the adapter asks of its namespace.
type nsp struct {
	mu           sync.Mutex
	delivered    map[rooms.SocketID]int
	broadcasts   int
	disconnected []rooms.SocketID
	adapter      rooms.Adapter
	onDeliver    func(*parser.Packet)
}

func (n *nsp) Name() string { return "/" }

func (n *nsp) Deliver(p *parser.Packet, list []rooms.SocketID, _ rooms.Flags) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.broadcasts++
	if n.onDeliver != nil {
		n.onDeliver(p)
	}
	for _, id := range list {
		n.delivered[id]++
	}
}

func (n *nsp) DeliverWithAck(p *parser.Packet, list []rooms.SocketID, f rooms.Flags, ack rooms.AckFunc) int {
	n.Deliver(p, list, f)
	for _, id := range list {
		a, _ := parser.NewArg(json.RawMessage(`"`+string(id)+`"`), nil)
		ack(id, parser.Args{a})
	}
	return len(list)
}

func (n *nsp) SocketInfo(id rooms.SocketID) (sockets.Info, bool) {
	return sockets.Info{ID: id, Rooms: n.adapter.SocketRooms(id)}, true
}

func (n *nsp) Disconnect(id rooms.SocketID, _ bool) {
	n.mu.Lock()
	n.disconnected = append(n.disconnected, id)
	n.mu.Unlock()
	n.adapter.DelAll(id) // a namespace calls back into the adapter: no lock may be held
}

func (n *nsp) ServerSideEmit(string, parser.Args, func(parser.Args)) {}

// receiverNsp is an nsp that registers a Receiver per socket (rooms.ReceiverNamespace): a
// fakeReceiver for every ID but those in unknown, for which it has none.
type receiverNsp struct {
	*nsp
	receivers map[rooms.SocketID]*fakeReceiver
	unknown   map[rooms.SocketID]bool
	byID      int // deliveries to members without a Receiver
	mismatch  []string
}

type fakeReceiver struct {
	id  rooms.SocketID
	gen int // tells apart two receivers of one ID
}

func (r *fakeReceiver) ReceiverID() rooms.SocketID { return r.id }

func (n *receiverNsp) Receiver(id rooms.SocketID) rooms.Receiver {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.unknown[id] {
		return nil
	}
	r := n.receivers[id]
	if r == nil {
		r = &fakeReceiver{id: id}
		n.receivers[id] = r
	}
	return r
}

// replace gives socket id a new Receiver, as a namespace does for the socket of a recovered
// session.
func (n *receiverNsp) replace(id rooms.SocketID) *fakeReceiver {
	n.mu.Lock()
	defer n.mu.Unlock()
	old := n.receivers[id]
	r := &fakeReceiver{id: id, gen: 1}
	if old != nil {
		r.gen = old.gen + 1
	}
	n.receivers[id] = r
	return r
}

func (n *receiverNsp) DeliverTo(p *parser.Packet, members []rooms.Member, _ rooms.Flags) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.broadcasts++
	if n.onDeliver != nil {
		n.onDeliver(p)
	}
	for _, mb := range members {
		n.delivered[mb.ID]++
		if mb.Receiver == nil {
			n.byID++
			continue
		}
		r, ok := mb.Receiver.(*fakeReceiver)
		if !ok || r.id != mb.ID || n.receivers[mb.ID] != r {
			n.mismatch = append(n.mismatch, fmt.Sprintf("%s got %#v", mb.ID, mb.Receiver))
		}
	}
}

func (n *receiverNsp) DeliverToWithAck(p *parser.Packet, members []rooms.Member, f rooms.Flags, ack rooms.AckFunc) int {
	n.DeliverTo(p, members, f)
	for _, mb := range members {
		a, _ := parser.NewArg(json.RawMessage(`"`+string(mb.ID)+`"`), nil)
		ack(mb.ID, parser.Args{a})
	}
	return len(members)
}

// check fails t when a delivery went to a member without its current Receiver, or (byID
// false) by ID.
func (n *receiverNsp) check(t *testing.T, byID bool) {
	t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.mismatch) > 0 {
		t.Fatalf("deliveries with the wrong receiver: %v", n.mismatch)
	}
	if !byID && n.byID > 0 {
		t.Fatalf("%d deliveries by ID, want all by receiver", n.byID)
	}
}

// kinds are the two kinds of namespace the adapter serves: one that takes deliveries by ID,
// and one that takes them by Receiver.
var kinds = []string{"by ID", "by receiver"}

// newMemory returns an adapter serving a recording namespace of kind; rn is that namespace
// when it takes deliveries by Receiver, else nil.
func newMemory(kind string) (*rooms.Memory, *nsp, *receiverNsp) {
	n := &nsp{delivered: map[rooms.SocketID]int{}}
	var ns rooms.Namespace = n
	var rn *receiverNsp
	if kind == "by receiver" {
		rn = &receiverNsp{nsp: n, receivers: map[rooms.SocketID]*fakeReceiver{}, unknown: map[rooms.SocketID]bool{}}
		ns = rn
	}
	m := rooms.NewMemory(ns)
	n.adapter = m
	return m, n, rn
}

// eachKind runs f once for each kind of namespace.
func eachKind(t *testing.T, f func(t *testing.T, kind string)) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) { f(t, kind) })
	}
}

func (n *nsp) take() map[rooms.SocketID]int {
	n.mu.Lock()
	defer n.mu.Unlock()
	d := n.delivered
	n.delivered = map[rooms.SocketID]int{}
	return d
}

func ids(m map[rooms.SocketID]int) string {
	var out []string
	for id, c := range m {
		out = append(out, fmt.Sprintf("%s×%d", id, c))
	}
	sort.Strings(out)
	return fmt.Sprint(out)
}

func TestSelection(t *testing.T) { eachKind(t, testSelection) }

func testSelection(t *testing.T, kind string) {
	m, n, rn := newMemory(kind)
	m.AddAll("a", "a", "r1", "all")
	m.AddAll("b", "b", "r1", "r2", "all")
	m.AddAll("c", "c", "r2", "all")
	m.AddAll("d", "d", "all")
	cases := []struct {
		name string
		sel  rooms.Selection
		want string
	}{
		{"ok, one room", rooms.Selection{Rooms: []rooms.Room{"r1"}}, "[a×1 b×1]"},
		{"ok, several rooms once each", rooms.Selection{Rooms: []rooms.Room{"r1", "r2", "all"}}, "[a×1 b×1 c×1 d×1]"},
		{"ok, the same room twice", rooms.Selection{Rooms: []rooms.Room{"r1", "r1"}}, "[a×1 b×1]"},
		{"ok, everyone", rooms.Selection{}, "[a×1 b×1 c×1 d×1]"},
		{"ok, except wins over to", rooms.Selection{Rooms: []rooms.Room{"r1"}, Except: []rooms.Room{"r2"}}, "[a×1]"},
		{"ok, everyone but a socket", rooms.Selection{Except: []rooms.Room{"c"}}, "[a×1 b×1 d×1]"},
		{"ok, unknown room", rooms.Selection{Rooms: []rooms.Room{"nope"}}, "[]"},
		{"ok, more rooms than a selection looks up on its stack", rooms.Selection{
			Rooms:  []rooms.Room{"n1", "n2", "r2", "n3", "r1", "n4", "r2", "all"},
			Except: []rooms.Room{"x1", "x2", "x3", "x4", "x5", "x6", "x7", "b", "x8"},
		}, "[a×1 c×1 d×1]"},
		{"ok, two rooms, except a socket's own room", rooms.Selection{Rooms: []rooms.Room{"r1", "r2"}, Except: []rooms.Room{"a"}}, "[b×1 c×1]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := m.Broadcast(&parser.Packet{}, tc.sel); err != nil {
				t.Fatal(err)
			}
			if got := ids(n.take()); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
			if rn != nil {
				rn.check(t, false)
			}
		})
	}
}

func TestMembershipAndEvents(t *testing.T) { eachKind(t, testMembershipAndEvents) }

func testMembershipAndEvents(t *testing.T, kind string) {
	m, _, _ := newMemory(kind)
	var mu sync.Mutex
	var log []string
	rec := func(s string) { mu.Lock(); log = append(log, s); mu.Unlock() }
	m.SetRoomEvents(rooms.RoomEvents{
		Create: func(r rooms.Room) { rec("create " + string(r)) },
		Join:   func(r rooms.Room, id rooms.SocketID) { rec("join " + string(r) + " " + string(id)) },
		Leave:  func(r rooms.Room, id rooms.SocketID) { rec("leave " + string(r) + " " + string(id)) },
		Delete: func(r rooms.Room) { rec("delete " + string(r)) },
	})
	m.AddAll("a", "x")
	m.AddAll("b", "x")
	m.AddAll("a", "x") // already in
	m.Del("a", "x")
	m.Del("a", "x") // already out
	m.DelAll("b")
	want := []string{"create x", "join x a", "join x b", "leave x a", "leave x b", "delete x"}
	if !slices.Equal(log, want) {
		t.Fatalf("events %v, want %v", log, want)
	}
	if r := m.SocketRooms("a"); r != nil {
		t.Fatalf("rooms of a: %v", r)
	}
	if s := m.Sockets("x"); len(s) != 0 {
		t.Fatalf("room x still has %v", s)
	}
}

// TestOwnRooms: a socket's own room, which the adapter keeps apart from the other rooms, has
// the members, selections and events of any other room, also when other sockets join it and
// when its socket leaves it.
func TestOwnRooms(t *testing.T) { eachKind(t, testOwnRooms) }

func testOwnRooms(t *testing.T, kind string) {
	m, n, rn := newMemory(kind)
	var log []string
	m.SetRoomEvents(rooms.RoomEvents{
		Create: func(r rooms.Room) { log = append(log, "create "+string(r)) },
		Join:   func(r rooms.Room, id rooms.SocketID) { log = append(log, "join "+string(r)+" "+string(id)) },
		Leave:  func(r rooms.Room, id rooms.SocketID) { log = append(log, "leave "+string(r)+" "+string(id)) },
		Delete: func(r rooms.Room) { log = append(log, "delete "+string(r)) },
	})
	m.AddAll("a", "a", "r")
	m.AddAll("b", "b", "a") // b joins the room named after a
	m.AddAll("c", "c")
	if got := m.SocketRooms("a"); !slices.Equal(got, []rooms.Room{"a", "r"}) {
		t.Fatalf("rooms of a: %v", got)
	}
	for _, c := range []struct {
		name string
		sel  rooms.Selection
		want string
	}{
		{"ok, own room with a guest", rooms.Selection{Rooms: []rooms.Room{"a"}}, "[a×1 b×1]"},
		{"ok, own room once with another room", rooms.Selection{Rooms: []rooms.Room{"r", "a"}}, "[a×1 b×1]"},
		{"ok, own room except its socket", rooms.Selection{Rooms: []rooms.Room{"a"}, Except: []rooms.Room{"b"}}, "[a×1]"},
		{"ok, everyone but the members of a's room", rooms.Selection{Except: []rooms.Room{"a"}}, "[c×1]"},
		{"ok, two own rooms", rooms.Selection{Rooms: []rooms.Room{"c", "b"}}, "[b×1 c×1]"},
	} {
		if err := m.Broadcast(&parser.Packet{}, c.sel); err != nil {
			t.Fatal(err)
		}
		if got := ids(n.take()); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
	if rn != nil {
		rn.check(t, false)
	}
	m.Del("a", "a") // a leaves its own room; b stays in it
	if got := fmt.Sprint(m.Sockets("a")); got != "[b]" {
		t.Fatalf("room a after its socket left: %s", got)
	}
	m.Del("b", "a")
	if got := m.Sockets("a"); len(got) != 0 {
		t.Fatalf("room a after both left: %v", got)
	}
	m.AddAll("a", "a") // back in its own room
	m.DelAll("a")
	m.DelAll("b")
	want := []string{
		"create a", "join a a", "create r", "join r a",
		"create b", "join b b", "join a b",
		"create c", "join c c",
		"leave a a", "leave a b", "delete a",
		"create a", "join a a",
		"leave r a", "delete r", "leave a a", "delete a", // a's rooms in the order it is in them
		"leave b b", "delete b",
	}
	if !slices.Equal(log, want) {
		t.Fatalf("events\n%v, want\n%v", log, want)
	}
	if got := fmt.Sprint(m.Sockets()); got != "[c]" {
		t.Fatalf("sockets left: %s", got)
	}
	// c, in its own room only since it connected, joins another room, and leaves them all.
	log = nil
	if got := m.SocketRooms("c"); !slices.Equal(got, []rooms.Room{"c"}) {
		t.Fatalf("rooms of c: %v", got)
	}
	m.AddAll("c", "x")
	if got := m.SocketRooms("c"); !slices.Equal(got, []rooms.Room{"c", "x"}) {
		t.Fatalf("rooms of c: %v", got)
	}
	m.AddAll("d", "d")
	m.DelAll("d")
	m.DelAll("c")
	want = []string{"create x", "join x c", "create d", "join d d", "leave d d", "delete d",
		"leave c c", "delete c", "leave x c", "delete x"}
	if !slices.Equal(log, want) {
		t.Fatalf("events\n%v, want\n%v", log, want)
	}
	if got := m.Sockets(); len(got) != 0 || m.SocketRooms("c") != nil {
		t.Fatalf("sockets left: %v, rooms of c: %v", got, m.SocketRooms("c"))
	}
}

func TestServerWideOperations(t *testing.T) { eachKind(t, testServerWideOperations) }

func testServerWideOperations(t *testing.T, kind string) {
	m, n, rn := newMemory(kind)
	ctx := context.Background()
	for _, id := range []rooms.SocketID{"a", "b", "c"} {
		m.AddAll(id, rooms.Room(id), "all")
	}
	m.AddAll("a", "r")
	if err := m.AddSockets(ctx, rooms.Selection{Rooms: []rooms.Room{"all"}, Except: []rooms.Room{"a"}}, "new"); err != nil {
		t.Fatal(err)
	}
	if got := sortedIDs(m.Sockets("new")); fmt.Sprint(got) != "[b c]" {
		t.Fatalf("new: %v", got)
	}
	_ = m.DelSockets(ctx, rooms.Selection{Rooms: []rooms.Room{"new"}}, "new", "all")
	if len(m.Sockets("new")) != 0 || fmt.Sprint(sortedIDs(m.Sockets("all"))) != "[a]" {
		t.Fatalf("after DelSockets: new %v all %v", m.Sockets("new"), m.Sockets("all"))
	}
	infos, err := m.FetchSockets(ctx, rooms.Selection{Rooms: []rooms.Room{"r"}})
	if err != nil || len(infos) != 1 || infos[0].ID != "a" {
		t.Fatalf("FetchSockets: %v %v", infos, err)
	}
	var count int
	var acks []string
	_ = m.BroadcastWithAck(&parser.Packet{}, rooms.Selection{}, func(c int) { count = c },
		func(id rooms.SocketID, _ parser.Args) { acks = append(acks, string(id)) })
	if count != 3 || len(acks) != 3 {
		t.Fatalf("BroadcastWithAck: count %d acks %v", count, acks)
	}
	if rn != nil {
		rn.check(t, false)
	}
	if err := m.DisconnectSockets(ctx, rooms.Selection{Rooms: []rooms.Room{"all"}}, false); err != nil {
		t.Fatal(err)
	}
	if len(n.disconnected) != 1 || m.SocketRooms("a") != nil {
		t.Fatalf("DisconnectSockets: %v, rooms of a %v", n.disconnected, m.SocketRooms("a"))
	}
	if _, err := m.ServerSideEmit(ctx, "x", nil, false); !errors.Is(err, rooms.ErrNoCluster) {
		t.Fatalf("ServerSideEmit: %v", err)
	}
	if c, err := m.ServerCount(ctx); c != 1 || err != nil {
		t.Fatalf("ServerCount: %d %v", c, err)
	}
}

func sortedIDs(s []rooms.SocketID) []rooms.SocketID { slices.Sort(s); return s }

func TestConcurrentMembership(t *testing.T) { eachKind(t, testConcurrentMembership) }

func testConcurrentMembership(t *testing.T, kind string) {
	// Thousands of sockets join, leave and disconnect while others broadcast: the race
	// detector stays quiet and membership comes out exact.
	m, n, rn := newMemory(kind)
	const sockets = 5000
	stop := make(chan struct{})
	var bg sync.WaitGroup
	for range 4 {
		bg.Add(1)
		go func() {
			defer bg.Done()
			for range 50 { // bounded: each broadcast holds the read lock over thousands of sockets
				select {
				case <-stop:
					return
				default:
				}
				_ = m.Broadcast(&parser.Packet{}, rooms.Selection{Rooms: []rooms.Room{"a", "c"}, Except: []rooms.Room{"b"}})
				_, _ = m.FetchSockets(context.Background(), rooms.Selection{Rooms: []rooms.Room{"a"}})
			}
		}()
	}
	var wg sync.WaitGroup
	for i := range sockets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := rooms.SocketID(fmt.Sprint("s", i))
			m.AddAll(id, rooms.Room(id), "a", "b", "c")
			m.Del(id, "b")
			if i%4 == 0 {
				m.DelAll(id)
			}
		}()
	}
	wg.Wait()
	close(stop)
	bg.Wait()
	if got, want := len(m.Sockets("a")), sockets-sockets/4; got != want {
		t.Fatalf("room a has %d sockets, want %d", got, want)
	}
	if len(m.Sockets("b")) != 0 {
		t.Fatal("room b not empty")
	}
	_ = n.take()
	if err := m.Broadcast(&parser.Packet{}, rooms.Selection{Rooms: []rooms.Room{"a", "c"}}); err != nil {
		t.Fatal(err)
	}
	for id, c := range n.take() {
		if c != 1 {
			t.Fatalf("%s got %d copies", id, c)
		}
	}
	if rn != nil {
		rn.check(t, false)
	}
}

// TestReceivers: the adapter delivers to the Receiver its namespace registered for each
// socket; to a socket the namespace had no Receiver for, by ID; and once the namespace has a
// new Receiver for a socket (the socket of a recovered session), to the new one in every room
// as soon as the socket joins a room again.
func TestReceivers(t *testing.T) {
	m, n, rn := newMemory("by receiver")
	rn.unknown["u"] = true
	for i := range 3 * 8 { // rooms that outgrow a short list
		id := rooms.SocketID(fmt.Sprint("s", i))
		m.AddAll(id, rooms.Room(id), "big")
	}
	m.AddAll("a", "a", "r", "big")
	m.AddAll("u", "u", "r")
	m.AddAll("x", "r") // a socket not in its own room
	sel := rooms.Selection{Rooms: []rooms.Room{"r", "big", "a"}}
	if err := m.Broadcast(&parser.Packet{}, sel); err != nil {
		t.Fatal(err)
	}
	got := n.take()
	if len(got) != 3*8+3 || got["a"] != 1 || got["u"] != 1 || got["x"] != 1 {
		t.Fatalf("delivered %s", ids(got))
	}
	rn.check(t, true)
	if rn.byID != 1 {
		t.Fatalf("%d deliveries by ID, want 1 (to u)", rn.byID)
	}

	// a's socket is replaced; until it joins a room, the adapter still has the old receiver.
	fresh := rn.replace("a")
	m.AddAll("a", "a") // already in: the adapter learns the new receiver all the same
	rn.byID = 0
	for _, sel := range []rooms.Selection{{Rooms: []rooms.Room{"r"}}, {Rooms: []rooms.Room{"big"}}, {Rooms: []rooms.Room{"a"}}, {}} {
		if err := m.Broadcast(&parser.Packet{}, sel); err != nil {
			t.Fatal(err)
		}
	}
	if got := n.take(); got["a"] != 4 {
		t.Fatalf("a got %d deliveries, want 4", got["a"])
	}
	rn.check(t, true) // every delivery to a went to fresh, the namespace's current receiver
	if fresh.gen != 1 {
		t.Fatalf("generation %d", fresh.gen)
	}

	// Leaving shrinks the rooms; the members left keep their receivers.
	for i := range 3*8 - 2 {
		m.Del(rooms.SocketID(fmt.Sprint("s", i)), "big")
	}
	if err := m.Broadcast(&parser.Packet{}, rooms.Selection{Rooms: []rooms.Room{"big"}}); err != nil {
		t.Fatal(err)
	}
	if got := ids(n.take()); got != "[a×1 s22×1 s23×1]" {
		t.Fatalf("big after leaves: %s", got)
	}
	rn.check(t, true)
}

// BenchmarkSelect10k measures a broadcast's selection in a room of 10,000 sockets (half of
// them also in "half"), delivered to a namespace that takes the members by Receiver and does
// nothing with them: to the room, to the room but the sender (Socket.To(room).Emit), and to
// two rooms.
func BenchmarkSelect10k(b *testing.B) {
	n := &countingNsp{}
	m := rooms.NewMemory(n)
	for i := range 10000 {
		id := rooms.SocketID(fmt.Sprint("s", i))
		m.AddAll(id, rooms.Room(id), "room")
		if i%2 == 0 {
			m.AddAll(id, "half")
		}
	}
	for _, c := range []struct {
		name string
		sel  rooms.Selection
	}{
		{"room", rooms.Selection{Rooms: []rooms.Room{"room"}}},
		{"room-except-sender", rooms.Selection{Rooms: []rooms.Room{"room"}, Except: []rooms.Room{"s1"}}},
		{"two-rooms", rooms.Selection{Rooms: []rooms.Room{"half", "room"}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := &parser.Packet{}
			b.ReportAllocs()
			n.members = 0
			for b.Loop() {
				_ = m.Broadcast(p, c.sel)
			}
			b.ReportMetric(float64(n.members)/float64(b.N), "members/op")
		})
	}
}

// countingNsp is a ReceiverNamespace that counts the members it is given, and does nothing
// else.
type countingNsp struct{ members int }

func (n *countingNsp) Name() string { return "/" }
func (n *countingNsp) Deliver(_ *parser.Packet, ids []rooms.SocketID, _ rooms.Flags) {
	n.members += len(ids)
}
func (n *countingNsp) DeliverWithAck(*parser.Packet, []rooms.SocketID, rooms.Flags, rooms.AckFunc) int {
	return 0
}
func (n *countingNsp) SocketInfo(rooms.SocketID) (sockets.Info, bool)        { return sockets.Info{}, false }
func (n *countingNsp) Disconnect(rooms.SocketID, bool)                       {}
func (n *countingNsp) ServerSideEmit(string, parser.Args, func(parser.Args)) {}
func (n *countingNsp) Receiver(id rooms.SocketID) rooms.Receiver             { return &fakeReceiver{id: id} }
func (n *countingNsp) DeliverTo(_ *parser.Packet, members []rooms.Member, _ rooms.Flags) {
	n.members += len(members)
}
func (n *countingNsp) DeliverToWithAck(*parser.Packet, []rooms.Member, rooms.Flags, rooms.AckFunc) int {
	return 0
}
