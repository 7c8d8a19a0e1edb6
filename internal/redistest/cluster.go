package redistest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
)

// Delivery is one packet a namespace delivered.
type Delivery struct {
	Event       string
	Data        string
	Attachments [][]byte
	IDs         []rooms.SocketID
	Flags       rooms.Flags
	HasID       bool
}

// SSECall is one server-side event a namespace received.
type SSECall struct {
	Event string
	Args  parser.Args
	Ack   bool
}

// RecNS is a rooms.Namespace that records what the adapter asks of it.
type RecNS struct {
	name string
	Node string

	Mu           sync.Mutex
	Adapter      rooms.Adapter
	delivered    []Delivery
	infos        map[rooms.SocketID]sockets.Info
	disconnected []rooms.SocketID
	sse          []SSECall
	changed      chan struct{}
}

func NewRecNS(name, node string) *RecNS {
	return &RecNS{name: name, Node: node, infos: map[rooms.SocketID]sockets.Info{}, changed: make(chan struct{}, 1)}
}

func (n *RecNS) Name() string { return n.name }

func (n *RecNS) signal() {
	select {
	case n.changed <- struct{}{}:
	default:
	}
}

func (n *RecNS) record(p *parser.Packet, ids []rooms.SocketID, flags rooms.Flags) {
	ev, _ := parser.EventName(p.Data)
	ids = slices.Clone(ids)
	slices.Sort(ids)
	n.Mu.Lock()
	n.delivered = append(n.delivered, Delivery{Event: ev, Data: string(p.Data), Attachments: p.Attachments, IDs: ids, Flags: flags, HasID: p.HasID})
	n.Mu.Unlock()
	n.signal()
}

func (n *RecNS) Deliver(p *parser.Packet, ids []rooms.SocketID, flags rooms.Flags) {
	n.record(p, ids, flags)
}

func (n *RecNS) DeliverWithAck(p *parser.Packet, ids []rooms.SocketID, flags rooms.Flags, ack rooms.AckFunc) int {
	n.record(p, ids, flags)
	for _, id := range ids {
		ack(id, RawArgs(nil, strconv.Quote("ack "+string(id))))
	}
	return len(ids)
}

func (n *RecNS) SocketInfo(id rooms.SocketID) (sockets.Info, bool) {
	n.Mu.Lock()
	info, ok := n.infos[id]
	a := n.Adapter
	n.Mu.Unlock()
	if ok {
		info.Rooms = a.SocketRooms(id)
		sort.Slice(info.Rooms, func(i, j int) bool { return info.Rooms[i] < info.Rooms[j] })
	}
	return info, ok
}

func (n *RecNS) Disconnect(id rooms.SocketID, closeConn bool) {
	n.Mu.Lock()
	n.disconnected = append(n.disconnected, id)
	delete(n.infos, id)
	a := n.Adapter
	n.Mu.Unlock()
	a.DelAll(id)
	n.signal()
}

func (n *RecNS) ServerSideEmit(event string, args parser.Args, ack func(args parser.Args)) {
	n.Mu.Lock()
	n.sse = append(n.sse, SSECall{Event: event, Args: args, Ack: ack != nil})
	n.Mu.Unlock()
	if ack != nil {
		ack(RawArgs(nil, strconv.Quote("pong from "+n.Node)))
	}
	n.signal()
}

// Connect adds a local socket in rooms (and its own room).
func (n *RecNS) Connect(id rooms.SocketID, rs ...rooms.Room) {
	n.Mu.Lock()
	n.infos[id] = sockets.Info{ID: id, Handshake: &sockets.Handshake{
		Headers: map[string][]string{"host": {"localhost"}, "x-node": {n.Node}},
		Time:    "Thu Jan 01 1970", Address: "127.0.0.1", Issued: 1700000000000, URL: "/socket.io/?EIO=4",
		Query: map[string][]string{"EIO": {"4"}}, Auth: json.RawMessage(`{"token":"t"}`),
	}, Data: json.RawMessage(`{"node":"` + n.Node + `"}`)}
	a := n.Adapter
	n.Mu.Unlock()
	a.AddAll(id, append([]rooms.Room{rooms.Room(id)}, rs...)...)
}

func (n *RecNS) Deliveries() []Delivery {
	n.Mu.Lock()
	defer n.Mu.Unlock()
	return slices.Clone(n.delivered)
}

func (n *RecNS) SSECalls() []SSECall {
	n.Mu.Lock()
	defer n.Mu.Unlock()
	return slices.Clone(n.sse)
}

func (n *RecNS) disconnects() []rooms.SocketID {
	n.Mu.Lock()
	defer n.Mu.Unlock()
	return slices.Clone(n.disconnected)
}

// WaitFor waits until cond holds, checking on each change and every 20 ms.
func (n *RecNS) WaitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.After(d)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-n.changed:
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%s: timed out waiting for %s", n.Node, what)
		}
	}
}

type ErrLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *ErrLog) Add(err error) { l.mu.Lock(); l.errs = append(l.errs, err); l.mu.Unlock() }

func (l *ErrLog) List() []error { l.mu.Lock(); defer l.mu.Unlock(); return slices.Clone(l.errs) }

func Event(t testing.TB, name string, args ...any) *parser.Packet {
	t.Helper()
	data, atts, err := parser.MarshalEvent(name, args...)
	if err != nil {
		t.Fatal(err)
	}
	typ := parser.Event
	if len(atts) > 0 {
		typ = parser.BinaryEvent
	}
	return &parser.Packet{Type: typ, Namespace: "/", Data: data, Attachments: atts}
}

func IDs(s ...string) []rooms.SocketID {
	out := make([]rooms.SocketID, len(s))
	for i, x := range s {
		out[i] = rooms.SocketID(x)
	}
	slices.Sort(out)
	return out
}

func CtxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func FmtDeliveries(ds []Delivery) string {
	s := ""
	for _, d := range ds {
		s += fmt.Sprintf("  %s %v %s atts=%d\n", d.Event, d.IDs, d.Data, len(d.Attachments))
	}
	return s
}

// RawArgs returns the arguments whose JSON texts are raws. t may be nil where an invalid text
// is a programming error.
func RawArgs(t *testing.T, raws ...string) parser.Args {
	out := make(parser.Args, len(raws))
	for i, r := range raws {
		a, err := parser.NewArg(json.RawMessage(r), nil)
		if err != nil {
			if t == nil {
				panic(err)
			}
			t.Fatal(err)
		}
		out[i] = a
	}
	return out
}

func SocketIDs(infos []sockets.Info) []rooms.SocketID {
	var out []rooms.SocketID
	for _, s := range infos {
		out = append(out, s.ID)
	}
	slices.Sort(out)
	return out
}

// ResetDeliveries forgets the packets the namespace delivered so far.
func (n *RecNS) ResetDeliveries() {
	n.Mu.Lock()
	n.delivered = nil
	n.Mu.Unlock()
}
