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

// ServerCount returns the number of servers in the cluster, this one included: the
// subscribers of the namespace's channel (PUBSUB SHARDNUMSUB, summed over the nodes of a
// cluster), as the Node adapter counts them. A server that closes its adapter, or whose
// connection to Redis is gone, stops counting at once.
func (a *ShardedAdapter) ServerCount(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, a.opts.RequestsTimeout)
	defer cancel()
	if cc, ok := a.client.(*redis.ClusterClient); ok {
		var total atomic.Int64
		err := cc.ForEachShard(ctx, func(ctx context.Context, c *redis.Client) error {
			m, err := c.PubSubShardNumSub(ctx, a.channel).Result()
			total.Add(m[a.channel])
			return err
		})
		if err != nil {
			return 0, fmt.Errorf("redisadapter: server count: %w", err)
		}
		return int(total.Load()), nil
	}
	m, err := a.client.PubSubShardNumSub(ctx, a.channel).Result()
	if err != nil {
		return 0, fmt.Errorf("redisadapter: server count: %w", err)
	}
	return int(m[a.channel]), nil
}

// request publishes a JSON message on the namespace's channel and waits until Redis has it.
func (a *ShardedAdapter) request(ctx context.Context, typ int, data any) error {
	b, err := json.Marshal(outMsg{UID: a.uid, Nsp: a.name, Type: typ, Data: data})
	if err != nil {
		return fmt.Errorf("redisadapter: encode request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, a.opts.RequestsTimeout)
	defer cancel()
	return a.pub.sync(ctx, a.channel, b)
}

// respond queues the JSON answer to a request of server uid, on that server's channel.
func (a *ShardedAdapter) respond(uid string, typ int, data any) error {
	if uid == "" {
		return nil
	}
	b, err := json.Marshal(outMsg{UID: a.uid, Nsp: a.name, Type: typ, Data: data})
	if err != nil {
		return fmt.Errorf("redisadapter: encode response: %w", err)
	}
	_ = a.pub.async(a.channel+uid+"#", b)
	return nil
}

// newPending registers a request that waits for want answers.
func (a *ShardedAdapter) newPending(kind, want int) (string, *pending, error) {
	id := hexID()
	p := &pending{kind: kind, want: want, done: make(chan struct{})}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return "", nil, ErrClosed
	}
	a.requests[id] = p
	return id, p, nil
}

func (a *ShardedAdapter) dropPending(id string) {
	a.mu.Lock()
	delete(a.requests, id)
	a.mu.Unlock()
}

// await waits for the answers of request id, at most ShardedOptions.RequestsTimeout. After a
// nil return, p holds every answer and nothing writes to it any more.
func (a *ShardedAdapter) await(ctx context.Context, id string, p *pending, what string) error {
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
// ShardedOptions.RequestsTimeout: the error wraps ErrTimeout.
func (a *ShardedAdapter) FetchSockets(ctx context.Context, sel rooms.Selection) ([]rooms.SocketInfo, error) {
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
	id, p, err := a.newPending(cmFetchSockets, n-1)
	if err != nil {
		return nil, err
	}
	err = a.request(ctx, cmFetchSockets, map[string]any{"opts": toOutSel(&sel), "requestId": id})
	if err == nil {
		err = a.await(ctx, id, p, "fetch sockets")
	}
	if err != nil {
		a.dropPending(id)
		return nil, err
	}
	return append(local, p.sockets...), nil
}

// AddSockets makes the selected sockets of every server join rooms, without waiting for
// the other servers to do it.
func (a *ShardedAdapter) AddSockets(ctx context.Context, sel rooms.Selection, r ...rooms.Room) error {
	_ = a.local.AddSockets(ctx, sel, r...)
	if sel.Flags.Local || len(r) == 0 {
		return nil
	}
	return a.request(ctx, cmSocketsJoin, map[string]any{"opts": toOutSel(&sel), "rooms": fromRooms(r)})
}

// DelSockets makes the selected sockets of every server leave rooms, without waiting for the
// other servers to do it.
func (a *ShardedAdapter) DelSockets(ctx context.Context, sel rooms.Selection, r ...rooms.Room) error {
	_ = a.local.DelSockets(ctx, sel, r...)
	if sel.Flags.Local || len(r) == 0 {
		return nil
	}
	return a.request(ctx, cmSocketsLeave, map[string]any{"opts": toOutSel(&sel), "rooms": fromRooms(r)})
}

// DisconnectSockets disconnects the selected sockets of every server, without waiting for
// the other servers to do it.
func (a *ShardedAdapter) DisconnectSockets(ctx context.Context, sel rooms.Selection, closeConn bool) error {
	_ = a.local.DisconnectSockets(ctx, sel, closeConn)
	if sel.Flags.Local {
		return nil
	}
	return a.request(ctx, cmDisconnectSockets, map[string]any{"opts": toOutSel(&sel), "close": closeConn})
}

// ServerSideEmit sends an event to the namespace's listeners on the other servers. With
// withAck, it waits for one answer from each of them (the first argument of each server's
// acknowledgement) until ctx ends or ShardedOptions.RequestsTimeout; when some servers did
// not answer, it returns the answers it has with an error that wraps ErrTimeout.
func (a *ShardedAdapter) ServerSideEmit(ctx context.Context, event string, args []json.RawMessage, withAck bool) ([][]json.RawMessage, error) {
	items := make([]any, 0, len(args)+1)
	items = append(items, event)
	for _, x := range args {
		items = append(items, x)
	}
	packet, err := json.Marshal(items)
	if err != nil {
		return nil, fmt.Errorf("redisadapter: server-side emit: %w", err)
	}
	if !withAck {
		return nil, a.request(ctx, cmServerSideEmit, map[string]any{"packet": json.RawMessage(packet)})
	}
	n, err := a.ServerCount(ctx)
	if err != nil {
		return nil, err
	}
	if n <= 1 {
		return [][]json.RawMessage{}, nil
	}
	id, p, err := a.newPending(cmServerSideEmit, n-1)
	if err != nil {
		return nil, err
	}
	if err := a.request(ctx, cmServerSideEmit, map[string]any{"packet": json.RawMessage(packet), "requestId": id}); err != nil {
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
// and runs ack for each acknowledgement until sel.Flags.Timeout (RequestsTimeout when zero).
// It calls count once, with the number of sockets p was sent to on every server, when each
// server has told its number or RequestsTimeout has passed. The request always goes to the
// namespace's channel, whatever the subscription mode, as every server must answer it.
// Acknowledgements from the sockets of other servers come with an empty socket ID and one
// argument: the Node adapter forwards the first argument only.
func (a *ShardedAdapter) BroadcastWithAck(p *parser.Packet, sel rooms.Selection, count func(n int), ack rooms.AckFunc) error {
	if sel.Flags.Local {
		return a.local.BroadcastWithAck(p, sel, count, ack)
	}
	timeout := sel.Flags.Timeout
	if timeout <= 0 {
		timeout = a.opts.RequestsTimeout
	}
	id := hexID()
	msg, err := encodeClusterBroadcast(a.uid, a.name, id, p, &sel)
	if err != nil {
		_ = a.local.BroadcastWithAck(p, localSelection(sel), count, ack)
		return fmt.Errorf("redisadapter: encode broadcast: %w", err)
	}
	ar := &ackRequest{ack: ack, changed: make(chan struct{}, 1)}
	a.mu.Lock()
	a.acks[id] = ar
	a.mu.Unlock()
	err = a.pub.async(a.channel, msg)

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

func (a *ShardedAdapter) dropAck(id string) {
	a.mu.Lock()
	delete(a.acks, id)
	a.mu.Unlock()
}

// gatherCounts waits for the client counts of the other servers, calls count with the
// total, then keeps the request open for their acknowledgements until timeout.
func (a *ShardedAdapter) gatherCounts(id string, ar *ackRequest, localN int, timeout time.Duration, count func(int)) {
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

// dispatch handles one message read from Redis.
func (a *ShardedAdapter) dispatch(m *redis.Message) {
	if len(m.Payload) > a.opts.MaxMessageSize {
		a.report(fmt.Errorf("%w: %d bytes on %s, more than MaxMessageSize", errMalformed, len(m.Payload), m.Channel))
		return
	}
	msg, err := decodeCluster([]byte(m.Payload))
	if err == nil {
		err = a.onMessage(msg)
	}
	if err != nil {
		a.report(fmt.Errorf("%w (channel %s)", err, m.Channel))
	}
}

// onMessage handles a message of another server or of an emitter.
func (a *ShardedAdapter) onMessage(msg *clusterMsg) error {
	if msg.uid == a.uid || msg.nsp != a.name {
		return nil
	}
	if msg.isResponse() {
		return a.onResponse(msg)
	}
	sel := msg.selection()
	sel.Flags.Local = true
	ctx := a.ctx
	switch msg.typ {
	case cmBroadcast:
		p := msg.packet
		if p == nil || !p.Type.IsEvent() {
			return malformed("broadcast without an event packet")
		}
		if _, err := parser.EventName(p.Data); err != nil {
			return malformed("broadcast event: %v", err)
		}
		p.Namespace = a.name
		if msg.requestID != nil {
			return a.onBroadcastWithAck(msg, p, sel)
		}
		return a.local.Broadcast(p, sel)
	case cmSocketsJoin:
		return a.local.AddSockets(ctx, sel, toRooms(msg.rooms)...)
	case cmSocketsLeave:
		return a.local.DelSockets(ctx, sel, toRooms(msg.rooms)...)
	case cmDisconnectSockets:
		return a.local.DisconnectSockets(ctx, sel, msg.close)
	case cmFetchSockets:
		if msg.requestID == nil {
			return malformed("fetch request without a requestId")
		}
		infos, _ := a.local.FetchSockets(ctx, sel)
		out := make([]wireSocket, len(infos))
		for i := range infos {
			out[i] = toWireSocket(&infos[i])
		}
		return a.respond(msg.uid, cmFetchSocketsResponse, map[string]any{"requestId": *msg.requestID, "sockets": out})
	case cmServerSideEmit:
		return a.onServerSideEmit(msg)
	}
	// Heartbeats and ADAPTER_CLOSE belong to the adapters that count the servers by their
	// heartbeats; the sharded adapter counts the subscribers. Unknown types are ignored, as
	// the Node adapter does.
	return nil
}

func (a *ShardedAdapter) onServerSideEmit(msg *clusterMsg) error {
	args, err := jsonArgs(msg.value)
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
	if msg.requestID != nil {
		var once sync.Once
		id, uid := *msg.requestID, msg.uid
		ack = func(res []json.RawMessage) {
			once.Do(func() {
				var first json.RawMessage = []byte("null")
				if len(res) > 0 && json.Valid(res[0]) {
					first = res[0]
				}
				if err := a.respond(uid, cmServerSideEmitResponse, map[string]any{"requestId": id, "packet": first}); err != nil {
					a.report(err)
				}
			})
		}
	}
	a.nsp.ServerSideEmit(event, args[1:], ack)
	return nil
}

func (a *ShardedAdapter) onBroadcastWithAck(msg *clusterMsg, p *parser.Packet, sel rooms.Selection) error {
	if sel.Flags.Timeout <= 0 {
		sel.Flags.Timeout = a.opts.RequestsTimeout
	}
	p.ID, p.HasID = a.nextRemoteAckID(), true
	id, uid := *msg.requestID, msg.uid
	return a.local.BroadcastWithAck(p, sel,
		func(n int) {
			if err := a.respond(uid, cmBroadcastClientCount, map[string]any{"requestId": id, "clientCount": n}); err != nil {
				a.report(err)
			}
		},
		func(_ rooms.SocketID, args []json.RawMessage) {
			var first json.RawMessage = []byte("null")
			if len(args) > 0 && json.Valid(args[0]) {
				first = args[0]
			}
			if err := a.respond(uid, cmBroadcastAck, map[string]any{"requestId": id, "packet": first}); err != nil {
				a.report(err)
			}
		})
}

// onResponse takes the answer of another server to one of our requests.
func (a *ShardedAdapter) onResponse(msg *clusterMsg) error {
	if msg.requestID == nil {
		return nil
	}
	id := *msg.requestID
	a.mu.Lock()
	if ar := a.acks[id]; ar != nil {
		a.mu.Unlock()
		switch msg.typ {
		case cmBroadcastClientCount:
			ar.mu.Lock()
			ar.servers++
			ar.clients += msg.clientCount
			ar.mu.Unlock()
			select {
			case ar.changed <- struct{}{}:
			default:
			}
		case cmBroadcastAck:
			arg := msg.value
			if arg == nil {
				arg = json.RawMessage("null")
			}
			ar.ack("", []json.RawMessage{arg})
		}
		return nil
	}
	p := a.requests[id]
	a.mu.Unlock()
	if p == nil {
		return nil
	}
	var sockets []rooms.SocketInfo
	switch {
	case p.kind == cmFetchSockets && msg.typ == cmFetchSocketsResponse:
		if msg.sockets == nil {
			return malformed("fetch response without sockets")
		}
		var err error
		if sockets, err = fromWireSockets(msg.sockets); err != nil {
			return err
		}
	case p.kind == cmServerSideEmit && msg.typ == cmServerSideEmitResponse:
	default:
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.requests[id] != p {
		return nil // timed out meanwhile
	}
	if p.kind == cmFetchSockets {
		p.sockets = append(p.sockets, sockets...)
	} else {
		v := msg.value
		if v == nil {
			v = json.RawMessage("null")
		}
		p.responses = append(p.responses, []json.RawMessage{v})
	}
	p.got++
	if p.got == p.want {
		delete(a.requests, id)
		close(p.done)
	}
	return nil
}
