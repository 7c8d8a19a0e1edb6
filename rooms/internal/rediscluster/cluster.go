package rediscluster

import (
	"context"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
)

// Node is the cluster protocol of socket.io-adapter's ClusterAdapter, which the
// sharded adapter (NewSharded) and the streams adapter (NewStreams) speak: the handling of
// the other servers' messages and the requests of this one. The two differ in how messages
// travel; each passes in its own transport.
type Node struct {
	Core
	UID  string // the server's ID in the cluster
	Name string // the namespace's

	// SendRequest sends a message of type typ with data (a value for encoding/json) to every
	// server, and waits until Redis has it.
	SendRequest func(ctx context.Context, typ int, data any) error
	// SendResponse queues the answer of type typ with data to a request of server uid.
	SendResponse func(uid string, typ int, data any) error
	// SendResponseArg queues the answer of type typ to request id of server uid, carrying
	// arg with its binary values.
	SendResponseArg func(uid string, typ int, id string, arg parser.Arg) error
	// Deliver, when not nil, delivers a broadcast of another server to the local sockets;
	// offset is the ID of the stream entry that carried it. When nil, the local rooms do.
	Deliver func(p *parser.Packet, sel rooms.Selection, offset string) error
}

// reply answers a request of server uid; an answer to no server (an emitter's request) is
// not sent.
func (a *Node) reply(uid string, typ int, data any) error {
	if uid == "" {
		return nil
	}
	return a.SendResponse(uid, typ, data)
}

// replyArg answers request id of server uid with arg, unless uid is empty.
func (a *Node) replyArg(uid string, typ int, id string, arg parser.Arg) error {
	if uid == "" {
		return nil
	}
	return a.SendResponseArg(uid, typ, id, arg)
}

// FetchSockets describes the selected sockets of every server, unless sel.Flags.Local. It
// fails, returning no sockets, when a server does not answer within
// the options' RequestsTimeout: the error wraps ErrTimeout.
func (a *Node) FetchSockets(ctx context.Context, sel rooms.Selection) ([]sockets.Info, error) {
	return a.GatherSockets(ctx, sel, MsgFetchSockets, func(id string) error {
		return a.SendRequest(ctx, MsgFetchSockets, map[string]any{"opts": toOutSel(&sel), "requestId": id})
	})
}

// AddSockets makes the selected sockets of every server join rooms, without waiting for
// the other servers to do it.
func (a *Node) AddSockets(ctx context.Context, sel rooms.Selection, r ...rooms.Room) error {
	_ = a.Local.AddSockets(ctx, sel, r...)
	if sel.Flags.Local || len(r) == 0 {
		return nil
	}
	return a.SendRequest(ctx, cmSocketsJoin, map[string]any{"opts": toOutSel(&sel), "rooms": FromRooms(r)})
}

// DelSockets makes the selected sockets of every server leave rooms, without waiting for the
// other servers to do it.
func (a *Node) DelSockets(ctx context.Context, sel rooms.Selection, r ...rooms.Room) error {
	_ = a.Local.DelSockets(ctx, sel, r...)
	if sel.Flags.Local || len(r) == 0 {
		return nil
	}
	return a.SendRequest(ctx, cmSocketsLeave, map[string]any{"opts": toOutSel(&sel), "rooms": FromRooms(r)})
}

// DisconnectSockets disconnects the selected sockets of every server, without waiting for
// the other servers to do it.
func (a *Node) DisconnectSockets(ctx context.Context, sel rooms.Selection, closeConn bool) error {
	_ = a.Local.DisconnectSockets(ctx, sel, closeConn)
	if sel.Flags.Local {
		return nil
	}
	return a.SendRequest(ctx, cmDisconnectSockets, map[string]any{"opts": toOutSel(&sel), "close": closeConn})
}

// OnMessage handles a message of another server or of an emitter.
// offset is the ID of the stream entry that carried it, empty when it came by pub/sub.
func (a *Node) OnMessage(msg *ClusterMsg, offset string) error {
	if msg.UID == a.UID || msg.nsp != a.Name {
		return nil
	}
	if msg.isResponse() {
		return a.onResponse(msg)
	}
	sel := msg.Selection()
	sel.Flags.Local = true
	ctx := a.Ctx
	switch msg.Type {
	case MsgBroadcast:
		p := msg.Packet
		if p == nil || !p.Type.IsEvent() {
			return Malformed("broadcast without an event packet")
		}
		if _, err := parser.EventName(p.Data); err != nil {
			return Malformed("broadcast event: %v", err)
		}
		p.Namespace = a.Name
		if msg.RequestID != nil {
			return a.onBroadcastRequest(msg, p, sel)
		}
		if a.Deliver != nil {
			return a.Deliver(p, sel, offset)
		}
		return a.Local.Broadcast(p, sel)
	case cmSocketsJoin:
		return a.Local.AddSockets(ctx, sel, ToRooms(msg.rooms)...)
	case cmSocketsLeave:
		return a.Local.DelSockets(ctx, sel, ToRooms(msg.rooms)...)
	case cmDisconnectSockets:
		return a.Local.DisconnectSockets(ctx, sel, msg.close)
	case MsgFetchSockets:
		if msg.RequestID == nil {
			return Malformed("fetch request without a requestId")
		}
		return a.reply(msg.UID, cmFetchSocketsResponse, map[string]any{"requestId": *msg.RequestID, "sockets": a.LocalWireSockets(sel)})
	case MsgServerSideEmit:
		var reply func(parser.Arg)
		if msg.RequestID != nil {
			id, uid := *msg.RequestID, msg.UID
			reply = func(first parser.Arg) {
				if err := a.replyArg(uid, cmServerSideEmitResponse, id, first); err != nil {
					a.Report(err)
				}
			}
		}
		return a.OnServerSideEmit(msg.value, msg.valueAtts, reply != nil, reply)
	}
	// Heartbeats and ADAPTER_CLOSE belong to the adapters that count the servers by their
	// heartbeats; the sharded and streams adapters count the subscribers. Unknown types are ignored, as
	// the Node adapter does.
	return nil
}

func (a *Node) onBroadcastRequest(msg *ClusterMsg, p *parser.Packet, sel rooms.Selection) error {
	id, uid := *msg.RequestID, msg.UID
	return a.OnBroadcastWithAck(p, sel,
		func(n int) {
			if err := a.reply(uid, cmBroadcastClientCount, map[string]any{"requestId": id, "clientCount": n}); err != nil {
				a.Report(err)
			}
		},
		func(_ rooms.SocketID, args parser.Args) {
			var first parser.Arg
			if len(args) > 0 {
				first = args[0]
			}
			if err := a.replyArg(uid, cmBroadcastAck, id, first); err != nil {
				a.Report(err)
			}
		})
}

// onResponse takes the answer of another server to one of our requests.
func (a *Node) onResponse(msg *ClusterMsg) error {
	if msg.RequestID == nil {
		return nil
	}
	id := *msg.RequestID
	ar, p := a.Lookup(id)
	if ar != nil {
		switch msg.Type {
		case cmBroadcastClientCount:
			ar.AddCount(msg.clientCount)
		case cmBroadcastAck:
			arg, err := ArgOf(msg.value, msg.valueAtts)
			if err != nil {
				return err
			}
			ar.AddAck(arg)
		}
		return nil
	}
	if p == nil {
		return nil
	}
	switch {
	case p.Kind == MsgFetchSockets && msg.Type == cmFetchSocketsResponse:
		if msg.sockets == nil {
			return Malformed("fetch response without sockets")
		}
		sockets, err := FromWireSockets(msg.sockets)
		if err != nil {
			return err
		}
		a.Answer(id, p, sockets, parser.Arg{}, true)
	case p.Kind == MsgServerSideEmit && msg.Type == cmServerSideEmitResponse:
		arg, err := ArgOf(msg.value, msg.valueAtts)
		if err != nil {
			return err
		}
		a.Answer(id, p, nil, arg, false)
	}
	return nil
}
