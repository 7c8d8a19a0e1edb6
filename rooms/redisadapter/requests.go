package redisadapter

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/redis/go-redis/v9"
)

// pending is a request of this server waiting for the answers of the others.
type pending struct {
	kind      int
	want, got int
	sockets   []rooms.SocketInfo
	responses [][]json.RawMessage
	done      chan struct{} // closed when got reaches want
}

// ackRequest is a broadcast with acknowledgements of this server, gathering the client
// counts and the acknowledgements of the other servers.
type ackRequest struct {
	ack     rooms.AckFunc
	mu      sync.Mutex
	servers int // servers that told their client count
	clients int
	changed chan struct{} // signalled on each count
}

// outRequest is a JSON request, in the Node adapter's layout.
type outRequest struct {
	UID       string          `json:"uid"`
	RequestID string          `json:"requestId,omitempty"`
	Type      int             `json:"type"`
	Opts      *outOpts        `json:"opts,omitempty"`
	Rooms     []string        `json:"rooms,omitempty"`
	Close     *bool           `json:"close,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
}

type outOpts struct {
	Rooms  []string `json:"rooms"`
	Except []string `json:"except"`
}

func selOpts(sel *rooms.Selection) *outOpts {
	return &outOpts{Rooms: fromRooms(sel.Rooms), Except: fromRooms(sel.Except)}
}

// ServerCount returns the number of servers in the cluster, this one included: the
// subscribers of the request channel (PUBSUB NUMSUB, summed over the masters of a cluster).
func (a *Adapter) ServerCount(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, a.opts.RequestsTimeout)
	defer cancel()
	if cc, ok := a.client.(*redis.ClusterClient); ok {
		var total atomic.Int64
		err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			m, err := c.PubSubNumSub(ctx, a.requestChannel).Result()
			total.Add(m[a.requestChannel])
			return err
		})
		if err != nil {
			return 0, fmt.Errorf("redisadapter: server count: %w", err)
		}
		return int(total.Load()), nil
	}
	m, err := a.client.PubSubNumSub(ctx, a.requestChannel).Result()
	if err != nil {
		return 0, fmt.Errorf("redisadapter: server count: %w", err)
	}
	return int(m[a.requestChannel]), nil
}

// publishRequest publishes a JSON request and waits until Redis has it.
func (a *Adapter) publishRequest(ctx context.Context, req *outRequest) error {
	b, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("redisadapter: encode request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, a.opts.RequestsTimeout)
	defer cancel()
	return a.publishSync(ctx, a.requestChannel, b)
}

// newPending registers a request that waits for want answers.
func (a *Adapter) newPending(kind, want int) (string, *pending, error) {
	id := randomID()
	p := &pending{kind: kind, want: want, done: make(chan struct{})}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return "", nil, ErrClosed
	}
	a.requests[id] = p
	return id, p, nil
}

// await waits for the answers of request id, at most Options.RequestsTimeout. After a
// nil return, p holds every answer and nothing writes to it any more.
func (a *Adapter) await(ctx context.Context, id string, p *pending, what string) error {
	t := time.NewTimer(a.opts.RequestsTimeout)
	defer t.Stop()
	var err error
	select {
	case <-p.done:
		return nil
	case <-t.C:
		err = ErrTimeout
	case <-ctx.Done():
		err = ctx.Err()
	case <-a.ctx.Done():
		return ErrClosed
	}
	a.mu.Lock()
	delete(a.requests, id)
	got := p.got
	a.mu.Unlock()
	if err == ErrTimeout {
		return fmt.Errorf("%w to %s (%d of %d answered within %v)", ErrTimeout, what, got, p.want, a.opts.RequestsTimeout)
	}
	return fmt.Errorf("redisadapter: %s: %w (%d of %d other servers answered)", what, err, got, p.want)
}

// FetchSockets describes the selected sockets of every server, unless sel.Flags.Local. It
// fails, returning no sockets, when a server does not answer within
// Options.RequestsTimeout: the error wraps ErrTimeout.
func (a *Adapter) FetchSockets(ctx context.Context, sel rooms.Selection) ([]rooms.SocketInfo, error) {
	local, _ := a.local.FetchSockets(ctx, sel)
	if sel.Flags.Local {
		return local, nil
	}
	n, err := a.ServerCount(ctx)
	if err != nil {
		return nil, err
	}
	if n <= 1 {
		return local, nil
	}
	id, p, err := a.newPending(reqRemoteFetch, n-1)
	if err != nil {
		return nil, err
	}
	err = a.publishRequest(ctx, &outRequest{UID: a.uid, RequestID: id, Type: reqRemoteFetch, Opts: selOpts(&sel)})
	if err == nil {
		err = a.await(ctx, id, p, "fetch sockets")
	}
	if err != nil {
		a.dropPending(id)
		return nil, err
	}
	return append(local, p.sockets...), nil
}

func (a *Adapter) dropPending(id string) {
	a.mu.Lock()
	delete(a.requests, id)
	a.mu.Unlock()
}

// AddSockets makes the selected sockets of every server join rooms. Like the Node adapter,
// it does not wait for the other servers to do it.
func (a *Adapter) AddSockets(ctx context.Context, sel rooms.Selection, r ...rooms.Room) error {
	_ = a.local.AddSockets(ctx, sel, r...)
	if sel.Flags.Local || len(r) == 0 {
		return nil
	}
	return a.publishRequest(ctx, &outRequest{UID: a.uid, Type: reqRemoteJoin, Opts: selOpts(&sel), Rooms: fromRooms(r)})
}

// DelSockets makes the selected sockets of every server leave rooms, without waiting for the
// other servers to do it.
func (a *Adapter) DelSockets(ctx context.Context, sel rooms.Selection, r ...rooms.Room) error {
	_ = a.local.DelSockets(ctx, sel, r...)
	if sel.Flags.Local || len(r) == 0 {
		return nil
	}
	return a.publishRequest(ctx, &outRequest{UID: a.uid, Type: reqRemoteLeave, Opts: selOpts(&sel), Rooms: fromRooms(r)})
}

// DisconnectSockets disconnects the selected sockets of every server, without waiting for
// the other servers to do it.
func (a *Adapter) DisconnectSockets(ctx context.Context, sel rooms.Selection, closeConn bool) error {
	_ = a.local.DisconnectSockets(ctx, sel, closeConn)
	if sel.Flags.Local {
		return nil
	}
	return a.publishRequest(ctx, &outRequest{UID: a.uid, Type: reqRemoteDisconnect, Opts: selOpts(&sel), Close: &closeConn})
}

// ServerSideEmit sends an event to the namespace's listeners on the other servers. With
// withAck, it waits for one answer from each of them (the first argument of each server's
// acknowledgement, as the Node adapter forwards it) until ctx ends or
// Options.RequestsTimeout; when some servers did not answer, it returns the answers it has
// with an error that wraps ErrTimeout.
func (a *Adapter) ServerSideEmit(ctx context.Context, event string, args []json.RawMessage, withAck bool) ([][]json.RawMessage, error) {
	items := make([]any, 0, len(args)+1)
	items = append(items, event)
	for _, x := range args {
		items = append(items, x)
	}
	data, err := json.Marshal(items)
	if err != nil {
		return nil, fmt.Errorf("redisadapter: server-side emit: %w", err)
	}
	req := &outRequest{UID: a.uid, Type: reqServerSideEmit, Data: data}
	if !withAck {
		return nil, a.publishRequest(ctx, req)
	}
	n, err := a.ServerCount(ctx)
	if err != nil {
		return nil, err
	}
	if n <= 1 {
		return [][]json.RawMessage{}, nil
	}
	id, p, err := a.newPending(reqServerSideEmit, n-1)
	if err != nil {
		return nil, err
	}
	req.RequestID = id
	if err := a.publishRequest(ctx, req); err != nil {
		a.dropPending(id)
		return nil, err
	}
	if err := a.await(ctx, id, p, "server-side emit"); err != nil {
		a.mu.Lock()
		partial := append([][]json.RawMessage(nil), p.responses...)
		a.mu.Unlock()
		return partial, err
	}
	return p.responses, nil
}

// BroadcastWithAck sends p to the selected sockets of every server, unless sel.Flags.Local,
// and runs ack for each acknowledgement until sel.Flags.Timeout (Options.RequestsTimeout when
// zero). It calls count once, with the number of sockets p was sent to on every server, when
// each server has told its number or Options.RequestsTimeout has passed. Acknowledgements
// from the sockets of other servers come with an empty socket ID and one argument: the Node
// adapter forwards the first argument only.
func (a *Adapter) BroadcastWithAck(p *parser.Packet, sel rooms.Selection, count func(n int), ack rooms.AckFunc) error {
	if sel.Flags.Local {
		return a.local.BroadcastWithAck(p, sel, count, ack)
	}
	timeout := sel.Flags.Timeout
	if timeout <= 0 {
		timeout = a.opts.RequestsTimeout
	}
	id := randomID()
	msg, err := encodeBroadcastRequest(a.uid, id, a.name, p, &sel)
	if err != nil {
		_ = a.local.BroadcastWithAck(p, localSelection(sel), count, ack)
		return fmt.Errorf("redisadapter: encode broadcast: %w", err)
	}
	ar := &ackRequest{ack: ack, changed: make(chan struct{}, 1)}
	a.mu.Lock()
	a.acks[id] = ar
	a.mu.Unlock()
	err = a.publishAsync(a.requestChannel, msg)

	localN := 0
	_ = a.local.BroadcastWithAck(p, localSelection(sel), func(n int) { localN = n }, ack)
	if err == nil && a.goTracked(func() { a.gatherCounts(id, ar, localN, timeout, count) }) {
		return nil
	}
	a.dropAck(id)
	count(localN)
	if err == nil {
		err = ErrClosed
	}
	return err
}

func (a *Adapter) dropAck(id string) {
	a.mu.Lock()
	delete(a.acks, id)
	a.mu.Unlock()
}

// gatherCounts waits for the client counts of the other servers, calls count with the
// total, then keeps the request open for their acknowledgements until timeout.
func (a *Adapter) gatherCounts(id string, ar *ackRequest, localN int, timeout time.Duration, count func(int)) {
	deadline := time.Now().Add(timeout)
	defer a.dropAck(id)
	n, err := a.ServerCount(a.ctx)
	if err != nil {
		a.report(err)
	}
	t := time.NewTimer(min(timeout, a.opts.RequestsTimeout))
	defer t.Stop()
	clients := 0
wait:
	for {
		ar.mu.Lock()
		servers := ar.servers
		clients = ar.clients
		ar.mu.Unlock()
		if servers >= n-1 {
			break
		}
		select {
		case <-ar.changed:
		case <-t.C:
			a.report(fmt.Errorf("%w to count the clients of a broadcast with acks (%d of %d answered)", ErrTimeout, servers, n-1))
			break wait
		case <-a.ctx.Done():
			count(localN + clients)
			return
		}
	}
	count(localN + clients)
	sleep(a.ctx, time.Until(deadline))
}

// publishResponse queues the answer to a request, on the channel the options choose.
func (a *Adapter) publishResponse(req *message, payload []byte) {
	ch := a.responseChannel
	if a.opts.PublishOnSpecificResponseChannel && req.UID != "" {
		ch = a.responseChannel + req.UID + "#"
	}
	_ = a.publishAsync(ch, payload)
}

func (a *Adapter) respondJSON(req *message, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("redisadapter: encode response: %w", err)
	}
	a.publishResponse(req, b)
	return nil
}

// localRooms returns the rooms of the local sockets.
func (a *Adapter) localRooms() []string {
	seen := make(map[rooms.Room]struct{})
	out := []string{}
	for _, id := range a.local.Sockets() {
		for _, r := range a.local.SocketRooms(id) {
			if _, ok := seen[r]; !ok {
				seen[r] = struct{}{}
				out = append(out, string(r))
			}
		}
	}
	return out
}

// onRequest answers a request of another server or of an emitter.
func (a *Adapter) onRequest(b []byte) error {
	req, err := decodeMessage(b)
	if err != nil {
		return err
	}
	if req.UID == a.uid {
		return nil // ours: applied locally already
	}
	sel := rooms.Selection{}
	if req.opts != nil {
		sel = req.opts.selection()
	}
	sel.Flags.Local = true
	ctx := a.ctx
	switch req.Type {
	case reqSockets:
		rs, err := roomList(req.Rooms)
		if err != nil {
			return err
		}
		ids := a.local.Sockets(toRooms(rs)...)
		if ids == nil {
			ids = []rooms.SocketID{}
		}
		return a.respondJSON(req, map[string]any{"requestId": req.requestID(), "sockets": ids})
	case reqAllRooms:
		return a.respondJSON(req, map[string]any{"requestId": req.requestID(), "rooms": a.localRooms()})
	case reqRemoteJoin, reqRemoteLeave:
		if req.opts != nil {
			rs, err := roomList(req.Rooms)
			if err != nil {
				return err
			}
			if req.Type == reqRemoteJoin {
				return a.local.AddSockets(ctx, sel, toRooms(rs)...)
			}
			return a.local.DelSockets(ctx, sel, toRooms(rs)...)
		}
		// The single-socket form of older adapters.
		id := rooms.SocketID(req.Sid)
		room, err := roomName(req.Room)
		if err != nil || a.local.SocketRooms(id) == nil {
			return err
		}
		if req.Type == reqRemoteJoin {
			a.local.AddAll(id, rooms.Room(room))
		} else {
			a.local.Del(id, rooms.Room(room))
		}
		return a.respondJSON(req, map[string]any{"requestId": req.requestID()})
	case reqRemoteDisconnect:
		if req.opts != nil {
			return a.local.DisconnectSockets(ctx, sel, req.Close)
		}
		id := rooms.SocketID(req.Sid)
		if a.local.SocketRooms(id) == nil {
			return nil
		}
		a.nsp.Disconnect(id, req.Close)
		return a.respondJSON(req, map[string]any{"requestId": req.requestID()})
	case reqRemoteFetch:
		infos, _ := a.local.FetchSockets(ctx, sel)
		out := make([]wireSocket, len(infos))
		for i := range infos {
			out[i] = toWireSocket(&infos[i])
		}
		return a.respondJSON(req, map[string]any{"requestId": req.requestID(), "sockets": out})
	case reqServerSideEmit:
		return a.onServerSideEmit(req)
	case reqBroadcast:
		return a.onBroadcastWithAck(req, sel)
	}
	return nil
}

func (a *Adapter) onServerSideEmit(req *message) error {
	args, err := jsonArgs(req.Data)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return malformed("server-side emit without an event")
	}
	var event string
	if err := json.Unmarshal(args[0], &event); err != nil {
		return malformed("server-side emit event: %v", err)
	}
	var ack func([]json.RawMessage)
	if req.RequestID != nil {
		var once sync.Once
		id := *req.RequestID
		ack = func(res []json.RawMessage) {
			once.Do(func() {
				var first json.RawMessage = []byte("null")
				if len(res) > 0 && json.Valid(res[0]) {
					first = res[0]
				}
				b, _ := json.Marshal(map[string]any{"type": reqServerSideEmit, "requestId": id, "data": first})
				a.publishResponse(req, b)
			})
		}
	}
	a.nsp.ServerSideEmit(event, args[1:], ack)
	return nil
}

func (a *Adapter) onBroadcastWithAck(req *message, sel rooms.Selection) error {
	p := req.packet
	if p == nil || !p.Type.IsEvent() {
		return malformed("broadcast request without an event packet")
	}
	if _, err := parser.EventName(p.Data); err != nil {
		return malformed("broadcast event: %v", err)
	}
	if p.Namespace != a.name {
		return nil
	}
	if sel.Flags.Timeout <= 0 {
		sel.Flags.Timeout = a.opts.RequestsTimeout
	}
	p.ID, p.HasID = a.nextRemoteAckID(), true
	id := req.requestID()
	return a.local.BroadcastWithAck(p, sel,
		func(n int) {
			_ = a.respondJSON(req, map[string]any{"type": reqBroadcastClientCount, "requestId": id, "clientCount": n})
		},
		func(_ rooms.SocketID, args []json.RawMessage) {
			var first json.RawMessage
			if len(args) > 0 {
				first = args[0]
			}
			b, err := encodeBroadcastAck(id, first)
			if err != nil {
				a.report(fmt.Errorf("redisadapter: encode acknowledgement: %w", err))
				return
			}
			a.publishResponse(req, b)
		})
}

// onResponse takes the answer of another server to one of our requests.
func (a *Adapter) onResponse(b []byte) error {
	resp, err := decodeMessage(b)
	if err != nil {
		return err
	}
	id := resp.requestID()
	if id == "" {
		return nil
	}
	var sockets []rooms.SocketInfo
	if resp.Sockets != nil {
		if sockets, err = fromWireSockets(resp.Sockets); err != nil {
			return err
		}
	}
	a.mu.Lock()
	if ar := a.acks[id]; ar != nil {
		a.mu.Unlock()
		switch resp.Type {
		case reqBroadcastClientCount:
			ar.mu.Lock()
			ar.servers++
			ar.clients += resp.ClientCount
			ar.mu.Unlock()
			select {
			case ar.changed <- struct{}{}:
			default:
			}
		case reqBroadcastAck:
			arg := resp.Packet
			if arg == nil {
				arg = json.RawMessage("null")
			}
			ar.ack("", []json.RawMessage{arg})
		}
		return nil
	}
	defer a.mu.Unlock()
	p := a.requests[id]
	if p == nil {
		return nil
	}
	switch p.kind {
	case reqRemoteFetch:
		if resp.Sockets == nil {
			return malformed("fetch response without sockets")
		}
		p.sockets = append(p.sockets, sockets...)
	case reqServerSideEmit:
		data := resp.Data
		if data == nil {
			data = json.RawMessage("null")
		}
		p.responses = append(p.responses, []json.RawMessage{data})
	default:
		return nil
	}
	p.got++
	if p.got == p.want {
		delete(a.requests, id)
		close(p.done)
	}
	return nil
}
