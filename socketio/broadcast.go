package socketio

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
)

// BroadcastOperator selects sockets of a namespace and acts on them: emit to them, fetch them,
// make them join or leave rooms, disconnect them. It is immutable: every method that refines
// the selection returns a new operator, so a half-built one can be shared safely.
//
// A socket in several of the target rooms is selected once, and Except wins over To.
type BroadcastOperator struct {
	nsp    *Namespace
	rooms  []rooms.Room
	except []rooms.Room
	flags  rooms.Flags
}

func newOperator(n *Namespace) *BroadcastOperator { return &BroadcastOperator{nsp: n} }

func (b *BroadcastOperator) clone() *BroadcastOperator {
	c := *b
	c.rooms = slices.Clone(b.rooms)
	c.except = slices.Clone(b.except)
	return &c
}

// To adds rooms to the selection.
func (b *BroadcastOperator) To(rs ...string) *BroadcastOperator {
	c := b.clone()
	c.rooms = append(c.rooms, toRooms(rs)...)
	return c
}

// In is the same as To.
func (b *BroadcastOperator) In(rs ...string) *BroadcastOperator { return b.To(rs...) }

// Except excludes the sockets in rooms.
func (b *BroadcastOperator) Except(rs ...string) *BroadcastOperator {
	c := b.clone()
	c.except = append(c.except, toRooms(rs)...)
	return c
}

// Volatile marks the packets as droppable when a receiver cannot take them now.
func (b *BroadcastOperator) Volatile() *BroadcastOperator {
	c := b.clone()
	c.flags.Volatile = true
	return c
}

// Compress sets whether the packets may be compressed.
func (b *BroadcastOperator) Compress(on bool) *BroadcastOperator {
	c := b.clone()
	c.flags.Compress = on
	return c
}

// Local limits the operation to this server.
func (b *BroadcastOperator) Local() *BroadcastOperator {
	c := b.clone()
	c.flags.Local = true
	return c
}

// Timeout sets how long EmitWithAck waits for the answers.
func (b *BroadcastOperator) Timeout(d time.Duration) *BroadcastOperator {
	c := b.clone()
	c.flags.Timeout = d
	return c
}

func (b *BroadcastOperator) selection() rooms.Selection {
	return rooms.Selection{Rooms: b.rooms, Except: b.except, Flags: b.flags}
}

func (b *BroadcastOperator) packet(event string, args []any) (*parser.Packet, error) {
	return eventPacket(b.nsp.name, event, args)
}

// eventPacket marshals an EVENT packet of namespace nsp, refusing reserved event names.
func eventPacket(nsp, event string, args []any) (*parser.Packet, error) {
	if parser.IsReservedEvent(event) {
		return nil, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	data, atts, err := parser.MarshalEvent(event, args...)
	if err != nil {
		return nil, fmt.Errorf("socketio: emit %q: %w", event, err)
	}
	return &parser.Packet{Type: parser.Event, Namespace: nsp, Data: data, Attachments: atts}, nil
}

// Emit sends an event to the selected sockets. The packet is encoded once for all of them, and
// no receiver is waited for.
func (b *BroadcastOperator) Emit(event string, args ...any) error {
	p, err := b.packet(event, args)
	if err != nil {
		return err
	}
	start := b.nsp.adapterStart()
	err = b.nsp.adapter.Broadcast(p, b.selection())
	b.nsp.adapterDone("broadcast", start, err)
	return err
}

// EmitWithAck sends an event to the selected sockets and gathers their answers until every
// receiver answered, the Timeout set on the operator passed, or ctx ended. When answers are
// missing it returns the ones that arrived with an *AckTimeoutError (errors.Is ErrAckTimeout).
func (b *BroadcastOperator) EmitWithAck(ctx context.Context, event string, args ...any) ([]Reply, error) {
	p, err := b.packet(event, args)
	if err != nil {
		return nil, err
	}
	sel := b.selection()
	if sel.Flags.Timeout <= 0 {
		if dl, ok := ctx.Deadline(); ok {
			sel.Flags.Timeout = time.Until(dl)
		} else {
			return nil, fmt.Errorf("socketio: EmitWithAck needs a Timeout or a context with a deadline")
		}
	}
	var (
		mu       sync.Mutex
		replies  []Reply
		expected = -1
		changed  = make(chan struct{}, 1)
	)
	notify := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	start := b.nsp.adapterStart()
	err = b.nsp.adapter.BroadcastWithAck(p, sel,
		func(n int) { mu.Lock(); expected = n; mu.Unlock(); notify() },
		func(_ rooms.SocketID, a Args) {
			mu.Lock()
			replies = append(replies, a)
			mu.Unlock()
			notify()
		})
	b.nsp.adapterDone("broadcastWithAck", start, err)
	if err != nil {
		return nil, err
	}
	timer := time.NewTimer(sel.Flags.Timeout)
	defer timer.Stop()
	for {
		mu.Lock()
		if expected >= 0 && len(replies) >= expected {
			out := replies
			mu.Unlock()
			return out, nil
		}
		mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			return b.partial(&mu, &replies, expected)
		case <-ctx.Done():
			return b.partial(&mu, &replies, expected)
		}
	}
}

func (b *BroadcastOperator) partial(mu *sync.Mutex, replies *[]Reply, expected int) ([]Reply, error) {
	mu.Lock()
	defer mu.Unlock()
	out := slices.Clone(*replies)
	missing := max(expected-len(out), 0)
	if missing > 0 {
		b.nsp.server.ackTimedOut(b.nsp.name, missing)
	}
	return out, &AckTimeoutError{Expected: max(expected, 0), Missing: missing}
}

// FetchSockets describes the selected sockets, on every server of a cluster unless Local.
func (b *BroadcastOperator) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	start := b.nsp.adapterStart()
	infos, err := b.nsp.adapter.FetchSockets(ctx, b.selection())
	b.nsp.adapterDone("fetchSockets", start, err)
	if err != nil {
		return nil, err
	}
	out := make([]*RemoteSocket, len(infos))
	for i := range infos {
		out[i] = &RemoteSocket{nsp: b.nsp, info: infos[i]}
	}
	return out, nil
}

// SocketsJoin makes the selected sockets join rooms.
func (b *BroadcastOperator) SocketsJoin(ctx context.Context, rs ...string) error {
	start := b.nsp.adapterStart()
	err := b.nsp.adapter.AddSockets(ctx, b.selection(), toRooms(rs)...)
	b.nsp.adapterDone("addSockets", start, err)
	return err
}

// SocketsLeave makes the selected sockets leave rooms.
func (b *BroadcastOperator) SocketsLeave(ctx context.Context, rs ...string) error {
	start := b.nsp.adapterStart()
	err := b.nsp.adapter.DelSockets(ctx, b.selection(), toRooms(rs)...)
	b.nsp.adapterDone("delSockets", start, err)
	return err
}

// DisconnectSockets disconnects the selected sockets; closeConn closes their connections too.
func (b *BroadcastOperator) DisconnectSockets(ctx context.Context, closeConn bool) error {
	start := b.nsp.adapterStart()
	err := b.nsp.adapter.DisconnectSockets(ctx, b.selection(), closeConn)
	b.nsp.adapterDone("disconnectSockets", start, err)
	return err
}

// RemoteSocket describes a socket found by FetchSockets, on this server or another one of the
// cluster, and acts on it through the adapter.
type RemoteSocket struct {
	nsp  *Namespace
	info sockets.Info
}

// ID returns the socket's ID.
func (r *RemoteSocket) ID() string { return string(r.info.ID) }

// Handshake returns the socket's handshake.
func (r *RemoteSocket) Handshake() *Handshake { return r.info.Handshake }

// Rooms returns the rooms the socket was in when fetched.
func (r *RemoteSocket) Rooms() []string {
	out := make([]string, len(r.info.Rooms))
	for i, room := range r.info.Rooms {
		out[i] = string(room)
	}
	return out
}

// Data returns the JSON of the values the socket stored with Set, or nil.
func (r *RemoteSocket) Data() json.RawMessage { return r.info.Data }

func (r *RemoteSocket) operator() *BroadcastOperator { return newOperator(r.nsp).To(r.ID()) }

// Emit sends an event to the socket.
func (r *RemoteSocket) Emit(event string, args ...any) error {
	return r.operator().Emit(event, args...)
}

// Join makes the socket join rooms.
func (r *RemoteSocket) Join(ctx context.Context, rs ...string) error {
	return r.operator().SocketsJoin(ctx, rs...)
}

// Leave makes the socket leave rooms.
func (r *RemoteSocket) Leave(ctx context.Context, rs ...string) error {
	return r.operator().SocketsLeave(ctx, rs...)
}

// Disconnect disconnects the socket; closeConn closes its connection too.
func (r *RemoteSocket) Disconnect(ctx context.Context, closeConn bool) error {
	return r.operator().DisconnectSockets(ctx, closeConn)
}
