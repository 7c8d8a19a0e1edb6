package redisadapter

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/redis/go-redis/v9"
)

// ServerCount returns the number of servers in the cluster, this one included: the
// subscribers of the namespace's channel (PUBSUB SHARDNUMSUB, summed over the nodes of a
// cluster), as the Node adapter counts them. A server that closes its adapter, or whose
// connection to Redis is gone, stops counting at once.
func (a *ShardedAdapter) ServerCount(ctx context.Context) (int, error) {
	return countSubscribers(ctx, a.client, a.opts.RequestsTimeout, a.channel, true)
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

// FetchSockets describes the selected sockets of every server, unless sel.Flags.Local. It
// fails, returning no sockets, when a server does not answer within
// ShardedOptions.RequestsTimeout: the error wraps ErrTimeout.
func (a *ShardedAdapter) FetchSockets(ctx context.Context, sel rooms.Selection) ([]rooms.SocketInfo, error) {
	return a.fetchSockets(ctx, sel, cmFetchSockets, func(id string) error {
		return a.request(ctx, cmFetchSockets, map[string]any{"opts": toOutSel(&sel), "requestId": id})
	})
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
//
// Arguments with binary values travel in MessagePack, as the Node adapter sends them.
func (a *ShardedAdapter) ServerSideEmit(ctx context.Context, event string, args parser.Args, withAck bool) ([]parser.Args, error) {
	return a.serverSideEmit(ctx, event, args, withAck, cmServerSideEmit, func(packet parser.Arg, id string) error {
		if !packet.HasBinary() {
			data := map[string]any{"packet": packet.JSON()}
			if id != "" {
				data["requestId"] = id
			}
			return a.request(ctx, cmServerSideEmit, data)
		}
		data := []mpField{{"packet", packet}}
		if id != "" {
			data = append(data, mpField{"requestId", id})
		}
		b, err := encodeFields([]mpField{{"uid", a.uid}, {"nsp", a.name}, {"type", cmServerSideEmit}, {"data", data}})
		if err != nil {
			return fmt.Errorf("redisadapter: encode request: %w", err)
		}
		ctx, cancel := context.WithTimeout(ctx, a.opts.RequestsTimeout)
		defer cancel()
		return a.pub.sync(ctx, a.channel, b)
	})
}

// respondArg queues the answer of type typ to request id of server uid, carrying arg: in
// JSON, or in MessagePack when arg has binary values.
func (a *ShardedAdapter) respondArg(uid string, typ int, id string, arg parser.Arg) error {
	if !arg.HasBinary() {
		return a.respond(uid, typ, map[string]any{"requestId": id, "packet": arg.JSON()})
	}
	if uid == "" {
		return nil
	}
	b, err := encodeFields([]mpField{{"uid", a.uid}, {"nsp", a.name}, {"type", typ},
		{"data", []mpField{{"requestId", id}, {"packet", arg}}}})
	if err != nil {
		return fmt.Errorf("redisadapter: encode response: %w", err)
	}
	_ = a.pub.async(a.channel+uid+"#", b)
	return nil
}

// BroadcastWithAck sends p to the selected sockets of every server, unless sel.Flags.Local,
// and runs ack for each acknowledgement until sel.Flags.Timeout (RequestsTimeout when zero).
// It calls count once, with the number of sockets p was sent to on every server, when each
// server has told its number or RequestsTimeout has passed. The request always goes to the
// namespace's channel, whatever the subscription mode, as every server must answer it.
// Acknowledgements from the sockets of other servers come with an empty socket ID and one
// argument: the Node adapter forwards the first argument only.
func (a *ShardedAdapter) BroadcastWithAck(p *parser.Packet, sel rooms.Selection, count func(n int), ack rooms.AckFunc) error {
	return a.broadcastWithAck(p, sel, count, ack,
		func(id string) ([]byte, error) { return encodeClusterBroadcast(a.uid, a.name, id, p, &sel) },
		func(msg []byte) error { return a.pub.async(a.channel, msg) })
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
			return a.onBroadcastRequest(msg, p, sel)
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
		return a.respond(msg.uid, cmFetchSocketsResponse, map[string]any{"requestId": *msg.requestID, "sockets": a.localWireSockets(sel)})
	case cmServerSideEmit:
		var reply func(parser.Arg)
		if msg.requestID != nil {
			id, uid := *msg.requestID, msg.uid
			reply = func(first parser.Arg) {
				if err := a.respondArg(uid, cmServerSideEmitResponse, id, first); err != nil {
					a.report(err)
				}
			}
		}
		return a.onServerSideEmit(msg.value, msg.valueAtts, reply != nil, reply)
	}
	// Heartbeats and ADAPTER_CLOSE belong to the adapters that count the servers by their
	// heartbeats; the sharded adapter counts the subscribers. Unknown types are ignored, as
	// the Node adapter does.
	return nil
}

func (a *ShardedAdapter) onBroadcastRequest(msg *clusterMsg, p *parser.Packet, sel rooms.Selection) error {
	id, uid := *msg.requestID, msg.uid
	return a.onBroadcastWithAck(p, sel,
		func(n int) {
			if err := a.respond(uid, cmBroadcastClientCount, map[string]any{"requestId": id, "clientCount": n}); err != nil {
				a.report(err)
			}
		},
		func(_ rooms.SocketID, args parser.Args) {
			var first parser.Arg
			if len(args) > 0 {
				first = args[0]
			}
			if err := a.respondArg(uid, cmBroadcastAck, id, first); err != nil {
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
	ar, p := a.lookup(id)
	if ar != nil {
		switch msg.typ {
		case cmBroadcastClientCount:
			ar.addCount(msg.clientCount)
		case cmBroadcastAck:
			arg, err := argOf(msg.value, msg.valueAtts)
			if err != nil {
				return err
			}
			ar.addAck(arg)
		}
		return nil
	}
	if p == nil {
		return nil
	}
	switch {
	case p.kind == cmFetchSockets && msg.typ == cmFetchSocketsResponse:
		if msg.sockets == nil {
			return malformed("fetch response without sockets")
		}
		sockets, err := fromWireSockets(msg.sockets)
		if err != nil {
			return err
		}
		a.answer(id, p, sockets, parser.Arg{}, true)
	case p.kind == cmServerSideEmit && msg.typ == cmServerSideEmitResponse:
		arg, err := argOf(msg.value, msg.valueAtts)
		if err != nil {
			return err
		}
		a.answer(id, p, nil, arg, false)
	}
	return nil
}
