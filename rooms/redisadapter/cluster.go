package redisadapter

import (
	"context"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
)

// clusterNode is the cluster protocol of socket.io-adapter's ClusterAdapter, which the
// sharded adapter (NewSharded) and the streams adapter (NewStreams) speak: the handling of
// the other servers' messages and the requests of this one. The two differ in how messages
// travel; each passes in its own transport.
type clusterNode struct {
	core
	uid  string // the server's ID in the cluster
	name string // the namespace's

	// sendRequest sends a message of type typ with data (a value for encoding/json) to every
	// server, and waits until Redis has it.
	sendRequest func(ctx context.Context, typ int, data any) error
	// sendResponse queues the answer of type typ with data to a request of server uid.
	sendResponse func(uid string, typ int, data any) error
	// sendResponseArg queues the answer of type typ to request id of server uid, carrying
	// arg with its binary values.
	sendResponseArg func(uid string, typ int, id string, arg parser.Arg) error
	// deliver, when not nil, delivers a broadcast of another server to the local sockets;
	// offset is the ID of the stream entry that carried it. When nil, the local rooms do.
	deliver func(p *parser.Packet, sel rooms.Selection, offset string) error
}

// reply answers a request of server uid; an answer to no server (an emitter's request) is
// not sent.
func (a *clusterNode) reply(uid string, typ int, data any) error {
	if uid == "" {
		return nil
	}
	return a.sendResponse(uid, typ, data)
}

// replyArg answers request id of server uid with arg, unless uid is empty.
func (a *clusterNode) replyArg(uid string, typ int, id string, arg parser.Arg) error {
	if uid == "" {
		return nil
	}
	return a.sendResponseArg(uid, typ, id, arg)
}

// FetchSockets describes the selected sockets of every server, unless sel.Flags.Local. It
// fails, returning no sockets, when a server does not answer within
// the options' RequestsTimeout: the error wraps ErrTimeout.
func (a *clusterNode) FetchSockets(ctx context.Context, sel rooms.Selection) ([]sockets.Info, error) {
	return a.fetchSockets(ctx, sel, cmFetchSockets, func(id string) error {
		return a.sendRequest(ctx, cmFetchSockets, map[string]any{"opts": toOutSel(&sel), "requestId": id})
	})
}

// AddSockets makes the selected sockets of every server join rooms, without waiting for
// the other servers to do it.
func (a *clusterNode) AddSockets(ctx context.Context, sel rooms.Selection, r ...rooms.Room) error {
	_ = a.local.AddSockets(ctx, sel, r...)
	if sel.Flags.Local || len(r) == 0 {
		return nil
	}
	return a.sendRequest(ctx, cmSocketsJoin, map[string]any{"opts": toOutSel(&sel), "rooms": fromRooms(r)})
}

// DelSockets makes the selected sockets of every server leave rooms, without waiting for the
// other servers to do it.
func (a *clusterNode) DelSockets(ctx context.Context, sel rooms.Selection, r ...rooms.Room) error {
	_ = a.local.DelSockets(ctx, sel, r...)
	if sel.Flags.Local || len(r) == 0 {
		return nil
	}
	return a.sendRequest(ctx, cmSocketsLeave, map[string]any{"opts": toOutSel(&sel), "rooms": fromRooms(r)})
}

// DisconnectSockets disconnects the selected sockets of every server, without waiting for
// the other servers to do it.
func (a *clusterNode) DisconnectSockets(ctx context.Context, sel rooms.Selection, closeConn bool) error {
	_ = a.local.DisconnectSockets(ctx, sel, closeConn)
	if sel.Flags.Local {
		return nil
	}
	return a.sendRequest(ctx, cmDisconnectSockets, map[string]any{"opts": toOutSel(&sel), "close": closeConn})
}

// onMessage handles a message of another server or of an emitter.
// offset is the ID of the stream entry that carried it, empty when it came by pub/sub.
func (a *clusterNode) onMessage(msg *clusterMsg, offset string) error {
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
		if a.deliver != nil {
			return a.deliver(p, sel, offset)
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
		return a.reply(msg.uid, cmFetchSocketsResponse, map[string]any{"requestId": *msg.requestID, "sockets": a.localWireSockets(sel)})
	case cmServerSideEmit:
		var reply func(parser.Arg)
		if msg.requestID != nil {
			id, uid := *msg.requestID, msg.uid
			reply = func(first parser.Arg) {
				if err := a.replyArg(uid, cmServerSideEmitResponse, id, first); err != nil {
					a.report(err)
				}
			}
		}
		return a.onServerSideEmit(msg.value, msg.valueAtts, reply != nil, reply)
	}
	// Heartbeats and ADAPTER_CLOSE belong to the adapters that count the servers by their
	// heartbeats; the sharded and streams adapters count the subscribers. Unknown types are ignored, as
	// the Node adapter does.
	return nil
}

func (a *clusterNode) onBroadcastRequest(msg *clusterMsg, p *parser.Packet, sel rooms.Selection) error {
	id, uid := *msg.requestID, msg.uid
	return a.onBroadcastWithAck(p, sel,
		func(n int) {
			if err := a.reply(uid, cmBroadcastClientCount, map[string]any{"requestId": id, "clientCount": n}); err != nil {
				a.report(err)
			}
		},
		func(_ rooms.SocketID, args parser.Args) {
			var first parser.Arg
			if len(args) > 0 {
				first = args[0]
			}
			if err := a.replyArg(uid, cmBroadcastAck, id, first); err != nil {
				a.report(err)
			}
		})
}

// onResponse takes the answer of another server to one of our requests.
func (a *clusterNode) onResponse(msg *clusterMsg) error {
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
